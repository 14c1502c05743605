/**
 * RunRepository — the run table every engine part writes (backup, cleanup, secondary) and every reader
 * (status, alarms, metrics, CLI) reads. Tables: `runs`, `run_steps` (daemon/store/migrations/0002_runs.ts).
 *
 *   new RunRepository(db: Kysely<Database>, clock: Clock, owner?: string)   // owner: this daemon's lease holder id
 *   create(input: NewRun): Promise<{ run: Run; created: boolean }>     // owned by this daemon
 *       // scheduled runs are unique by (policy, kind, scheduled_at): a second create returns the stored
 *       // run with created=false. Immediate runs get scheduled_at = now (nudged by 1 ms on a clash).
 *   get(id): Promise<Run | undefined>                         // with steps, oldest step first
 *   list(filter: RunFilter): Promise<{ runs: Run[]; next_cursor: number | null }>
 *       // newest first (by id); filter by cluster, policy, kind, state (one or several), type,
 *       // trigger, since/until (scheduled_at); `cursor` = next_cursor of the previous page; limit <= 500
 *   update(id, patch: RunPatch): Promise<void>
 *   transition(id, from: RunState[], patch): Promise<boolean> // only if the state is one of `from`
 *   addStep(runId, name, state = 'running', message?): Promise<number>   // returns the step id
 *   finishStep(stepId, state: StepState, message?): Promise<void>
 *   latestScheduled(kind): Promise<Map<policy, Date>>  // newest scheduled_at of scheduled/catch-up runs
 *   latestScheduledFor(policy, kind): Promise<Date | undefined>
 *   active(filter?: { cluster?, kind?, policy?, ids? }): Promise<Run[]>   // pending, waiting or running
 *   discard(id): Promise<void>                                  // a run refused before it started leaves no trace
 *   takeTurn(cluster, runId): Promise<number | null>            // the cluster's data backup turn, across daemons:
 *   giveTurn(cluster, runId): Promise<void>                     //   null when runId holds it, else the run that does
 *   lastSucceeded(filter: { cluster?, policy?, kind, type? }): Promise<Run | undefined>
 *   orphans(kind, alive: (owner) => boolean): Promise<Orphan[]>  // active runs of daemons that are gone
 *   adopt(orphan: Orphan): Promise<boolean>                       // takes one over (once, across daemons)
 *
 * States: pending (stored, nothing sent yet) → running (pre-checks or job in flight) → succeeded |
 * failed | canceled; waiting (due while another data backup of the cluster runs); skipped (not run,
 * `reason` says why: paused, busy, …); missed (the daemon was down at that time and catch_up skipped it).
 * Kinds: backup | cleanup | secondary. Triggers: scheduled | catch_up | immediate.
 * `jobs` lists the OceanBase jobs behind a run (one per tenant on 4.x, one cluster job on 3.x).
 * `timed_out_at` is set once a data backup ran past data_backup_timeout_minutes (alarm input; not killed).
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { insertLease } from '../scheduler/lease.js';
import { classifyStoreError } from '../store/errors.js';
import type { Database, RunRow, RunStepRow } from '../store/schema.js';
import { toIso, type Clock } from './clock.js';

export const RUN_KINDS = ['backup', 'cleanup', 'secondary'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
export const RUN_STATES = ['pending', 'waiting', 'running', 'succeeded', 'failed', 'canceled', 'skipped', 'missed'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const ACTIVE_STATES: readonly RunState[] = ['pending', 'waiting', 'running'];
export const RUN_TRIGGERS = ['scheduled', 'catch_up', 'immediate'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];
export type StepState = 'running' | 'succeeded' | 'failed' | 'skipped';

/** One OceanBase job behind a run. */
export interface RunJob {
  /** 4.x tenant name; absent for a 3.x cluster-level job. */
  tenant?: string;
  tenant_id?: number;
  job_id: number;
  type?: 'full' | 'incremental';
  backup_set_id?: number | null;
  status?: string;
  progress?: number | null;
  input_bytes?: number | null;
  output_bytes?: number | null;
  error_code?: number | null;
  error?: string | null;
}

