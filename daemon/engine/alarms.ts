// Alarms, evaluated every minute: what OCP raises for backups (reference §7, anchors §1.3), computed
// from the run table, the clusters' archive views and the storages' usage. Each alarm is one row per
// occurrence: raised once when its condition starts, resolved when it clears; never raised twice while
// active (a unique key on the active rows). Events go to an optional webhook, which never blocks this.
import type { Kysely } from 'kysely';
import { toIso } from './clock.js';
import type { ClusterHealth, StorageHealth } from './health.js';
import type { NamedPolicy } from './ops-context.js';
import type { Run } from './runs.js';
import { classifyStoreError } from '../store/errors.js';
import type { AlarmRow, Database } from '../store/schema.js';

export const ALARM_NAMES = [
  'data_backup_failed',
  'data_backup_timeout',
  'log_backup_delay',
  'no_successful_data_backup',
  'storage_usage_over_threshold',
  'secondary_backup_failed',
  'log_archive_interrupted',
] as const;
export type AlarmName = (typeof ALARM_NAMES)[number];

/** The OCP alarm each one corresponds to (OCP alarm reference), for people coming from OCP. */
export const OCP_ALARM: Record<AlarmName, string | null> = {
  data_backup_failed: 'base_backup_fail',
  data_backup_timeout: 'base_backup_timeout',
  log_backup_delay: 'inc_backup_delay',
  no_successful_data_backup: 'base_backup_too_long_time_no_one_success_task',
  storage_usage_over_threshold: 'backup_storage_capacity_over_threshold',
  secondary_backup_failed: 'base_secondary_backup_fail',
  log_archive_interrupted: null,
};

export type Severity = 'critical' | 'warning';

const SEVERITY: Record<AlarmName, Severity> = {
  data_backup_failed: 'critical',
  data_backup_timeout: 'warning',
  log_backup_delay: 'warning',
  no_successful_data_backup: 'critical',
  storage_usage_over_threshold: 'warning',
  secondary_backup_failed: 'warning',
  log_archive_interrupted: 'critical',
};

