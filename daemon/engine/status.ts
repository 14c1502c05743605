// The OCP backup overview of one cluster (GET /v1/clusters/{name}/status) and the Prometheus text of
// the whole daemon (GET /metrics), both from the run table, the alarms and the last observations.
import { nextRuns, type Schedule } from '../../model/index.js';
import type { Alarm } from './alarms.js';
import { ALARM_NAMES } from './alarms.js';
import type { ArchiveHealth } from './health.js';
import type { NamedPolicy, OpsContext } from './ops-context.js';
import type { OpsEngine } from './ops.js';
import { RUN_KINDS, RUN_STATES, type Run } from './runs.js';

export const SCHEDULE_STATUSES = ['NONE', 'NORMAL', 'PAUSED', 'WAITING', 'ABNORMAL'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

export interface RunningRun {
  id: number;
  kind: Run['kind'];
  type: Run['type'];
  trigger: Run['trigger'];
  state: Run['state'];
  /** percent 0-100, when known */
  progress: number | null;
  ob_job_id: number | null;
  scheduled_at: string;
  started_at: string | null;
  /** the step under way and its last message */
  step: string | null;
}

export interface ClusterStatus {
  cluster: string;
  policy: string | null;
  schedule_status: ScheduleStatus;
  /** why the status is what it is, for a person */
  schedule_status_reason: string;
  ob_version: string | null;
  /** null until the daemon has read the cluster */
  reachable: boolean | null;
  /** why the last observation failed */
  error: string | null;
  observed_at: string | null;
  last_data_backup_at: string | null;
  last_data_backup: { run_id: number; type: Run['type']; finished_at: string | null } | null;
  log_backup_delay_seconds: number | null;
  log_backup_checkpoint_at: string | null;
  log_archive: ArchiveHealth[];
  backup_size_bytes: number | null;
  running: RunningRun | null;
  next_runs: Array<{ at: string; type: 'full' | 'incremental' }>;
  alarms: Alarm[];
}

function runningOf(run: Run): RunningRun {
  const step = [...run.steps].reverse().find((s) => s.state === 'running');
  return {
    id: run.id,
    kind: run.kind,
    type: run.type,
    trigger: run.trigger,
    state: run.state,
    progress: run.progress,
    ob_job_id: run.ob_job_id,
    scheduled_at: run.scheduled_at,
    started_at: run.started_at,
    step: step ? `${step.name}${step.message ? `: ${step.message}` : ''}` : null,
  };
}

const later = (a: string | null | undefined, b: string | null | undefined) => (!a ? (b ?? null) : !b ? a : a > b ? a : b);

export class StatusService {
  constructor(
    private readonly ctx: OpsContext,
    private readonly ops: OpsEngine,
  ) {}

  /** undefined when no such cluster is registered */
  async cluster(name: string): Promise<ClusterStatus | undefined> {
    const record = await this.ctx.store.resources.get('clusters', name);
    if (!record) return undefined;
    const policy = (await this.ops.policies()).find((p) => p.cluster === name);
    const now = this.ctx.clock.now();
    const active = await this.ctx.runs.active({ cluster: name });
    // read the cluster now: a person asking wants what is, not what was a minute ago
    const health = await this.ops.health.observeCluster(name);

    const runningBrief = active.find((r) => r.state === 'running' && r.kind === 'backup') ?? active.find((r) => r.state === 'running') ?? active[0];
    const running = runningBrief ? await this.ctx.runs.get(runningBrief.id) : undefined;
    const lastOk = await this.ctx.runs.lastSucceeded({ cluster: name, kind: 'backup' });
    const alarms = (await this.ops.alarms.active()).filter((a) => a.cluster === name || (policy && a.policy === policy.name) || (a.storage !== null && policy && [policy.storage, policy.secondary.storage].includes(a.storage)));

    const status: ClusterStatus = {
      cluster: name,
      policy: policy?.name ?? null,
      schedule_status: 'NONE',
      schedule_status_reason: '',
      ob_version: health.ob_version,
      reachable: health.reachable,
      error: health.error,
      observed_at: health.observed_at,
      last_data_backup_at: later(lastOk?.finished_at, health.last_backup_set_at),
      last_data_backup: lastOk ? { run_id: lastOk.id, type: lastOk.type, finished_at: lastOk.finished_at } : null,
      log_backup_delay_seconds: health.log_backup_delay_seconds,
      log_backup_checkpoint_at: health.log_backup_checkpoint_at,
      log_archive: health.archive,
      backup_size_bytes: health.backup_size_bytes,
      running: running ? runningOf(running) : null,
      next_runs: policy && !policy.paused ? nextRuns(policy.schedule as Schedule, now, 5).map((r) => ({ at: r.at.toISOString(), type: r.type })) : [],
      alarms,
    };
    const applied = policy
      ? await this.ctx.store.db.selectFrom('policy_states').select(['apply_state', 'apply_error']).where('policy', '=', policy.name).executeTakeFirst()
      : undefined;
    [status.schedule_status, status.schedule_status_reason] = scheduleStatus(policy, status, active, applied);
    return status;
  }
}

/** OCP's backupScheduleStatus, with the reason. */
export function scheduleStatus(
  policy: NamedPolicy | undefined,
  s: ClusterStatus,
  active: Run[],
  applied?: { apply_state: string; apply_error: string | null },
): [ScheduleStatus, string] {
  if (!policy) return ['NONE', 'the cluster has no backup policy'];
  if (policy.paused) return ['PAUSED', `policy "${policy.name}" is paused`];
  if (applied && (applied.apply_state === 'failed' || applied.apply_state === 'refused')) {
    return ['ABNORMAL', `policy "${policy.name}" could not be applied to the cluster: ${applied.apply_error ?? applied.apply_state}`];
  }
  if (s.reachable === false) return ['ABNORMAL', `the cluster cannot be read: ${s.error ?? 'see the daemon log'}`];
  const critical = s.alarms.find((a) => a.severity === 'critical');
  if (critical) return ['ABNORMAL', `alarm ${critical.name}: ${critical.message}`];
  const waiting = active.find((r) => r.state === 'waiting');
  if (waiting) return ['WAITING', `run ${waiting.id} waits: ${waiting.reason ?? 'another data backup of the cluster is running'}`];
  if (!s.last_data_backup_at && !s.running) return ['WAITING', s.next_runs[0] ? `waiting for the first data backup at ${s.next_runs[0].at}` : 'waiting for the first data backup'];
  return ['NORMAL', 'backups run on schedule'];
}

// ------------------------------------------------------------------------------------------------ metrics

/** Prometheus label value escaping (text format 0.0.4). */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class MetricsText {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter', help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Record<string, string | null | undefined>, value: number): this {
    const pairs = Object.entries(labels)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}="${label(v!)}"`);
    this.lines.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const seconds = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() / 1000 : undefined);

export async function metricsText(ctx: OpsContext, ops: OpsEngine, webhook?: { delivered: number; failed: number; pending: number }): Promise<string> {
  const m = new MetricsText();
  const policies = await ops.policies();
  const facts = await ops.runFacts();

  m.family('obbackup_policies', 'gauge', 'Backup policies declared');
  m.sample('obbackup_policies', {}, policies.length);

  m.family('obbackup_last_successful_data_backup_timestamp_seconds', 'gauge', 'End of the last successful data backup run of the policy (Unix time)');
  for (const p of policies) {
    const at = facts.get(p.name)?.lastSuccessfulBackupAt;
    if (at) m.sample('obbackup_last_successful_data_backup_timestamp_seconds', { policy: p.name, cluster: p.cluster }, at.getTime() / 1000);
  }

  m.family('obbackup_policy_paused', 'gauge', '1 when the policy is paused');
  for (const p of policies) m.sample('obbackup_policy_paused', { policy: p.name, cluster: p.cluster }, p.paused ? 1 : 0);

  const clusters = [...ops.health.clusters.values()];
  const perCluster = (name: string, help: string, value: (h: (typeof clusters)[number]) => number | null | undefined) => {
    m.family(name, 'gauge', help);
    for (const h of clusters) {
      const v = value(h);
      if (v !== null && v !== undefined) m.sample(name, { cluster: h.cluster }, v);
    }
  };
  perCluster('obbackup_cluster_reachable', '1 when the cluster answered the last observation', (h) => (h.reachable ? 1 : 0));
  perCluster('obbackup_log_backup_delay_seconds', 'Log archive delay of the cluster (largest among its tenants)', (h) => h.log_backup_delay_seconds);
  perCluster('obbackup_log_backup_checkpoint_timestamp_seconds', 'Oldest log archive checkpoint of the cluster (Unix time)', (h) => seconds(h.log_backup_checkpoint_at));
  perCluster('obbackup_backup_size_bytes', 'Bytes of the successful backup sets still available at the primary destination', (h) => h.backup_size_bytes);

  m.family('obbackup_storage_used_percent', 'gauge', 'Usage of the storage as last read (file: the filesystem)');
  m.family('obbackup_storage_used_bytes', 'gauge', 'Bytes under the storage path as last read');
  for (const s of ops.health.storages.values()) {
    if (s.used_percent !== null) m.sample('obbackup_storage_used_percent', { storage: s.storage }, s.used_percent);
    if (s.used_bytes !== null) m.sample('obbackup_storage_used_bytes', { storage: s.storage }, s.used_bytes);
  }

  const alarms = await ops.alarms.active();
  m.family('obbackup_alarm_active', 'gauge', '1 for each active alarm');
  for (const a of alarms) m.sample('obbackup_alarm_active', { alarm: a.name, severity: a.severity, cluster: a.cluster, policy: a.policy, storage: a.storage }, 1);
  m.family('obbackup_alarms_active', 'gauge', 'Active alarms by name');
  for (const name of ALARM_NAMES) m.sample('obbackup_alarms_active', { alarm: name }, alarms.filter((a) => a.name === name).length);

  const counts = await ctx.store.db.selectFrom('runs').select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['kind', 'state']).execute();
  m.family('obbackup_runs', 'gauge', 'Runs recorded, by kind and state');
  for (const kind of RUN_KINDS) {
    for (const state of RUN_STATES) {
      const n = counts.find((c) => c.kind === kind && c.state === state)?.n ?? 0;
      m.sample('obbackup_runs', { kind, state }, Number(n));
    }
  }

  const running = await ctx.runs.active();
  m.family('obbackup_run_progress_percent', 'gauge', 'Progress of the runs under way');
  for (const r of running.filter((x) => x.state === 'running')) m.sample('obbackup_run_progress_percent', { run: String(r.id), kind: r.kind, cluster: r.cluster, policy: r.policy }, r.progress ?? 0);

  if (webhook) {
    m.family('obbackup_webhook_events_total', 'counter', 'Alarm events sent to the webhook, by outcome');
    m.sample('obbackup_webhook_events_total', { outcome: 'delivered' }, webhook.delivered);
    m.sample('obbackup_webhook_events_total', { outcome: 'failed' }, webhook.failed);
    m.family('obbackup_webhook_events_pending', 'gauge', 'Alarm events waiting to be sent');
    m.sample('obbackup_webhook_events_pending', {}, webhook.pending);
  }
  return m.toString();
}
