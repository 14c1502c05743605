import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/**
 * Runs (scheduled or immediate backups, cleanups, secondary backups) and their steps. A scheduled run
 * is unique by (policy, kind, scheduled_at) and is written before any SQL reaches the cluster, so a
 * restart neither loses nor repeats it. Runs outlive their policy (history), hence no foreign keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTable(db, 'runs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('policy', columnType.name)
    .addColumn('cluster', columnType.name, (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)')
    .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
    .addColumn('scheduled_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('reason', columnType.json)
    .addColumn('progress', 'double precision')
    .addColumn('ob_version', 'varchar(32)')
    .addColumn('jobs', columnType.json)
    .addColumn('backup_set_id', 'bigint')
    .addColumn('input_bytes', 'bigint')
    .addColumn('output_bytes', 'bigint')
    .addColumn('error', columnType.json)
    .addColumn('error_code', 'integer')
    .addColumn('details', columnType.json)
    .addColumn('submitted_at', columnType.timestamp)
    .addColumn('started_at', columnType.timestamp)
    .addColumn('finished_at', columnType.timestamp)
    .addColumn('timed_out_at', columnType.timestamp)
    .addColumn('created_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('updated_at', columnType.timestamp, (c) => c.notNull())
    .addUniqueConstraint('runs_key_unique', ['policy', 'kind', 'scheduled_at'])
    .execute();
  await db.schema.createIndex('runs_cluster_idx').on('runs').columns(['cluster', 'id']).execute();
  await db.schema.createIndex('runs_state_idx').on('runs').columns(['state', 'id']).execute();

  await createTable(db, 'run_steps')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('message', columnType.json)
    .addColumn('started_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('finished_at', columnType.timestamp)
    .execute();
  await db.schema.createIndex('run_steps_run_idx').on('run_steps').columns(['run_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['run_steps', 'runs']) await db.schema.dropTable(table).execute();
}
