import type { Kysely } from 'kysely';
import { columnType, createTable } from '../ddl.js';

/**
 * Alarm events waiting for the webhook: written when the alarm changes, removed from the queue once
 * delivered or given up, so that a daemon stopped (or killed) with events not yet sent sends them when it,
 * or the daemon that takes over, evaluates alarms again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTable(db, 'webhook_outbox')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // the JSON body as it is POSTed
    .addColumn('body', columnType.json, (c) => c.notNull())
    .addColumn('alarm_id', 'integer', (c) => c.notNull())
    .addColumn('event', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', columnType.timestamp, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    // null while waiting; set once delivered, or given up (then `error` says why)
    .addColumn('done_at', columnType.timestamp)
    .addColumn('outcome', 'varchar(16)')
    .addColumn('error', 'varchar(500)')
    .execute();
  await db.schema.createIndex('webhook_outbox_waiting_idx').on('webhook_outbox').columns(['done_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_outbox').execute();
}
