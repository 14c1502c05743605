// obbackup_backup: "backup now". Creating one runs the daemon's pre-checks and starts a backup; a change of
// cluster, type or triggers starts a new one. Destroying it only forgets it: backup sets stay in storage
// until the policy's cleanup expires them.
import { validateBackupRequest } from '../../model/index.js';
import type { ObbackupClient } from '../client.js';
import { ApiError } from '../client.js';
import { t } from '../cty/types.js';
import { Unknown } from '../cty/values.js';
import type { ObjectValue } from '../cty/values.js';
import { toPlain } from '../framework/convert.js';
import { DiagnosticError, path } from '../framework/diagnostics.js';
import { defineResource } from '../framework/definitions.js';
import type { ApplyContext } from '../framework/definitions.js';
import { attr } from '../framework/schema.js';
import type { SchemaSpec } from '../framework/schema.js';
import { callApi } from './errors.js';

// Run states (GET /v1/runs/{id}): pending, waiting, running, then one of these.
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'skipped', 'missed']);
const SUCCESS = new Set(['succeeded']);
/** Between polls of a run while waiting. */
export const WAIT_POLL_MS = Number(process.env.OBBACKUP_WAIT_POLL_MS) || 2_000;

const schema: SchemaSpec = {
  version: 0,
  description: 'Backup now: starts a data backup of a cluster after the pre-checks pass.',
  attributes: {
    cluster: attr.string({ required: true, requiresReplace: true, description: 'Name of the obbackup_cluster to back up.' }),
    type: attr.string({ optional: true, computed: true, requiresReplace: true, default: 'full', description: '"full" (default) or "incremental".' }),
    wait: attr.bool({ optional: true, description: 'Wait until the backup finishes (fails the apply if the backup fails).' }),
    triggers: attr.map(t.string, { optional: true, requiresReplace: true, description: 'Any change of these values starts a new backup.' }),
    id: attr.string({ computed: true, description: 'The run ID. Import ID.' }),
    state: attr.string({ computed: true, description: 'Run state as last read: pending, waiting, running, succeeded, failed, canceled, skipped.' }),
    backup_set_id: attr.string({ computed: true, description: 'OceanBase backup set ID, once the backup succeeded.' }),
    ob_job_id: attr.string({ computed: true, description: 'OceanBase backup job ID, once known.' }),
    started_at: attr.string({ computed: true, description: 'When the run started.' }),
    finished_at: attr.string({ computed: true, description: 'When the run finished.' }),
    error: attr.string({ computed: true, description: 'Why the run failed, if it did.' }),
  },
};

type Run = Record<string, unknown>;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function runState(base: ObjectValue, run: Run): ObjectValue {
  return {
    ...base,
    id: text(run.id),
    state: text(run.state),
    backup_set_id: text(run.backup_set_id),
    ob_job_id: text(run.ob_job_id),
    started_at: text(run.started_at),
    finished_at: text(run.finished_at),
    error: text(typeof run.error === 'object' && run.error !== null ? (run.error as { message?: unknown }).message : run.error),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function waitForRun(ctx: ApplyContext<ObbackupClient>, id: string): Promise<Run> {
  for (;;) {
    const run = await callApi(ctx.diagnostics, schema, 'Cannot follow the backup run', () =>
      ctx.client.request<Run>('GET', `/v1/runs/${encodeURIComponent(id)}`, { signal: ctx.signal }),
    );
    if (TERMINAL.has(String(run.state))) return run;
    await sleep(WAIT_POLL_MS, ctx.signal);
  }
}

export const backupResource = defineResource<ObbackupClient>({
  typeName: 'obbackup_backup',
  schema,

  validate({ config, diagnostics }) {
    if (config.type instanceof Unknown) return;
    const result = validateBackupRequest(config.type === null ? {} : { type: toPlain(config.type) });
    if (!result.ok) for (const issue of result.issues) diagnostics.error(`Invalid ${issue.path || 'backup'}`, issue.message, issue.path ? path(issue.path) : undefined);
  },

  async create(ctx) {
    const cluster = ctx.planned.cluster as string;
    const type = (ctx.planned.type as string | null) ?? 'full';
    const answer = await callApi(ctx.diagnostics, schema, `Cannot back up cluster "${cluster}"`, () =>
      ctx.client.request<Run>('POST', `/v1/clusters/${encodeURIComponent(cluster)}/backups`, { body: { type }, signal: ctx.signal }),
    );
    let run = answer as Run;
    if (ctx.planned.wait === true && run.id !== undefined) {
      run = await waitForRun(ctx, String(run.id));
      const state = String(run.state);
      if (!SUCCESS.has(state)) {
        // The run exists: record it (Terraform marks it tainted, so the next apply starts a new backup).
        ctx.diagnostics.error(`Backup of cluster "${cluster}" ${state}`, text(runState({}, run).error) ?? `run ${run.id} ended ${state}`);
      }
    }
    return runState(ctx.planned, run);
  },

  async update(ctx) {
    // Only `wait` can change in place; the run itself stays.
    return { ...ctx.planned, ...pick(ctx.prior!, ['id', 'state', 'backup_set_id', 'ob_job_id', 'started_at', 'finished_at', 'error']) };
  },

  async read(ctx) {
    const id = ctx.state.id;
    if (typeof id !== 'string') return null;
    try {
      const run = await ctx.client.request<Run>('GET', `/v1/runs/${encodeURIComponent(id)}`, { signal: ctx.signal });
      const state = runState(ctx.state, run);
      if (typeof run.cluster === 'string') state.cluster = run.cluster;
      if (typeof run.type === 'string' && (run.type === 'full' || run.type === 'incremental')) state.type = run.type;
      return state;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      return callApi(ctx.diagnostics, schema, `Cannot read backup run "${id}"`, () => Promise.reject(e));
    }
  },

  async delete() {
    // Nothing to delete: the backup taken stays until cleanup expires it.
  },

  importState({ id }) {
    if (!/^\d+$/.test(id.trim())) throw new DiagnosticError('Invalid import ID', `Import an obbackup_backup by its run ID (a number), got "${id}".`);
    return { id };
  },
});

function pick(obj: ObjectValue, keys: string[]): ObjectValue {
  return Object.fromEntries(keys.map((k) => [k, obj[k] ?? null]));
}
