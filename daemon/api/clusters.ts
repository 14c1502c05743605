import { conflict } from './errors.js';
import { describePolicies, resourceRoutes } from './resources.js';

/** /v1/clusters: registrations of OceanBase clusters; a cluster used by a policy cannot be deleted. */
export const clusterRoutes = resourceRoutes({
  kind: 'cluster',
  table: 'clusters',
  async beforeDelete({ store, trx }, name) {
    const users = await store.resources.policiesUsing(trx, 'cluster', name, true);
    if (users.length > 0) {
      throw conflict(`cluster "${name}" is used by ${describePolicies(users)}; delete that policy first`);
    }
  },
});
