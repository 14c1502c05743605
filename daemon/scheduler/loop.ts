/**
 * The scheduler loop: one task for every policy on the daemon (no timer per policy). It keeps, per policy,
 * the schedule, the latest recorded scheduled time and the next due time; it sleeps until the earliest due
 * time across all policies and jobs (at most maxSleepMs, then re-reads the clock), and on waking records
 * what decideDue says: missed or paused times as runs in state missed/skipped, the due run as a pending
 * run handed to the backup service. A policy change wakes it at once.
 *
 *   new Scheduler(deps, { maxSleepMs?: 60_000 })
 *   scheduler.start(term?)             // loads every policy, then loops (a TaskGroup task) until `term`
 *                                      // aborts (the scheduling lease was lost; ./lease.ts) or the daemon stops
 *   scheduler.active                   // the loop runs
 *   scheduler.policyChanged(name)      // re-reads the policy (PUT), wakes the loop
 *   scheduler.policyRemoved(name)      // forgets it (DELETE)
 *   scheduler.refresh()                // catches up with policies changed through another daemon
 *   scheduler.nextRuns(policy, n = 5)  // the next n scheduled runs ([] when paused or unknown)
 *   scheduler.addJob(job: ScheduledJob) // other cadences (cleanup, secondary, alarms) share the loop:
 *       interface ScheduledJob { name: string; nextWakeAt(now: Date): Date | null; tick(now: Date): Promise<void> }
 *   scheduler.wake()
 */
import { nextRuns, type PlannedRun, type Policy, type Schedule } from '../../model/index.js';
import type { Clock } from '../engine/clock.js';
import type { PolicyStates } from '../engine/policy-state.js';
import type { Run, RunRepository } from '../engine/runs.js';
import { describe, isAbort, type TaskGroup } from '../engine/tasks.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { decideDue, missedReason } from './due.js';

export interface ScheduledJob {
  name: string;
  /** when tick should run next; null = nothing planned */
  nextWakeAt(now: Date): Date | null;
  tick(now: Date): Promise<void>;
}

export interface SchedulerDeps {
  store: Store;
  runs: RunRepository;
  states: PolicyStates;
  tasks: TaskGroup;
  clock: Clock;
  log: Logger;
  /** a stored pending backup run to start (or queue) */
  dispatch(run: Run): Promise<void>;
}

export interface SchedulerOptions {
  /** the longest sleep before the clock is read again (wall-clock jumps, suspend); default 60 s */
  maxSleepMs?: number;
}

interface Entry {
  name: string;
  version: number;
  cluster: string;
  schedule: Schedule;
  paused: boolean;
  catchUp: 'once' | 'skip';
  /** the latest scheduled time recorded, or when the schedule took effect */
  after: Date;
  /** next time something is due; null when the schedule has no future run */
  nextAt: number | null;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly jobs: ScheduledJob[] = [];
  private wakeController = new AbortController();
  private readonly maxSleepMs: number;
  private running = false;
  /** count, sum of versions and latest update of the policies table when last read (refresh()) */
  private tableMark = '';

  constructor(
    private readonly deps: SchedulerDeps,
    options: SchedulerOptions = {},
  ) {
    this.maxSleepMs = options.maxSleepMs ?? 60_000;
  }

  start(term?: AbortSignal): void {
    if (this.running || term?.aborted) return;
    this.running = true;
    void this.deps.tasks.spawn('scheduler', async (signal) => {
      // one combined signal per term, not per sleep (see TaskGroup.sleep)
      const until = term ? AbortSignal.any([signal, term]) : signal;
      const wake = () => this.wake();
      term?.addEventListener('abort', wake, { once: true });
      try {
        await this.loop(until);
      } finally {
        term?.removeEventListener('abort', wake);
        this.running = false;
      }
    });
  }

  get active(): boolean {
    return this.running;
  }

