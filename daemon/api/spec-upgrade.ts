// Fields the model gained since a resource was stored come with defaults; stored specs are filled in with
// them once at start-up, so that GET, the engine and a `terraform plan` after an upgrade all see the same
// object a fresh PUT would store. Only additions are made: a stored value is never changed, and a spec the
// current rules refuse is left as it is (its next PUT reports why).
import { resources, validateSpec, type ResourceKind } from '../../model/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';

// Stands in for write-only fields (kept apart, encrypted) so that the spec parses; never stored.
const SECRET_STAND_IN = 'stand-in-for-a-stored-secret';

type Json = unknown;

/** The paths `after` adds to `before`, or undefined when it changes or removes anything. */
export function addedPaths(before: Json, after: Json, path = ''): string[] | undefined {
  const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const added: string[] = [];
    for (const key of Object.keys(before)) if (!(key in after)) return undefined;
    for (const [key, value] of Object.entries(after)) {
      const at = path ? `${path}.${key}` : key;
      if (!(key in before)) {
        added.push(at);
        continue;
      }
      const inner = addedPaths(before[key], value, at);
      if (inner === undefined) return undefined;
      added.push(...inner);
    }
    return added;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : undefined;
}

export async function fillNewDefaults(store: Store, log: Logger): Promise<number> {
  let filled = 0;
  for (const kind of Object.keys(resources) as ResourceKind[]) {
    const { plural: table, secrets } = resources[kind];
    for (const record of await store.resources.list(table as 'clusters')) {
      const input: Record<string, unknown> = { name: record.name, ...record.spec };
      for (const field of secrets) if (record.secrets[field]) input[field] = SECRET_STAND_IN;
      const result = validateSpec(kind, input);
      if (!result.ok) continue;
      const current: Record<string, unknown> = { ...(result.value as Record<string, unknown>) };
      delete current.name;
      delete current.version;
      for (const field of secrets) delete current[field];
      const added = addedPaths(record.spec, current);
      if (!added || added.length === 0) continue;
      // Same version: nothing the user declared changed. Another daemon doing the same is harmless.
      const updated = await store.resources.update(store.db, table as 'clusters', { ...record, spec: current }, record.version);
      if (updated) {
        filled += 1;
        log.info({ kind, name: record.name, fields: added }, `${kind} "${record.name}": stored with the defaults of fields added since (${added.join(', ')})`);
      }
    }
  }
  return filled;
}
