// The operations cadence beside the backup scheduler: every minute it (1) stores and starts the cleanup
// runs (daily at cleanup.time in the schedule's time zone) and secondary runs (the secondary schedule)
// that are due, keyed (policy, kind, scheduled time) like backups, so a restart neither loses nor
// repeats one; (2) reads the clusters and storages and evaluates the alarms.
import { sql } from 'kysely';
import type { Schedule } from '../../model/index.js';
import { decideDue } from '../scheduler/due.js';
import { AlarmRepository, evaluateAlarms, type AlarmEvent, type PolicyRunFacts, type RunSummary } from './alarms.js';
import { executeCleanup, type CleanupOptions } from './cleanup.js';
import { HealthMonitor, type HealthOptions } from './health.js';
import { errorText, loadPolicies, type NamedPolicy, type OpsContext } from './ops-context.js';
import type { Run, RunKind, RunRepository } from './runs.js';
import { executeSecondary, type SecondaryOptions } from './secondary.js';
import type { WebhookNotifier } from './webhook.js';

export const ALARM_INTERVAL_MS = 60_000;

export interface OpsEngineOptions {
  cleanup?: CleanupOptions;
  secondary?: SecondaryOptions;
  health?: HealthOptions;
  /** how often alarms are evaluated and cadences checked (default 1 min) */
  intervalMs?: number;
  webhook?: WebhookNotifier;
  /** a run this late is still on time (see scheduler/due.ts) */
  graceMs?: number;
  /** runs background work; default: tracked promises of this engine */
  spawn?: (name: string, work: (signal: AbortSignal) => Promise<void>) => void;
  /** the loop's sleep between ticks; default the context's clock */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** read the clusters' archive state each tick (default true; the scheduler benchmark, with no clusters, turns it off) */
  readClusters?: boolean;
}

/** Cleanup runs daily at cleanup.time, in the time zone of the policy's schedule. */
export function cleanupSchedule(policy: NamedPolicy): Schedule {
  return {
    period: 'weekly',
    time: policy.cleanup.time,
    timezone: policy.schedule.timezone,
    days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: 'full' as const })),
  };
}

function cadence(policy: NamedPolicy, kind: 'cleanup' | 'secondary'): Schedule | undefined {
  if (policy.mode !== 'physical') return undefined;
  if (kind === 'cleanup') return policy.cleanup.enabled ? cleanupSchedule(policy) : undefined;
  return policy.secondary.enabled && policy.secondary.schedule ? (policy.secondary.schedule as Schedule) : undefined;
}

const SUMMARY_COLUMNS = ['id', 'policy', 'type', 'state', 'error', 'error_code', 'progress', 'scheduled_at', 'started_at', 'finished_at', 'timed_out_at'] as const;

function summaryOf(r: Record<(typeof SUMMARY_COLUMNS)[number], unknown>): RunSummary {
  return {
    id: Number(r.id),
    policy: r.policy as string | null,
    type: r.type as RunSummary['type'],
    state: r.state as RunSummary['state'],
    error: r.error as string | null,
    error_code: r.error_code === null ? null : Number(r.error_code),
    progress: r.progress === null ? null : Number(r.progress),
    scheduled_at: r.scheduled_at as string,
    started_at: r.started_at as string | null,
    finished_at: r.finished_at as string | null,
    timed_out_at: r.timed_out_at as string | null,
  };
}

/** Per policy: the facts of the run table the alarms need, read with a few grouped queries. */
export async function runFacts(ctx: OpsContext): Promise<Map<string, PolicyRunFacts>> {
  const tracker = new RunFactsTracker(ctx);
  return tracker.facts();
}

const ENDED_STATES = ['succeeded', 'failed', 'canceled'];
const ACTIVE = new Set(['pending', 'waiting', 'running']);

/**
 * The run facts kept up to date between ticks: loaded once with grouped queries, then each tick reads
 * only the runs created since (by id) and those that were under way (by id), both through the primary
 * key, so a long run history costs nothing per minute.
 */
export class RunFactsTracker {
  private readonly byPolicy = new Map<string, PolicyRunFacts>();
  private loaded = false;
  private maxId = 0;
  /** runs under way at the last look: they may have ended since */
  private watching = new Set<number>();

  constructor(private readonly ctx: OpsContext) {}

  private entry(policy: string): PolicyRunFacts {
    let f = this.byPolicy.get(policy);
    if (!f) this.byPolicy.set(policy, (f = { activeBackups: [] }));
    return f;
  }

