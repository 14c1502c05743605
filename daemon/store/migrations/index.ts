import type { Migration } from 'kysely';
import * as resources from './0001_resources.js';
import * as runs from './0002_runs.js';
import * as engineState from './0003_engine_state.js';
import * as ops from './0005_ops.js';
import * as schedulingLease from './0006_scheduling_lease.js';
import * as webhookOutbox from './0007_webhook_outbox.js';

/**
 * Every migration, applied in name order on both stores. To add tables, write `NNNN_what.ts` next to
 * this file (same DDL helpers from ../ddl.js) and add one line here; never edit an applied migration.
 */
export const migrations: Record<string, Migration> = {
  '0001_resources': resources,
  '0002_runs': runs,
  '0003_engine_state': engineState,
  '0005_ops': ops,
  '0006_scheduling_lease': schedulingLease,
  '0007_webhook_outbox': webhookOutbox,
};