  /**
   * Re-reads the policies that changed since the last look (a PUT or DELETE served by another daemon on
   * the same store); one aggregate query when nothing changed.
   */
  async refresh(): Promise<void> {
    const { db } = this.deps.store;
    const mark = await db
      .selectFrom('policies')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('version').as('versions'), eb.fn.max('updated_at').as('latest')])
      .executeTakeFirst();
    const key = JSON.stringify([Number(mark?.n ?? 0), Number(mark?.versions ?? 0), mark?.latest ?? null]);
    if (key === this.tableMark) return;
    const rows = await db.selectFrom('policies').select(['name', 'version']).execute();
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.name);
      const known = this.entries.get(row.name);
      if (!known || known.version !== Number(row.version)) await this.policyChanged(row.name);
    }
    for (const name of [...this.entries.keys()]) if (!seen.has(name)) this.policyRemoved(name);
    this.tableMark = key;
  }

  addJob(job: ScheduledJob): void {
    this.jobs.push(job);
    this.wake();
  }

  wake(): void {
    this.wakeController.abort();
  }

  async policyChanged(name: string): Promise<void> {
    const row = await this.deps.store.db.selectFrom('policies').select(['name', 'version', 'cluster', 'spec']).where('name', '=', name).executeTakeFirst();
    if (!row) return this.policyRemoved(name);
    const spec = JSON.parse(row.spec) as Policy;
    if (spec.mode !== 'physical') {
      this.entries.delete(name);
      return;
    }
    const effectiveFrom = await this.deps.states.ensure(name, row.cluster, spec.schedule);
    const latest = await this.deps.runs.latestScheduledFor(name, 'backup');
    this.entries.set(name, this.entry(name, Number(row.version), row.cluster, spec, effectiveFrom, latest));
    this.wake();
  }

  policyRemoved(name: string): void {
    this.entries.delete(name);
    this.wake();
  }

  nextRuns(policy: string, count = 5): PlannedRun[] {
    const e = this.entries.get(policy);
    if (!e || e.paused) return [];
    const now = this.deps.clock.now();
    return nextRuns(e.schedule, e.after > now ? e.after : now, count);
  }

  /** Policies the loop follows (for status and tests). */
  get size(): number {
    return this.entries.size;
  }

  private entry(name: string, version: number, cluster: string, spec: Policy, effectiveFrom: Date, latest: Date | undefined): Entry {
    const after = latest && latest > effectiveFrom ? latest : effectiveFrom;
    const e: Entry = { name, version, cluster, schedule: spec.schedule, paused: spec.paused, catchUp: spec.catch_up, after, nextAt: null };
    e.nextAt = this.nextAfter(e);
    return e;
  }

  private nextAfter(e: Entry): number | null {
    const [next] = nextRuns(e.schedule, e.after, 1);
    return next ? next.at.getTime() : null;
  }

  private async load(): Promise<void> {
    const { store, runs, states } = this.deps;
    const [rows, latest] = await Promise.all([
      store.db.selectFrom('policies').select(['name', 'version', 'cluster', 'spec']).execute(),
      runs.latestScheduled('backup'),
    ]);
    const physical = rows
      .map((row) => ({ name: row.name, version: Number(row.version), cluster: row.cluster, spec: JSON.parse(row.spec) as Policy }))
      .filter((p) => p.spec.mode === 'physical');
    const effective = await states.ensureMany(physical.map((p) => ({ policy: p.name, cluster: p.cluster, schedule: p.spec.schedule })));
    this.entries.clear();
    for (const p of physical) {
      this.entries.set(p.name, this.entry(p.name, p.version, p.cluster, p.spec, effective.get(p.name)!, latest.get(p.name)));
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    await this.load();
    while (!signal.aborted) {
      const now = this.deps.clock.now();
      const nowMs = now.getTime();
      for (const e of [...this.entries.values()]) {
        if (e.nextAt !== null && e.nextAt <= nowMs) {
          try {
            await this.fire(e, now);
          } catch (err) {
            if (isAbort(err)) throw err;
            this.deps.log.error({ err: describe(err), policy: e.name }, `scheduling policy ${e.name} failed`);
            // try again on the next pass, not in a tight loop
            e.nextAt = nowMs + Math.min(this.maxSleepMs, 60_000);
          }
        }
      }
      let earliest = Number.POSITIVE_INFINITY;
      for (const job of this.jobs) {
        let at: Date | null = null;
        try {
          at = job.nextWakeAt(now);
          if (at && at.getTime() <= nowMs) {
            await job.tick(now);
            at = job.nextWakeAt(this.deps.clock.now());
          }
        } catch (err) {
          if (isAbort(err)) throw err;
          this.deps.log.error({ err: describe(err), job: job.name }, `scheduled job ${job.name} failed`);
          at = new Date(nowMs + 60_000);
        }
        if (at) earliest = Math.min(earliest, Math.max(at.getTime(), nowMs + 1));
      }
      for (const e of this.entries.values()) if (e.nextAt !== null && e.nextAt < earliest) earliest = e.nextAt;
      const current = this.deps.clock.now().getTime();
      const sleepMs = Math.max(0, Math.min(earliest - current, this.maxSleepMs));
      if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
      try {
        await this.deps.tasks.sleep(sleepMs, this.wakeController.signal);
      } catch (err) {
        if (!isAbort(err) || signal.aborted) throw err;
        // woken by a policy change: loop again
      }
    }
  }

  /** Records what is due for one policy now. */
  private async fire(e: Entry, now: Date): Promise<void> {
    const { runs, log } = this.deps;
    const decision = decideDue({ schedule: e.schedule, after: e.after, now, catchUp: e.catchUp, paused: e.paused });
    let latest = e.after;
    for (const s of decision.skipped) {
      await runs.create({
        policy: e.name,
        cluster: e.cluster,
        kind: 'backup',
        type: s.type,
        trigger: 'scheduled',
        scheduled_at: s.at,
        state: s.reason === 'paused' ? 'skipped' : 'missed',
        reason: s.reason === 'paused' ? 'the policy is paused' : missedReason(e.catchUp),
      });
      if (s.at > latest) latest = s.at;
    }
    if (decision.run) {
      const r = decision.run;
      const { run, created } = await runs.create({
        policy: e.name,
        cluster: e.cluster,
        kind: 'backup',
        type: r.type,
        trigger: r.catchUp ? 'catch_up' : 'scheduled',
        scheduled_at: r.at,
        details: r.catchUp ? { catch_up: true, started_late_ms: now.getTime() - r.at.getTime() } : undefined,
      });
      if (r.at > latest) latest = r.at;
      if (created) {
        log.info({ policy: e.name, run: run.id }, `policy ${e.name}: ${r.type} backup due at ${r.at.toISOString()}${r.catchUp ? ' (catch-up)' : ''}`);
        await this.deps.dispatch(run);
      }
    }
    e.after = latest;
    e.nextAt = this.nextAfter(e);
    // Nothing recorded (e.g. a time within the grace window not reached yet): look again at that time.
    if (e.nextAt !== null && e.nextAt <= now.getTime()) e.nextAt = now.getTime() + 1_000;
  }
}
