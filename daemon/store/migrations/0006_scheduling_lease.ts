import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/**
 * Several daemons on one store: `leases` holds the scheduling lease (row `scheduler`: which daemon
 * schedules, until when) and one presence row per running daemon (`daemon:<id>`), renewed while it runs;
 * `runs.owner` names the daemon that executes a run, so the scheduling daemon takes over only the runs of
 * daemons that are gone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTable(db, 'leases')
    .addColumn('name', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('holder', 'varchar(128)', (c) => c.notNull())
    // where the holder runs (boot and pid namespace), so a daemon on the same machine can tell it is gone
    .addColumn('machine', 'varchar(128)')
    .addColumn('pid', 'integer')
    .addColumn('expires_at', columnType.timestamp, (c) => c.notNull())
    // bumped on every write: an update always changes the row (MySQL counts changed rows only)
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('acquired_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('updated_at', columnType.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.alterTable('runs').addColumn('owner', 'varchar(128)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('owner').execute();
  await db.schema.dropTable('leases').execute();
}