/** What one evaluation says of one alarm key: firing, clear, or unknown (its input could not be read: leave it be). */
export interface Condition {
  key: string;
  name: AlarmName;
  state: 'firing' | 'clear' | 'unknown';
  cluster?: string;
  policy?: string;
  storage?: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The fields of a run the evaluation reads. */
export type RunSummary = Pick<Run, 'id' | 'policy' | 'type' | 'state' | 'error' | 'error_code' | 'progress' | 'scheduled_at' | 'started_at' | 'finished_at' | 'timed_out_at'>;

/** What the run table says of a policy, as the evaluation needs it. */
export interface PolicyRunFacts {
  /** the newest data backup that ended (succeeded, failed or canceled) */
  lastFinishedBackup?: RunSummary;
  /** data backups pending, waiting or running */
  activeBackups: RunSummary[];
  lastSuccessfulBackupAt?: Date;
  lastFinishedSecondary?: RunSummary;
}

export interface EvaluationInput {
  now: Date;
  policies: NamedPolicy[];
  runs: Map<string, PolicyRunFacts>;
  clusters: Map<string, ClusterHealth>;
  storages: Map<string, StorageHealth>;
}

const DAY_S = 86_400;

function ago(now: Date, at: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (s >= DAY_S) return `${(s / DAY_S).toFixed(1)} days`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} hours`;
  if (s >= 60) return `${Math.round(s / 60)} minutes`;
  return `${s} seconds`;
}

function describeUsers(users: string[]): string {
  const named = users.slice(0, 5).map((u) => `policy "${u}"`).join(', ');
  return users.length > 5 ? `${named} and ${users.length - 5} more` : named;
}

/**
 * Every alarm condition for the current state of things. Pure: the same input, the same answer.
 * With `active` (the keys of the alarms active now), a condition that is clear or unknown is returned
 * only for an active key: with thousands of policies, the healthy majority costs no objects.
 */
const NO_FACTS: PolicyRunFacts = { activeBackups: [] };

/** `name:policy` (or `storage_usage_over_threshold:storage:NAME`): one key per thing an alarm is about. */
export const alarmKey = (name: AlarmName, subject: string) => `${name}:${subject}`;

export function evaluateAlarms(input: EvaluationInput, active?: ReadonlySet<string>): Condition[] {
  const { now } = input;
  const nowMs = now.getTime();
  const out: Condition[] = [];
  const storageUsers = new Map<string, string[]>();
  // the active alarms by subject, so the healthy majority costs neither a key string nor an object
  const activeBySubject = new Map<string, Set<string>>();
  for (const key of active ?? []) {
    const at = key.indexOf(':');
    const subject = key.slice(at + 1);
    let names = activeBySubject.get(subject);
    if (!names) activeBySubject.set(subject, (names = new Set()));
    names.add(key.slice(0, at));
  }
  const emit = (
    subject: string,
    name: AlarmName,
    state: Condition['state'],
    where: { cluster?: string; policy?: string; storage?: string },
    describe: () => { message: string; details?: Record<string, unknown> },
  ) => {
    if (state !== 'firing' && active && !activeBySubject.get(subject)?.has(name)) return;
    out.push({ key: alarmKey(name, subject), name, state, ...where, ...describe() });
  };
  for (const p of input.policies) {
    const facts = input.runs.get(p.name) ?? NO_FACTS;
    const where = { cluster: p.cluster, policy: p.name };
    const subject = p.name;

    const last = facts.lastFinishedBackup;
    const failed = last?.state === 'failed' ? 'firing' : 'clear';
    emit(subject, 'data_backup_failed', failed, where, () =>
      last?.state === 'failed'
        ? {
            message: `data backup run ${last.id}${last.type ? ` (${last.type})` : ''} of cluster "${p.cluster}" failed: ${last.error ?? 'no error text'}`,
            details: { run_id: last.id, type: last.type, error: last.error, error_code: last.error_code, finished_at: last.finished_at },
          }
        : { message: last ? `data backup run ${last.id} ${last.state}` : 'no data backup has ended yet' },
    );

    const limitMs = p.alarms.data_backup_timeout_minutes * 60_000;
    const late = facts.activeBackups.length === 0 ? undefined : facts.activeBackups.find((r) => r.state === 'running' && (r.timed_out_at !== null || (r.started_at !== null && nowMs - Date.parse(r.started_at) > limitMs)));
    emit(subject, 'data_backup_timeout', late ? 'firing' : 'clear', where, () =>
      late
        ? {
            message: `data backup run ${late.id} of cluster "${p.cluster}" has been running for ${ago(now, new Date(late.started_at ?? late.scheduled_at))}, longer than ${p.alarms.data_backup_timeout_minutes} minutes`,
            details: { run_id: late.id, started_at: late.started_at, threshold_minutes: p.alarms.data_backup_timeout_minutes, progress: late.progress },
          }
        : { message: 'no data backup is running past its time limit' },
    );

    const sinceMs = facts.lastSuccessfulBackupAt?.getTime() ?? Date.parse(p.created_at);
    const stale = nowMs - sinceMs > p.alarms.no_successful_backup_days * DAY_S * 1000;
    emit(subject, 'no_successful_data_backup', stale ? 'firing' : 'clear', where, () => {
      const since = new Date(sinceMs);
      return {
        message: stale
          ? facts.lastSuccessfulBackupAt
            ? `no successful data backup of cluster "${p.cluster}" for ${ago(now, since)} (last at ${since.toISOString()}; threshold ${p.alarms.no_successful_backup_days} days)`
            : `no successful data backup of cluster "${p.cluster}" since the policy was created ${ago(now, since)} ago (threshold ${p.alarms.no_successful_backup_days} days)`
          : `last successful data backup ${facts.lastSuccessfulBackupAt ? `at ${since.toISOString()}` : 'none yet, policy is recent'}`,
        details: { last_success_at: facts.lastSuccessfulBackupAt?.toISOString() ?? null, threshold_days: p.alarms.no_successful_backup_days },
      };
    });

    const health = input.clusters.get(p.cluster);
    if (p.mode === 'physical') {
      if (!health || !health.reachable) {
        const why = health?.error ?? 'not observed yet';
        emit(subject, 'log_backup_delay', 'unknown', where, () => ({ message: why }));
        emit(subject, 'log_archive_interrupted', 'unknown', where, () => ({ message: why }));
      } else {
        const threshold = p.alarms.log_backup_delay_seconds;
        const delayed = health.archive.filter((a) => a.lag_seconds !== null && a.lag_seconds > threshold);
        emit(subject, 'log_backup_delay', delayed.length > 0 ? 'firing' : 'clear', where, () => ({
          message:
            delayed.length > 0
              ? `log backup of cluster "${p.cluster}" is delayed by ${Math.round(Math.max(...delayed.map((a) => a.lag_seconds!)))} seconds (threshold ${threshold}); tenants: ${delayed.map((a) => a.tenant ?? 'cluster').join(', ')}`
              : `log backup delay ${health.log_backup_delay_seconds === null ? 'unknown' : `${Math.round(health.log_backup_delay_seconds)} s`} within ${threshold} s`,
          details: { threshold_seconds: threshold, tenants: delayed.map((a) => ({ tenant: a.tenant, lag_seconds: a.lag_seconds, checkpoint_at: a.checkpoint_at, state: a.state })) },
        }));
        const broken = health.archive.filter((a) => a.state === 'INTERRUPTED');
        emit(subject, 'log_archive_interrupted', broken.length > 0 ? 'firing' : 'clear', where, () => ({
          message:
            broken.length > 0
              ? `log archive of cluster "${p.cluster}" is INTERRUPTED for ${broken.map((a) => a.tenant ?? 'the cluster').join(', ')}${broken[0]!.comment ? `: ${broken[0]!.comment}` : ''} (fix: NOARCHIVELOG, then ARCHIVELOG)`
              : 'log archive is not interrupted',
          details: { tenants: broken.map((a) => ({ tenant: a.tenant, comment: a.comment })) },
        }));
      }
    }

    if (p.secondary.enabled) {
      const sec = facts.lastFinishedSecondary;
      const secState = sec?.state === 'failed' ? 'firing' : 'clear';
      emit(subject, 'secondary_backup_failed', secState, where, () =>
        sec?.state === 'failed'
          ? {
              message: `secondary backup run ${sec.id} of cluster "${p.cluster}" to storage "${p.secondary.storage}" failed: ${sec.error ?? 'no error text'}`,
              details: { run_id: sec.id, error: sec.error, error_code: sec.error_code, finished_at: sec.finished_at },
            }
          : { message: sec ? `secondary backup run ${sec.id} ${sec.state}` : 'no secondary backup has ended yet' },
      );
    }
    for (const s of [p.storage, p.secondary.enabled ? p.secondary.storage : undefined]) {
      if (!s) continue;
      const users = storageUsers.get(s);
      if (users) users.push(p.name);
      else storageUsers.set(s, [p.name]);
    }
  }

  for (const [storage, users] of storageUsers) {
    const usage = input.storages.get(storage);
    if (!usage || usage.used_percent === null) {
      emit(`storage:${storage}`, 'storage_usage_over_threshold', 'unknown', { storage }, () => ({ message: usage?.error ?? 'usage not known (an OSS storage reports no capacity)' }));
      continue;
    }
    const over = usage.used_percent >= usage.threshold_percent;
    emit(`storage:${storage}`, 'storage_usage_over_threshold', over ? 'firing' : 'clear', { storage }, () => ({
      message: over
        ? `storage "${storage}" is ${usage.used_percent}% full, at or over its alarm threshold of ${usage.threshold_percent}% (used by ${describeUsers(users)})`
        : `storage "${storage}" is ${usage.used_percent}% full (threshold ${usage.threshold_percent}%)`,
      details: { used_percent: usage.used_percent, threshold_percent: usage.threshold_percent, used_bytes: usage.used_bytes, capacity_bytes: usage.capacity_bytes, policies: users.length },
    }));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ store

export interface Alarm {
  id: number;
  name: AlarmName;
  ocp_alarm: string | null;
  severity: Severity;
  state: 'active' | 'resolved';
  cluster: string | null;
  policy: string | null;
  storage: string | null;
  message: string;
  details: Record<string, unknown>;
  raised_at: string;
  resolved_at: string | null;
  updated_at: string;
}

export interface AlarmEvent {
  event: 'raised' | 'resolved';
  at: string;
  alarm: Alarm;
}

function alarmFromRow(row: AlarmRow & { id: number }): Alarm {
  const name = row.name as AlarmName;
  return {
    id: Number(row.id),
    name,
    ocp_alarm: OCP_ALARM[name] ?? null,
    severity: row.severity as Severity,
    state: row.state as Alarm['state'],
    cluster: row.cluster,
    policy: row.policy,
    storage: row.storage,
    message: row.message,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {},
    raised_at: row.raised_at,
    resolved_at: row.resolved_at,
    updated_at: row.updated_at,
  };
}

export interface AlarmFilter {
  state?: 'active' | 'resolved';
  cluster?: string;
  policy?: string;
  name?: AlarmName;
  cursor?: number;
  limit?: number;
}

export class AlarmRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(filter: AlarmFilter = {}): Promise<{ alarms: Alarm[]; next_cursor: number | null }> {
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 500));
    let q = this.db.selectFrom('alarms').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.cluster) q = q.where('cluster', '=', filter.cluster);
    if (filter.policy) q = q.where('policy', '=', filter.policy);
    if (filter.name) q = q.where('name', '=', filter.name);
    if (filter.cursor !== undefined) q = q.where('id', '<', filter.cursor);
    const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit) as Array<AlarmRow & { id: number }>;
    return { alarms: page.map(alarmFromRow), next_cursor: rows.length > limit ? Number(page[page.length - 1]!.id) : null };
  }

  /** The keys of the active alarms (for evaluateAlarms). */
  async activeKeys(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('alarms').select('alarm_key').where('state', '=', 'active').execute();
    return new Set(rows.map((r) => r.alarm_key));
  }

  async active(): Promise<Alarm[]> {
    const rows = await this.db.selectFrom('alarms').selectAll().where('state', '=', 'active').orderBy('id').execute();
    return (rows as Array<AlarmRow & { id: number }>).map(alarmFromRow);
  }

  private async activeRows(): Promise<Array<AlarmRow & { id: number }>> {
    return (await this.db.selectFrom('alarms').selectAll().where('state', '=', 'active').execute()) as Array<AlarmRow & { id: number }>;
  }

  /**
   * Brings the stored alarms in line with `conditions`: raises firing ones not active yet, resolves
   * active ones whose condition is clear or gone (its policy or storage no longer exists). Unknown
   * conditions change nothing. Returns the raise/resolve events.
   */
  async reconcile(conditions: Condition[], now: Date): Promise<AlarmEvent[]> {
    const at = toIso(now);
    const byKey = new Map(conditions.map((c) => [c.key, c]));
    const active = new Map((await this.activeRows()).map((r) => [r.alarm_key, r]));
    const events: AlarmEvent[] = [];
    for (const c of conditions) {
      const row = active.get(c.key);
      if (c.state === 'firing' && !row) {
        try {
          const result = await this.db
            .insertInto('alarms')
            .values({
              name: c.name,
              alarm_key: c.key,
              active_key: c.key,
              severity: SEVERITY[c.name],
              cluster: c.cluster ?? null,
              policy: c.policy ?? null,
              storage: c.storage ?? null,
              state: 'active',
              message: c.message,
              details: c.details ? JSON.stringify(c.details) : null,
              raised_at: at,
              resolved_at: null,
              updated_at: at,
            })
            .executeTakeFirstOrThrow();
          const stored = await this.db.selectFrom('alarms').selectAll().where('id', '=', Number(result.insertId)).executeTakeFirstOrThrow();
          events.push({ event: 'raised', at, alarm: alarmFromRow(stored as AlarmRow & { id: number }) });
        } catch (err) {
          // another daemon on the same store raised it first
          if (classifyStoreError(err) !== 'unique') throw err;
        }
      }
      // an ongoing alarm keeps the message it was raised with: status and metrics carry the current figures
    }
    for (const [key, row] of active) {
      const c = byKey.get(key);
      if (c && c.state !== 'clear') continue;
      const resolution = c ? c.message : 'its policy or storage is no longer in use';
      const details = JSON.stringify({ ...(row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {}), resolution });
      const result = await this.db
        .updateTable('alarms')
        .set({ state: 'resolved', active_key: null, resolved_at: at, updated_at: at, details })
        .where('id', '=', row.id)
        .where('state', '=', 'active')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) continue;
      events.push({ event: 'resolved', at, alarm: alarmFromRow({ ...row, state: 'resolved', active_key: null, resolved_at: at, updated_at: at, details }) });
    }
    return events;
  }
}