export interface RunStep {
  id: number;
  name: string;
  state: StepState;
  message: string | null;
  started_at: string;
  finished_at: string | null;
}

/** A run as the API returns it (snake_case, JSON columns parsed). */
export interface Run {
  id: number;
  policy: string | null;
  cluster: string;
  kind: RunKind;
  type: 'full' | 'incremental' | null;
  trigger: RunTrigger;
  scheduled_at: string;
  state: RunState;
  reason: string | null;
  /** Percent 0-100, when known. */
  progress: number | null;
  ob_version: string | null;
  jobs: RunJob[];
  /** The first job's id, for readers that want one number. */
  ob_job_id: number | null;
  backup_set_id: number | null;
  input_bytes: number | null;
  output_bytes: number | null;
  error: string | null;
  error_code: number | null;
  details: Record<string, unknown>;
  submitted_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  timed_out_at: string | null;
  created_at: string;
  updated_at: string;
  steps: RunStep[];
}

export interface NewRun {
  policy: string | null;
  cluster: string;
  kind: RunKind;
  type?: 'full' | 'incremental' | null;
  trigger: RunTrigger;
  /** Defaults to now (immediate runs). */
  scheduled_at?: Date;
  state?: RunState;
  reason?: string | null;
  details?: Record<string, unknown>;
  ob_version?: string | null;
}

export interface RunPatch {
  type?: 'full' | 'incremental' | null;
  state?: RunState;
  reason?: string | null;
  progress?: number | null;
  ob_version?: string | null;
  jobs?: RunJob[];
  backup_set_id?: number | null;
  input_bytes?: number | null;
  output_bytes?: number | null;
  error?: string | null;
  error_code?: number | null;
  details?: Record<string, unknown>;
  submitted_at?: Date | null;
  started_at?: Date | null;
  finished_at?: Date | null;
  timed_out_at?: Date | null;
}

