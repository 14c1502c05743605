import type { Issue } from '../../model/index.js';
import { logicalNotAvailable } from '../engine/apply.js';
import { conflict } from './errors.js';
import { resourceRoutes } from './resources.js';

/**
 * /v1/policies: a policy names an existing cluster, storage and (when given) secondary storage, and a
 * cluster has at most one policy.
 */
export const policyRoutes = resourceRoutes({
  kind: 'policy',
  table: 'policies',
  indexedColumns: (spec) => ({ cluster: spec.cluster, storage: spec.storage, secondary_storage: spec.secondary.storage ?? null }),
  async beforePut({ store, trx }, name, spec) {
    const missing: Issue[] = [];
    // Locked reads keep the referenced rows from being deleted before this transaction commits.
    if (!(await store.resources.exists(trx, 'clusters', spec.cluster, true))) {
      missing.push({ path: 'cluster', message: `cluster "${spec.cluster}" does not exist` });
    }
    if (!(await store.resources.exists(trx, 'storages', spec.storage, true))) {
      missing.push({ path: 'storage', message: `storage "${spec.storage}" does not exist` });
    }
    const secondary = spec.secondary.storage;
    if (secondary !== undefined && !(await store.resources.exists(trx, 'storages', secondary, true))) {
      missing.push({ path: 'secondary.storage', message: `storage "${secondary}" does not exist` });
    }
    if (missing.length > 0) {
      throw conflict(`policy "${name}" refers to ${missing.map((m) => m.message.replace(/ does not exist$/, '')).join(' and ')}, which must exist first`, missing);
    }
    const others = (await store.resources.policiesUsing(trx, 'cluster', spec.cluster, true)).filter((p) => p !== name);
    if (others.length > 0) {
      throw conflict(`cluster "${spec.cluster}" already has policy "${others[0]}"; a cluster has one policy: change that one or delete it first`, [
        { path: 'cluster', message: `cluster "${spec.cluster}" already has policy "${others[0]}"` },
      ]);
    }
  },
  // Logical backup is a later capability: refuse it plainly rather than pretend to run it.
  async validate(_ctx, name, spec) {
    if (spec.mode === 'logical') throw conflict(logicalNotAvailable(name), [{ path: 'mode', message: 'logical backup is not available yet' }]);
  },
  async afterPut({ engine }, name) {
    await engine?.policyPut(name);
  },
  async afterDelete({ engine }, name, record) {
    await engine?.policyDeleted(name, (record.spec as { cluster: string }).cluster);
  },
});