  private async load(): Promise<void> {
    const { db } = this.ctx.store;
    const latestIds = async (kind: RunKind) =>
      (
        await db
          .selectFrom('runs')
          .select(['policy', sql<number>`max(id)`.as('id')])
          .where('kind', '=', kind)
          .where('state', 'in', ENDED_STATES)
          .where('policy', 'is not', null)
          .groupBy('policy')
          .execute()
      ).map((r) => Number(r.id));
    const fetch = async (ids: number[]): Promise<RunSummary[]> => {
      const out: RunSummary[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await db.selectFrom('runs').select(SUMMARY_COLUMNS).where('id', 'in', ids.slice(i, i + 500)).execute();
        out.push(...rows.map(summaryOf));
      }
      return out;
    };
    for (const run of await fetch(await latestIds('backup'))) this.entry(run.policy!).lastFinishedBackup = run;
    for (const run of await fetch(await latestIds('secondary'))) this.entry(run.policy!).lastFinishedSecondary = run;
    const successes = await db
      .selectFrom('runs')
      .select(['policy', sql<string>`max(finished_at)`.as('at')])
      .where('kind', '=', 'backup')
      .where('state', '=', 'succeeded')
      .where('policy', 'is not', null)
      .groupBy('policy')
      .execute();
    for (const s of successes) if (s.at) this.entry(s.policy!).lastSuccessfulBackupAt = new Date(s.at);
    const active = await db.selectFrom('runs').select(SUMMARY_COLUMNS).where('state', 'in', [...ACTIVE]).execute();
    for (const r of active.map(summaryOf)) this.watching.add(r.id);
    const top = await db.selectFrom('runs').select(sql<number | null>`max(id)`.as('id')).executeTakeFirst();
    this.maxId = Number(top?.id ?? 0);
    this.loaded = true;
  }

  /** The facts now: what changed since the last call is read and folded in. */
  async facts(): Promise<Map<string, PolicyRunFacts>> {
    const { db } = this.ctx.store;
    if (!this.loaded) await this.load();
    const watched = [...this.watching];
    const rows = await db
      .selectFrom('runs')
      .select([...SUMMARY_COLUMNS, 'kind'])
      .where((eb) => (watched.length > 0 ? eb.or([eb('id', '>', this.maxId), eb('id', 'in', watched)]) : eb('id', '>', this.maxId)))
      .orderBy('id')
      .execute();
    for (const row of rows) {
      const run = summaryOf(row);
      this.maxId = Math.max(this.maxId, run.id);
      if (ACTIVE.has(run.state)) this.watching.add(run.id);
      else this.watching.delete(run.id);
      if (!run.policy || !ENDED_STATES.includes(run.state)) continue;
      const f = this.entry(run.policy);
      if (row.kind === 'backup') {
        if (!f.lastFinishedBackup || run.id > f.lastFinishedBackup.id) f.lastFinishedBackup = run;
        if (run.state === 'succeeded' && run.finished_at && (!f.lastSuccessfulBackupAt || Date.parse(run.finished_at) > f.lastSuccessfulBackupAt.getTime())) {
          f.lastSuccessfulBackupAt = new Date(run.finished_at);
        }
      } else if (row.kind === 'secondary' && (!f.lastFinishedSecondary || run.id > f.lastFinishedSecondary.id)) {
        f.lastFinishedSecondary = run;
      }
    }
    // data backups under way, from what is watched (a small set)
    for (const f of this.byPolicy.values()) f.activeBackups = [];
    if (this.watching.size > 0) {
      const ids = [...this.watching];
      for (let i = 0; i < ids.length; i += 500) {
        const active = await db.selectFrom('runs').select([...SUMMARY_COLUMNS, 'kind']).where('id', 'in', ids.slice(i, i + 500)).execute();
        for (const row of active) if (row.kind === 'backup' && row.policy && ACTIVE.has(row.state)) this.entry(row.policy).activeBackups.push(summaryOf(row));
      }
    }
    return this.byPolicy;
  }
}