export interface RunFilter {
  cluster?: string;
  policy?: string;
  kind?: RunKind;
  state?: RunState | RunState[];
  type?: 'full' | 'incremental';
  trigger?: RunTrigger | RunTrigger[];
  since?: Date;
  until?: Date;
  cursor?: number;
  limit?: number;
  /** Leave steps out (listings of many runs). */
  withoutSteps?: boolean;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fromRow(row: Selectable<RunRow>, steps: Selectable<RunStepRow>[]): Run {
  const jobs = row.jobs ? (JSON.parse(row.jobs) as RunJob[]) : [];
  return {
    id: Number(row.id),
    policy: row.policy,
    cluster: row.cluster,
    kind: row.kind as RunKind,
    type: row.type as Run['type'],
    trigger: row.trigger as RunTrigger,
    scheduled_at: row.scheduled_at,
    state: row.state as RunState,
    reason: row.reason,
    progress: num(row.progress),
    ob_version: row.ob_version,
    jobs,
    ob_job_id: jobs[0]?.job_id ?? null,
    backup_set_id: num(row.backup_set_id),
    input_bytes: num(row.input_bytes),
    output_bytes: num(row.output_bytes),
    error: row.error,
    error_code: num(row.error_code),
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {},
    submitted_at: row.submitted_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    timed_out_at: row.timed_out_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    steps: steps.map((s) => ({
      id: Number(s.id),
      name: s.name,
      state: s.state as StepState,
      message: s.message,
      started_at: s.started_at,
      finished_at: s.finished_at,
    })),
  };
}

const isoOrNull = (d: Date | null | undefined) => (d === undefined ? undefined : d === null ? null : toIso(d));

function patchToRow(patch: RunPatch): Partial<Record<keyof RunRow, unknown>> {
  const row: Partial<Record<keyof RunRow, unknown>> = {};
  const copy = ['type', 'state', 'reason', 'progress', 'ob_version', 'backup_set_id', 'input_bytes', 'output_bytes', 'error', 'error_code'] as const;
  for (const key of copy) if (patch[key] !== undefined) row[key] = patch[key];
  if (patch.jobs !== undefined) row.jobs = JSON.stringify(patch.jobs);
  if (patch.details !== undefined) row.details = JSON.stringify(patch.details);
  for (const key of ['submitted_at', 'started_at', 'finished_at', 'timed_out_at'] as const) {
    const v = isoOrNull(patch[key]);
    if (v !== undefined) row[key] = v;
  }
  return row;
}

const MAX_PAGE = 500;
/** prefix of the leases row that names the run holding a cluster's data backup turn */
const TURN = 'backup:';

/** An active run whose daemon is gone, with the owner it was read with (adopt() compares it). */
export interface Orphan {
  run: Run;
  owner: string | null;
}

export class RunRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    /** the daemon whose runs these are (its lease holder id); null when there is no lease */
    readonly owner: string | null = null,
  ) {}

  async create(input: NewRun): Promise<{ run: Run; created: boolean }> {
    const now = toIso(this.clock.now());
    let at = input.scheduled_at ?? this.clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.db
          .insertInto('runs')
          .values({
            policy: input.policy,
            cluster: input.cluster,
            kind: input.kind,
            type: input.type ?? null,
            trigger: input.trigger,
            scheduled_at: toIso(at),
            state: input.state ?? 'pending',
            reason: input.reason ?? null,
            ob_version: input.ob_version ?? null,
            details: input.details ? JSON.stringify(input.details) : null,
            progress: null,
            jobs: null,
            backup_set_id: null,
            input_bytes: null,
            output_bytes: null,
            error: null,
            error_code: null,
            submitted_at: null,
            started_at: null,
            finished_at: null,
            timed_out_at: null,
            created_at: now,
            updated_at: now,
            owner: this.owner,
          })
          .executeTakeFirstOrThrow();
        const run = await this.get(Number(result.insertId));
        return { run: run!, created: true };
      } catch (err) {
        if (classifyStoreError(err) !== 'unique') throw err;
        // An immediate run clashing with another at the same millisecond moves on by one.
        if (input.trigger === 'immediate' && attempt < 20) {
          at = new Date(at.getTime() + 1);
          continue;
        }
        const existing = await this.findByKey(input.policy, input.kind, at);
        if (!existing) throw err;
        return { run: existing, created: false };
      }
    }
  }

  async findByKey(policy: string | null, kind: RunKind, scheduledAt: Date): Promise<Run | undefined> {
    let q = this.db.selectFrom('runs').select('id').where('kind', '=', kind).where('scheduled_at', '=', toIso(scheduledAt));
    q = policy === null ? q.where('policy', 'is', null) : q.where('policy', '=', policy);
    const row = await q.executeTakeFirst();
    return row ? this.get(Number(row.id)) : undefined;
  }

  async get(id: number): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const steps = await this.db.selectFrom('run_steps').selectAll().where('run_id', '=', id).orderBy('id').execute();
    return fromRow(row, steps);
  }

  async list(filter: RunFilter = {}): Promise<{ runs: Run[]; next_cursor: number | null }> {
    const limit = Math.max(1, Math.min(filter.limit ?? 50, MAX_PAGE));
    let q = this.db.selectFrom('runs').selectAll();
    if (filter.cluster !== undefined) q = q.where('cluster', '=', filter.cluster);
    if (filter.policy !== undefined) q = q.where('policy', '=', filter.policy);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.type !== undefined) q = q.where('type', '=', filter.type);
    if (filter.state !== undefined) {
      const states = Array.isArray(filter.state) ? filter.state : [filter.state];
      q = q.where('state', 'in', states.length > 0 ? states : ['']);
    }
    if (filter.trigger !== undefined) {
      const triggers = Array.isArray(filter.trigger) ? filter.trigger : [filter.trigger];
      q = q.where('trigger', 'in', triggers.length > 0 ? triggers : ['']);
    }
    if (filter.since) q = q.where('scheduled_at', '>=', toIso(filter.since));
    if (filter.until) q = q.where('scheduled_at', '<=', toIso(filter.until));
    if (filter.cursor !== undefined) q = q.where('id', '<', filter.cursor);
    const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const stepsByRun = new Map<number, Selectable<RunStepRow>[]>();
    if (!filter.withoutSteps && page.length > 0) {
      const steps = await this.db
        .selectFrom('run_steps')
        .selectAll()
        .where('run_id', 'in', page.map((r) => Number(r.id)))
        .orderBy('id')
        .execute();
      for (const s of steps) {
        const list = stepsByRun.get(Number(s.run_id)) ?? [];
        list.push(s);
        stepsByRun.set(Number(s.run_id), list);
      }
    }
    return {
      runs: page.map((r) => fromRow(r, stepsByRun.get(Number(r.id)) ?? [])),
      next_cursor: rows.length > limit ? Number(page[page.length - 1]!.id) : null,
    };
  }

  async update(id: number, patch: RunPatch): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ ...patchToRow(patch), updated_at: toIso(this.clock.now()) } as never)
      .where('id', '=', id)
      .execute();
  }

  /** Conditional update: applies `patch` only when the run is in one of `from`; says whether it did. */
  async transition(id: number, from: readonly RunState[], patch: RunPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ ...patchToRow(patch), updated_at: toIso(this.clock.now()) } as never)
      .where('id', '=', id)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async addStep(runId: number, name: string, state: StepState = 'running', message?: string | null): Promise<number> {
    const now = toIso(this.clock.now());
    const result = await this.db
      .insertInto('run_steps')
      .values({
        run_id: runId,
        name,
        state,
        message: message ?? null,
        started_at: now,
        finished_at: state === 'running' ? null : now,
      })
      .executeTakeFirstOrThrow();
    return Number(result.insertId);
  }

  async finishStep(stepId: number, state: StepState, message?: string | null): Promise<void> {
    const set: Record<string, unknown> = { state, finished_at: toIso(this.clock.now()) };
    if (message !== undefined) set.message = message;
    await this.db.updateTable('run_steps').set(set).where('id', '=', stepId).execute();
  }

  /** Updates a running step's message (progress lines) without finishing it. */
  async noteStep(stepId: number, message: string): Promise<void> {
    await this.db.updateTable('run_steps').set({ message }).where('id', '=', stepId).execute();
  }

  /** Newest scheduled time recorded per policy for `kind` (scheduled and catch-up runs, any state). */
  async latestScheduled(kind: RunKind): Promise<Map<string, Date>> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['policy', sql<string>`max(scheduled_at)`.as('latest')])
      .where('kind', '=', kind)
      .where('trigger', 'in', ['scheduled', 'catch_up'])
      .where('policy', 'is not', null)
      .groupBy('policy')
      .execute();
    return new Map(rows.map((r) => [r.policy!, new Date(r.latest)]));
  }

  async latestScheduledFor(policy: string, kind: RunKind): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .select(sql<string | null>`max(scheduled_at)`.as('latest'))
      .where('kind', '=', kind)
      .where('policy', '=', policy)
      .where('trigger', 'in', ['scheduled', 'catch_up'])
      .executeTakeFirst();
    return row?.latest ? new Date(row.latest) : undefined;
  }

  async active(filter: { cluster?: string; kind?: RunKind; policy?: string; ids?: number[] } = {}): Promise<Run[]> {
    let q = this.db.selectFrom('runs').selectAll().where('state', 'in', [...ACTIVE_STATES]);
    if (filter.ids !== undefined) q = q.where('id', 'in', filter.ids.length > 0 ? filter.ids : [0]);
    if (filter.cluster !== undefined) q = q.where('cluster', '=', filter.cluster);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.policy !== undefined) q = q.where('policy', '=', filter.policy);
    const rows = await q.orderBy('id').execute();
    return rows.map((r) => fromRow(r, []));
  }

  /** Deletes a run that never started (still pending) with its steps. */
  async discard(id: number): Promise<void> {
    const result = await this.db.deleteFrom('runs').where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    if (Number(result.numDeletedRows) > 0) await this.db.deleteFrom('run_steps').where('run_id', '=', id).execute();
  }

  /**
   * The cluster's data backup turn: at most one run holds it, across the daemons on the store (row
   * `backup:<cluster>` of `leases`, holder `run <id>`). Returns null when `runId` holds it now, else the id
   * of the active run that does; a turn whose run is no longer active is taken over.
   */
  async takeTurn(cluster: string, runId: number): Promise<number | null> {
    const name = TURN + cluster;
    const mine = `run ${runId}`;
    for (let attempt = 0; attempt < 10; attempt++) {
      const row = await this.db.selectFrom('leases').select(['holder', 'epoch']).where('name', '=', name).executeTakeFirst();
      const now = toIso(this.clock.now());
      if (!row) {
        // held while its run is active: expires_at is not what counts
        if (await insertLease(this.db, { name, holder: mine, machine: null, pid: null, expires_at: now, epoch: 1, acquired_at: now, updated_at: now })) return null;
        continue;
      }
      if (row.holder === mine) return null;
      const other = Number(row.holder.replace(/^run /, ''));
      const holder = await this.db.selectFrom('runs').select('state').where('id', '=', other).executeTakeFirst();
      if (holder && ACTIVE_STATES.includes(holder.state as RunState)) return other;
      const result = await this.db
        .updateTable('leases')
        .set({ holder: mine, epoch: Number(row.epoch) + 1, acquired_at: now, updated_at: now })
        .where('name', '=', name)
        .where('epoch', '=', row.epoch)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) return null;
    }
    throw new Error(`cluster ${cluster}: could not settle which run holds its data backup turn (the store row keeps changing)`);
  }

  async giveTurn(cluster: string, runId: number): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', TURN + cluster).where('holder', '=', `run ${runId}`).execute();
  }

  /** Active runs of `kind` whose owner is not alive (or unknown: runs stored before owners were kept). */
  async orphans(kind: RunKind, alive: (owner: string) => boolean): Promise<Orphan[]> {
    const rows = await this.db.selectFrom('runs').selectAll().where('state', 'in', [...ACTIVE_STATES]).where('kind', '=', kind).orderBy('id').execute();
    return rows
      .filter((row) => row.owner === null || (row.owner !== this.owner && !alive(row.owner)))
      .map((row) => ({ run: fromRow(row, []), owner: row.owner }));
  }

  /** Makes an orphan this daemon's; false when another daemon adopted it first. */
  async adopt(orphan: Orphan): Promise<boolean> {
    let q = this.db.updateTable('runs').set({ owner: this.owner, updated_at: toIso(this.clock.now()) }).where('id', '=', orphan.run.id);
    q = orphan.owner === null ? q.where('owner', 'is', null) : q.where('owner', '=', orphan.owner);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async lastSucceeded(filter: { cluster?: string; policy?: string; kind: RunKind; type?: 'full' | 'incremental' }): Promise<Run | undefined> {
    let q = this.db.selectFrom('runs').selectAll().where('kind', '=', filter.kind).where('state', '=', 'succeeded');
    if (filter.cluster !== undefined) q = q.where('cluster', '=', filter.cluster);
    if (filter.policy !== undefined) q = q.where('policy', '=', filter.policy);
    if (filter.type !== undefined) q = q.where('type', '=', filter.type);
    const row = await q.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? fromRow(row, []) : undefined;
  }
}
