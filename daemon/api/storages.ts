import { conflict } from './errors.js';
import { describePolicies, resourceRoutes } from './resources.js';

/** /v1/storages: backup destinations; a storage used by a policy (primary or secondary) cannot be deleted. */
export const storageRoutes = resourceRoutes({
  kind: 'storage',
  table: 'storages',
  async beforeDelete({ store, trx }, name) {
    const users = await store.resources.policiesUsing(trx, 'storage', name, true);
    if (users.length > 0) {
      throw conflict(`storage "${name}" is used by ${describePolicies(users)}; change or delete that policy first`);
    }
  },
});
