// Data sources: a cluster's backup overview (OCP's status page) and its backup sets.
import type { ObbackupClient } from '../client.js';
import { t } from '../cty/types.js';
import type { ObjectValue } from '../cty/values.js';
import { fromPlain } from '../framework/convert.js';
import { defineDataSource } from '../framework/definitions.js';
import { attr, objectTypeOf } from '../framework/schema.js';
import type { SchemaSpec } from '../framework/schema.js';
import { callApi } from './errors.js';

const runObject = t.object({ at: t.string, type: t.string });
const alarmObject = t.object({ name: t.string, severity: t.string, message: t.string, raised_at: t.string, policy: t.string, storage: t.string });

const statusSchema: SchemaSpec = {
  description: "A cluster's backup overview: schedule status, last backup, archive lag, running run, alarms, next runs.",
  attributes: {
    cluster: attr.string({ required: true, description: 'Cluster name.' }),
    policy: attr.string({ computed: true, description: "The cluster's policy, if any." }),
    schedule_status: attr.string({ computed: true, description: 'NONE, NORMAL, PAUSED, WAITING or ABNORMAL.' }),
    schedule_status_reason: attr.string({ computed: true, description: 'Why the schedule status is what it is.' }),
    ob_version: attr.string({ computed: true, description: 'OceanBase version detected.' }),
    reachable: attr.bool({ computed: true, description: 'Whether the daemon could reach the cluster at its last look.' }),
    last_data_backup_at: attr.string({ computed: true, description: 'When the last successful data backup finished.' }),
    log_backup_delay_seconds: attr.number({ computed: true, description: 'How far log archiving lags behind.' }),
    backup_size_bytes: attr.number({ computed: true, description: 'Size of the backups in storage.' }),
    running_run_id: attr.string({ computed: true, description: 'The run in progress, if any.' }),
    running_progress: attr.number({ computed: true, description: 'Progress of the run in progress, percent.' }),
    next_runs: attr.list(runObject, { computed: true, description: 'Upcoming scheduled runs.' }),
    alarms: attr.list(alarmObject, { computed: true, description: 'Active alarms.' }),
    json: attr.string({ computed: true, description: 'The whole status document as JSON.' }),
  },
};

export const clusterStatusDataSource = defineDataSource<ObbackupClient>({
  typeName: 'obbackup_cluster_status',
  schema: statusSchema,
  async read({ client, config, diagnostics, signal }) {
    const cluster = config.cluster as string;
    const status = await callApi(diagnostics, statusSchema, `Cannot read the status of cluster "${cluster}"`, () =>
      client.request<Record<string, unknown>>('GET', `/v1/clusters/${encodeURIComponent(cluster)}/status`, { signal }),
    );
    const running = (status.running ?? null) as Record<string, unknown> | null;
    const type = objectTypeOf(statusSchema.attributes);
    const state = fromPlain(type, {
      ...status,
      cluster,
      running_run_id: running?.id ?? null,
      running_progress: running?.progress ?? null,
      json: JSON.stringify(status),
    });
    return state as ObjectValue;
  },
});

const setObject = t.object({
  run_id: t.string,
  backup_set_id: t.string,
  type: t.string,
  started_at: t.string,
  finished_at: t.string,
  ob_job_id: t.string,
  output_bytes: t.number,
});

const setsSchema: SchemaSpec = {
  description: "A cluster's backup sets: its successful data backup runs, newest first (at most 500).",
  attributes: {
    cluster: attr.string({ required: true, description: 'Cluster name.' }),
    type: attr.string({ optional: true, description: 'Only "full" or only "incremental" backups.' }),
    backup_sets: attr.list(setObject, { computed: true, description: 'The backup sets.' }),
  },
};

export const backupSetsDataSource = defineDataSource<ObbackupClient>({
  typeName: 'obbackup_backup_sets',
  schema: setsSchema,
  validate({ config, diagnostics }) {
    if (typeof config.type === 'string' && config.type !== 'full' && config.type !== 'incremental')
      diagnostics.error('Invalid type', 'must be "full" or "incremental"', [{ attr: 'type' }]);
  },
  async read({ client, config, diagnostics, signal }) {
    const cluster = config.cluster as string;
    const wanted = typeof config.type === 'string' ? config.type : null;
    const query = new URLSearchParams({ cluster, kind: 'backup', state: 'succeeded', limit: '500' });
    if (wanted) query.set('type', wanted);
    const answer = await callApi(diagnostics, setsSchema, `Cannot list the backup sets of cluster "${cluster}"`, () =>
      client.request<{ items?: Record<string, unknown>[] }>('GET', `/v1/runs?${query}`, { signal }),
    );
    const sets = (answer.items ?? []).map((r) => ({
      run_id: r.id,
      backup_set_id: r.backup_set_id,
      type: r.type,
      started_at: r.started_at,
      finished_at: r.finished_at,
      ob_job_id: r.ob_job_id,
      output_bytes: r.output_bytes,
    }));
    return { cluster, type: wanted, backup_sets: fromPlain(t.list(setObject), sets) };
  },
});
