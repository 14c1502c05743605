import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/**
 * What the engine observes and remembers beside the declared resources: the last reachability check of
 * each cluster (with its detected version) and, per policy, when its schedule took effect and how far
 * applying it to the cluster got.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTable(db, 'cluster_observations')
    .addColumn('cluster', columnType.name, (c) => c.primaryKey())
    .addColumn('reachable', 'integer', (c) => c.notNull())
    .addColumn('ob_version', 'varchar(32)')
    .addColumn('major', 'integer')
    .addColumn('error', columnType.json)
    .addColumn('checked_at', columnType.timestamp, (c) => c.notNull())
    .execute();

  await createTable(db, 'policy_states')
    .addColumn('policy', columnType.name, (c) => c.primaryKey())
    .addColumn('cluster', columnType.name, (c) => c.notNull())
    .addColumn('effective_from', columnType.timestamp, (c) => c.notNull())
    .addColumn('schedule_key', columnType.json, (c) => c.notNull())
    .addColumn('apply_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('apply_error', columnType.json)
    .addColumn('applied_version', 'integer')
    .addColumn('applied', columnType.json)
    .addColumn('applied_at', columnType.timestamp)
    .addColumn('updated_at', columnType.timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['policy_states', 'cluster_observations']) await db.schema.dropTable(table).execute();
}
