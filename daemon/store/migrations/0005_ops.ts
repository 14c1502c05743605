import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/**
 * Alarms (one row per occurrence: raised, then resolved) and the copies the daemon made for 4.x
 * secondary backup (what is on the secondary storage, for its retention and for status).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTable(db, 'alarms')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    // what the alarm is about: `name:policy` or `name:storage:x`; one active row per key at most
    .addColumn('alarm_key', 'varchar(200)', (c) => c.notNull())
    // equals alarm_key while active, null once resolved: the unique index allows one active row per key
    .addColumn('active_key', 'varchar(200)')
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    .addColumn('cluster', columnType.name)
    .addColumn('policy', columnType.name)
    .addColumn('storage', columnType.name)
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('message', columnType.json, (c) => c.notNull())
    .addColumn('details', columnType.json)
    .addColumn('raised_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('resolved_at', columnType.timestamp)
    .addColumn('updated_at', columnType.timestamp, (c) => c.notNull())
    .addUniqueConstraint('alarms_active_unique', ['active_key'])
    .execute();
  await db.schema.createIndex('alarms_state_idx').on('alarms').columns(['state', 'id']).execute();
  await db.schema.createIndex('alarms_cluster_idx').on('alarms').columns(['cluster', 'id']).execute();

  await createTable(db, 'secondary_copies')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('policy', columnType.name, (c) => c.notNull())
    .addColumn('cluster', columnType.name, (c) => c.notNull())
    .addColumn('target_storage', columnType.name, (c) => c.notNull())
    // 4.x tenant name; '' for a cluster-level object
    .addColumn('tenant', columnType.name, (c) => c.notNull())
    .addColumn('object', 'varchar(16)', (c) => c.notNull())
    .addColumn('object_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('backup_type', 'varchar(16)')
    .addColumn('prev_full_id', 'bigint')
    .addColumn('prev_inc_id', 'bigint')
    .addColumn('object_started_at', columnType.timestamp)
    .addColumn('object_ended_at', columnType.timestamp)
    // JSON list of the key prefixes the object occupies, relative to the storage root (same on both sides)
    .addColumn('prefixes', columnType.json, (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('copied_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('deleted_at', columnType.timestamp)
    .addColumn('deleted_run_id', 'integer')
    .addUniqueConstraint('secondary_copies_unique', ['policy', 'target_storage', 'tenant', 'object', 'object_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['secondary_copies', 'alarms']) await db.schema.dropTable(table).execute();
}