export class OpsEngine {
  readonly alarms: AlarmRepository;
  readonly health: HealthMonitor;
  private readonly inFlight = new Set<Promise<void>>();
  private cached: { key: string; list: NamedPolicy[] } | undefined;
  private readonly facts: RunFactsTracker;
  /** per kind, the newest scheduled time recorded per policy: read once, then kept as runs are recorded */
  private readonly latest = new Map<'cleanup' | 'secondary', Map<string, Date>>();
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: OpsContext,
    private readonly options: OpsEngineOptions = {},
  ) {
    this.alarms = new AlarmRepository(ctx.store.db);
    this.health = new HealthMonitor(ctx, options.health);
    this.facts = new RunFactsTracker(ctx);
    options.webhook?.attach(ctx.store.db);
  }

  /** What the run table says per policy (kept up to date incrementally). */
  runFacts(): Promise<Map<string, PolicyRunFacts>> {
    return this.facts.facts();
  }

  private get runs(): RunRepository {
    return this.ctx.runs;
  }

  private spawn(name: string, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.options.spawn) return this.options.spawn(name, work);
    const p = work(this.controller.signal).catch((err) => this.ctx.log.error({ task: name, err: errorText(err) }, `${name} failed`));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves when the runs this engine started itself have ended (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Every policy, parsed once and read again only when the table changed (a count and the newest update tell). */
  async policies(): Promise<NamedPolicy[]> {
    const row = await this.ctx.store.db
      .selectFrom('policies')
      .select([sql<number>`count(*)`.as('n'), sql<string | null>`max(updated_at)`.as('newest')])
      .executeTakeFirst();
    const key = `${row?.n ?? 0}|${row?.newest ?? ''}`;
    if (this.cached?.key !== key) this.cached = { key, list: await loadPolicies(this.ctx.store) };
    return this.cached.list;
  }

  /** Stores the due cleanup and secondary runs and starts them; returns the runs started. */
  async startDueRuns(policies?: NamedPolicy[]): Promise<Run[]> {
    const now = this.ctx.clock.now();
    const list = policies ?? (await this.policies());
    const started: Run[] = [];
    for (const kind of ['cleanup', 'secondary'] as const) {
      let latest = this.latest.get(kind);
      if (!latest) this.latest.set(kind, (latest = await this.runs.latestScheduled(kind)));
      let active: Set<string | null> | undefined;
      for (const policy of list) {
        const schedule = cadence(policy, kind);
        if (!schedule) continue;
        // a policy's cadence starts when it was last changed, not in the past
        const after = latest.get(policy.name) ?? new Date(policy.updated_at);
        const decision = decideDue({ schedule, after, now, catchUp: policy.catch_up, paused: policy.paused, graceMs: this.options.graceMs });
        const recorded = [...decision.skipped.map((r) => r.at), ...(decision.run ? [decision.run.at] : [])];
        for (const at of recorded) if (!latest.has(policy.name) || at > latest.get(policy.name)!) latest.set(policy.name, at);
        if (recorded.length > 0) active ??= new Set((await this.runs.active({ kind })).map((r) => r.policy));
        for (const skipped of decision.skipped) {
          await this.runs.create({ policy: policy.name, cluster: policy.cluster, kind, trigger: 'scheduled', scheduled_at: skipped.at, state: skipped.reason === 'paused' ? 'skipped' : 'missed', reason: skipped.reason === 'paused' ? 'the policy is paused' : 'the daemon was not running at that time' });
        }
        if (!decision.run) continue;
        const trigger = decision.run.catchUp ? 'catch_up' : 'scheduled';
        if (active!.has(policy.name)) {
          await this.runs.create({ policy: policy.name, cluster: policy.cluster, kind, trigger, scheduled_at: decision.run.at, state: 'skipped', reason: `the previous ${kind} run of this policy is still running` });
          continue;
        }
        const { run, created } = await this.runs.create({ policy: policy.name, cluster: policy.cluster, kind, trigger, scheduled_at: decision.run.at });
        if (!created) continue;
        started.push(run);
        this.execute(run, policy);
      }
    }
    return started;
  }

  /** Runs a cleanup or secondary backup now, outside its cadence (CLI, tests). */
  async runNow(policy: NamedPolicy, kind: 'cleanup' | 'secondary'): Promise<Run> {
    const { run } = await this.runs.create({ policy: policy.name, cluster: policy.cluster, kind, trigger: 'immediate' });
    this.execute(run, policy);
    return run;
  }

  private execute(run: Run, policy: NamedPolicy): void {
    this.spawn(`${run.kind} run ${run.id}`, () =>
      run.kind === 'cleanup' ? executeCleanup(this.ctx, run, policy, this.options.cleanup) : executeSecondary(this.ctx, run, policy, this.options.secondary),
    );
  }

  /**
   * Takes up a cleanup or secondary run a stopped daemon left under way (this daemon's adopted it): it
   * starts again from the top. Both are made to be run again: a cleanup deletes what is still expired, a
   * 4.x copy skips what it recorded or finds on the target with the same checksum, 3.x asks the database
   * for what is not backed up yet. Left alone, the run would stay "running" and block every later one.
   */
  async resume(run: Run): Promise<void> {
    if (run.kind !== 'cleanup' && run.kind !== 'secondary') return;
    const now = this.ctx.clock.now();
    const stored = await this.runs.get(run.id);
    if (!stored) return;
    for (const step of stored.steps) if (step.state === 'running') await this.runs.finishStep(step.id, 'failed', 'interrupted by a daemon restart');
    this.cached = undefined;
    const policy = run.policy ? (await this.policies()).find((p) => p.name === run.policy) : undefined;
    if (!policy) {
      await this.runs.update(run.id, { state: 'failed', finished_at: now, error: `interrupted by a daemon restart; its policy "${run.policy}" no longer exists` });
      return;
    }
    if (stored.state === 'running') await this.runs.addStep(run.id, 'restart', 'succeeded', 'the daemon restarted during this run: starting it again (what it finished stays done)');
    if (stored.state !== 'pending' && !(await this.runs.transition(run.id, [stored.state], { state: 'pending' }))) return;
    this.execute(stored, policy);
  }

  /** Reads clusters and storages, evaluates every alarm and stores the changes; returns the events. */
  async evaluateAlarms(policies?: NamedPolicy[]): Promise<AlarmEvent[]> {
    const list = policies ?? (await this.policies());
    const clusters = list.filter((p) => p.mode === 'physical').map((p) => p.cluster);
    const storages = list.flatMap((p) => [p.storage, ...(p.secondary.enabled && p.secondary.storage ? [p.secondary.storage] : [])]);
    await Promise.all([this.options.readClusters === false ? undefined : this.health.observeClusters(clusters), this.health.observeStorages(storages)]);
    // a changed threshold applies at once, without waiting for the next usage reading
    for (const record of await this.ctx.store.resources.list('storages')) {
      const cached = this.health.storages.get(record.name);
      if (cached) cached.threshold_percent = (record.spec as { capacity_alarm_threshold?: number }).capacity_alarm_threshold ?? 80;
    }
    const conditions = evaluateAlarms(
      {
        now: this.ctx.clock.now(),
        policies: list,
        runs: await this.runFacts(),
        clusters: this.health.clusters,
        storages: this.health.storages,
      },
      await this.alarms.activeKeys(),
    );
    const events = await this.alarms.reconcile(conditions, this.ctx.clock.now());
    for (const e of events) {
      const log = e.event === 'raised' ? this.ctx.log.warn.bind(this.ctx.log) : this.ctx.log.info.bind(this.ctx.log);
      log({ alarm: e.alarm.name, id: e.alarm.id, cluster: e.alarm.cluster, policy: e.alarm.policy, storage: e.alarm.storage }, `alarm ${e.event}: ${e.alarm.message}`);
    }
    await this.options.webhook?.enqueue(events);
    return events;
  }

  /** One minute's work. Never throws: a failure is logged and the next tick tries again. */
  async tick(): Promise<void> {
    try {
      const policies = await this.policies();
      await this.startDueRuns(policies);
      await this.evaluateAlarms(policies);
    } catch (err) {
      this.ctx.log.error({ err: errorText(err) }, `operations tick failed: ${errorText(err)}`);
    }
  }

  get webhook(): WebhookNotifier | undefined {
    return this.options.webhook;
  }

  /** Ticks every interval until `signal` aborts (the daemon runs it as a background task). */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.options.intervalMs ?? ALARM_INTERVAL_MS;
    const both = AbortSignal.any([signal, this.controller.signal]);
    const sleep = this.options.sleep ?? ((ms: number, s: AbortSignal) => this.ctx.clock.sleep(ms, s));
    // the first tick waits one interval: at start the scheduler reads every policy, no need to add to it
    while (!both.aborted) {
      try {
        await sleep(interval, both);
      } catch {
        return;
      }
      await this.tick();
    }
  }

  /** Ticks every interval of the clock until stop(). */
  start(): void {
    this.loop ??= this.run(this.controller.signal);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
    await this.idle();
    await this.options.webhook?.close();
  }
}
