import { ClusterCheckError } from '../engine/index.js';
import { ApiError, conflict } from './errors.js';
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
  // Registering or changing a cluster connects to it first: an unreachable one is refused at once.
  async validate({ engine }, name, spec) {
    try {
      await engine?.verifyCluster(name, spec);
    } catch (err) {
      if (!(err instanceof ClusterCheckError)) throw err;
      throw new ApiError(422, 'precheck_failed', `cluster "${name}" cannot be registered: ${err.message}`, [{ path: err.field, message: err.message }]);
    }
  },
  async afterPut({ engine }, name) {
    await engine?.clusterPut(name);
  },
  async afterDelete({ engine }, name) {
    await engine?.clusterDeleted(name);
  },
});
