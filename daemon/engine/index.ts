/**
 * The engine: everything the daemon does besides answering CRUD — applying policies to clusters, the
 * scheduler, backup runs and their tracking. One per daemon; the API reaches it through DaemonContext.
 *
 *   const engine = new Engine({ store, secrets, log }, { clock, scheduler, verifyClusters, lease, ... });
 *   await engine.start();                 // takes the scheduling lease if free; while holding it: re-attach
 *                                         // in-flight runs, run the scheduler and the operations loop, apply policies
 *   engine.lease.leading                  // this daemon schedules (../scheduler/lease.ts)
 *   engine.runs                           // RunRepository (see runs.ts)
 *   engine.backups.requestNow(cluster, type)
 *   engine.scheduler.nextRuns(policy, 5) / engine.scheduler.addJob(job)
 *   engine.clusters.observation(name)     // last reachability check and detected version
 *   engine.policyStates.get(policy)       // apply state: pending | applying | applied | failed | refused
 *   await engine.verifyCluster(name, spec)   // PUT /v1/clusters: reachable? (throws ClusterCheckError)
 *   engine.policyPut(name) / engine.policyDeleted(name) / engine.clusterPut(name) / engine.clusterDeleted(name)
 *   engine.policyLocks                    // which daemon works on a policy (policy-work.ts)
 *   engine.opsContext()                   // what cleanup, secondary backup and alarms use (ops-context.ts)
 *   await engine.settled()                // tests on simulated time: wait until all work sleeps
 *   await engine.stop({ releaseLease? })  // default gives the lease up; false: as if killed (tests)
 */
import type { ClusterSpec } from '../../model/index.js';
import type { Logger } from '../log.js';
import type { ObDriverOptions } from '../oceanbase/index.js';
import { SchedulingLease, type LeaseOptions } from '../scheduler/lease.js';
import { Scheduler } from '../scheduler/loop.js';
import type { SecretBox } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import { applyPolicy, logicalNotAvailable, mergeApplied, removePolicy, type AppliedConfig } from './apply.js';
import { BackupService, type BackupOptions } from './backup.js';
import { systemClock, type Clock } from './clock.js';
import { ClusterRegistry, type ClusterProbe, type StatementObserver } from './clusters.js';
import { clusterFromSpec, ConfigReader, type LoadedCluster, type LoadedPolicy } from './config.js';
import { storageResolver, type OpsContext } from './ops-context.js';
import { OpsEngine, type OpsEngineOptions } from './ops.js';
import { PolicyStates } from './policy-state.js';
import { PolicyLocks, PolicyWatch } from './policy-work.js';
import { RunRepository, type Run } from './runs.js';
import { describe, isAbort, messageOf, TaskGroup } from './tasks.js';

export { BackupRefused } from './backup.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { COMPACTION_NEEDED, FULL_BACKUP_NEEDED } from './prechecks.js';
export type { Run, RunFilter, RunKind, RunState } from './runs.js';
export { logicalNotAvailable };

export interface EngineOptions {
  clock?: Clock;
  /** run the scheduler loop (default true) */
  scheduler?: boolean;
  /** PUT /v1/clusters connects to the cluster first (default true) */
  verifyClusters?: boolean;
  /** apply policies to their clusters on PUT and at start (default true) */
  applyPolicies?: boolean;
  /** longest scheduler sleep before re-reading the clock (default 60 s) */
  maxSleepMs?: number;
  /** how long an apply waits for the log archive to reach DOING (default 30 min) */
  archiveWaitMs?: number;
  /** a failed apply is tried again after this long (default 5 min) */
  applyRetryMs?: number;
  /** how often applies in flight compare their policy's version with the store while they wait (default 5 s) */
  applyWatchMs?: number;
  driver?: ObDriverOptions;
  backup?: BackupOptions;
  /** sees every statement sent to any cluster (tests count writes) */
  observer?: StatementObserver;
  /** cleanup and secondary cadences, alarms (webhook, intervals); false: none of them */
  ops?: OpsEngineOptions | false;
  /** the scheduling lease among daemons sharing the store (default: 30 s, renewed every 10 s) */
  lease?: LeaseOptions;
}

export interface EngineDeps {
  store: Store;
  secrets: SecretBox;
  log: Logger;
}

/** PUT /v1/clusters could not reach or log in to the cluster. */
export class ClusterCheckError extends Error {
  constructor(
    message: string,
    readonly field: 'host' | 'password' | 'tenants',
  ) {
    super(message);
  }
}

/** An apply running now: how to stop it, and whether it stopped because its policy changed in the store. */
interface ApplyInFlight {
  stop: AbortController;
  /** its policy was deleted or replaced (not the daemon stopping): the work goes on with what the store says */
  stale: boolean;
}

/** How often a backup waiting for another daemon's apply of its policy looks whether it has ended. */
const APPLY_ELSEWHERE_POLL_MS = 2_000;

export class Engine {
  readonly clock: Clock;
  readonly runs: RunRepository;
  readonly config: ConfigReader;
  readonly clusters: ClusterRegistry;
  readonly tasks: TaskGroup;
  readonly backups: BackupService;
  readonly scheduler: Scheduler;
  readonly policyStates: PolicyStates;
  /** cleanup, secondary backup, alarms and health (ops.ts) */
  readonly ops: OpsEngine;
  /** which daemon on the store schedules; this one does while `lease.leading` */
  readonly lease: SchedulingLease;
  /** which daemon works on a policy (applies it, or undoes it once deleted) */
  readonly policyLocks: PolicyLocks;
  private readonly watch: PolicyWatch;
  /** policy → its background work requested here (again: asked for once more meanwhile) */
  private readonly applying = new Map<string, { again: boolean }>();
  /** policy → the tail of its work on this daemon: one piece at a time (exclusive()) */
  private readonly work = new Map<string, Promise<void>>();
  /** policy → its apply in flight here: a deletion stops it */
  private readonly inFlight = new Map<string, ApplyInFlight>();
  /** deleted policy → its cluster as it was then: the cluster may be deleted before the undo reaches it */
  private readonly removals = new Map<string, LoadedCluster>();
  /** cluster → the undo of its deleted policy, while it runs here */
  private readonly undoing = new Map<string, { policy: string; done: Promise<void> }>();
  /** policy → backups here waiting to apply it: its apply leaves the wait for DOING to their pre-check */
  private readonly hurried = new Map<string, number>();
  private readonly opts: EngineOptions;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** other daemons were present at the last lease tick: policies may change through them */
  private othersPresent = false;

  constructor(
    private readonly deps: EngineDeps,
    options: EngineOptions = {},
  ) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    const { store, secrets, log } = deps;
    this.tasks = new TaskGroup(this.clock, log);
    this.lease = new SchedulingLease({ db: store.db, clock: this.clock, tasks: this.tasks, log }, options.lease);
    this.runs = new RunRepository(store.db, this.clock, this.lease.holder);
    this.config = new ConfigReader(store, secrets);
    this.clusters = new ClusterRegistry(store.db, this.clock, log, { driver: options.driver, observer: options.observer });
    this.policyStates = new PolicyStates(store.db, this.clock);
    this.policyLocks = new PolicyLocks(store.db, this.clock, this.lease.holder, () => this.lease.alive());
    this.watch = new PolicyWatch(
      store.db,
      options.applyWatchMs ?? 5_000,
      (work) => void this.tasks.spawn('policy watch', work),
      (ms) => this.tasks.sleep(ms),
    );
    this.backups = new BackupService(
      {
        runs: this.runs,
        config: this.config,
        clusters: this.clusters,
        tasks: this.tasks,
        clock: this.clock,
        log,
        ensureApplied: (name, version, signal) => this.ensureApplied(name, version, signal),
      },
      options.backup,
    );
    this.scheduler = new Scheduler(
      { store, runs: this.runs, states: this.policyStates, tasks: this.tasks, clock: this.clock, log, dispatch: (run) => this.backups.dispatch(run) },
      { maxSleepMs: options.maxSleepMs },
    );
    this.ops = new OpsEngine(this.opsContext(), {
      ...(options.ops || {}),
      spawn: (name, work) => void this.tasks.spawn(name, work),
      sleep: (ms, signal) => this.tasks.sleep(ms, signal),
    });
  }

  get log(): Logger {
    return this.deps.log;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.lease.start({ elected: (term) => this.lead(term), tick: () => this.leadingTick() });
  }

  /** This daemon holds the scheduling lease (until `term` aborts): it schedules and follows runs. */
  private async lead(term: AbortSignal): Promise<void> {
    await this.takeOverRuns();
    if (this.opts.scheduler !== false) this.scheduler.start(term);
    if (this.opts.ops !== false) void this.tasks.spawn('operations', (signal) => this.ops.run(AbortSignal.any([signal, term])));
    if (this.opts.applyPolicies !== false) {
      for (const name of await this.config.policyNames()) this.requestApply(name);
      await this.attendUnattended();
    }
  }

  /**
   * Each lease renewal: runs of daemons gone since; policy changes another daemon served, and policy work
   * it left (a deleted policy not undone, an apply cut short); runs of this daemon waiting for theirs.
   */
  private async leadingTick(): Promise<void> {
    const present = await this.takeOverRuns();
    if (present > 1 || this.othersPresent) {
      await this.scheduler.refresh();
      await this.attendUnattended();
    }
    this.othersPresent = present > 1;
    await this.backups.followForeign();
  }

  /** Takes up policy work no present daemon does (deleted policies not undone yet, applies cut short). */
  private async attendUnattended(): Promise<void> {
    if (this.opts.applyPolicies === false) return;
    for (const name of await this.policyLocks.unattended()) {
      if (!this.applying.has(name) && !this.work.has(name)) this.requestApply(name);
    }
  }

  /** Adopts the runs in flight of daemons that are gone (backups re-attach, cleanup and secondary start again); returns how many daemons are present. */
  private async takeOverRuns(): Promise<number> {
    const alive = await this.lease.alive();
    const adopted: Run[] = [];
    for (const orphan of await this.runs.orphans('backup', (owner) => alive.has(owner))) {
      if (await this.runs.adopt(orphan)) adopted.push(orphan.run);
    }
    if (adopted.length > 0) this.log.info({ runs: adopted.map((r) => r.id) }, `taking over ${adopted.length} backup run(s) in flight`);
    await this.backups.resume(adopted);
    for (const kind of ['cleanup', 'secondary'] as const) {
      for (const orphan of await this.runs.orphans(kind, (owner) => alive.has(owner))) {
        if (!(await this.runs.adopt(orphan))) continue;
        this.log.info({ run: orphan.run.id }, `taking over ${kind} run ${orphan.run.id}, left under way by a stopped daemon: starting it again`);
        await this.ops.resume(orphan.run);
      }
    }
    return alive.size;
  }

  /** Stops every task; gives the scheduling lease up unless `releaseLease` is false (a kill, for tests). */
  stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      await this.tasks.stop();
      await this.ops.stop();
      if (options.releaseLease !== false) {
        await this.lease.release().catch((err) => this.log.warn({ err: describe(err) }, `giving the scheduling lease up failed: ${messageOf(err)}`));
      }
      await this.clusters.closeAll();
    })();
    return this.stopping;
  }

  /** Shared drivers, the run table and the clock for cleanup, secondary backup and alarms. */
  opsContext(): OpsContext {
    return {
      store: this.deps.store,
      runs: this.runs,
      // waits of cleanup and secondary runs count as idle for settled()
      clock: { now: () => this.clock.now(), sleep: (ms, signal) => this.tasks.sleep(ms, signal) },
      log: this.deps.log,
      driver: async (name) => {
        const cluster = await this.config.cluster(name);
        if (!cluster) throw new Error(`cluster "${name}" does not exist`);
        return this.clusters.driver(cluster);
      },
      storage: storageResolver(this.deps.store, this.deps.secrets),
    };
  }

  settled(timeoutMs?: number): Promise<void> {
    return this.tasks.settled(timeoutMs);
  }

  // ------------------------------------------------------------------------------------------------
  // hooks called by the API after a resource changed

  /** Connects to the cluster as registered; throws ClusterCheckError when it cannot. */
  async verifyCluster(name: string, spec: ClusterSpec): Promise<ClusterProbe | undefined> {
    if (this.opts.verifyClusters === false) return undefined;
    const cluster = clusterFromSpec(name, 0, spec);
    const probe = await this.clusters.probe(cluster, { record: false });
    if (!probe.reachable) {
      const field = probe.errorKind === 'auth' ? 'password' : 'host';
      throw new ClusterCheckError(probe.error ?? `cannot connect to ${spec.host}:${spec.port}`, field);
    }
    if (probe.missingTenants && probe.missingTenants.length > 0) {
      throw new ClusterCheckError(
        `cluster "${name}" at ${spec.host}:${spec.port} has no user tenant named ${probe.missingTenants.map((t) => `"${t}"`).join(', ')}`,
        'tenants',
      );
    }
    await this.clusters.record(name, probe);
    return probe;
  }

  async clusterPut(name: string): Promise<void> {
    const policy = await this.config.policyOfCluster(name);
    if (policy) this.requestApply(policy);
  }

  async clusterDeleted(name: string): Promise<void> {
    // A deleted policy's undo may still be using this cluster's driver: let it finish before closing it.
    await this.undoing.get(name)?.done;
    await this.clusters.forget(name);
  }

  async policyPut(name: string): Promise<void> {
    await this.scheduler.policyChanged(name);
    this.requestApply(name);
  }

  /**
   * The policy row is gone: stop scheduling it, skip its queued runs, stop its apply in flight, and undo on
   * the cluster what applying started (the claims its apply state holds) — here, or by the daemon that
   * holds the policy's work (an apply in flight there notices the deletion and undoes it when stopped).
   */
  async policyDeleted(name: string, clusterName: string): Promise<void> {
    this.scheduler.policyRemoved(name);
    const apply = this.inFlight.get(name);
    if (apply) {
      apply.stale = true;
      apply.stop.abort();
    }
    await this.backups.cancelForPolicy(name, `policy "${name}" was deleted`);
    if (this.opts.applyPolicies === false) {
      await this.policyStates.remove(name);
      return;
    }
    // Loaded now: deleting the cluster right after (cdktf destroy) must not keep the undo from reaching it.
    const cluster = await this.config.cluster(clusterName);
    if (cluster) this.removals.set(name, cluster);
    const entry = { policy: name, done: this.tasks.spawn(`remove policy ${name}`, (signal) => this.reconcile(name, signal).then(() => undefined)) };
    this.undoing.set(clusterName, entry);
    void entry.done.finally(() => {
      if (this.undoing.get(clusterName) === entry) this.undoing.delete(clusterName);
    });
  }

  private async undo(name: string, cluster: LoadedCluster, applied: AppliedConfig, cancelBackups: boolean, signal: AbortSignal): Promise<void> {
    try {
      const driver = await this.clusters.driver(cluster);
      const changes = await removePolicy(
        { driver, now: () => this.clock.now(), sleep: (ms) => this.tasks.sleep(ms, signal) },
        applied,
        { cancelBackups },
      );
      this.log.info({ policy: name, cluster: cluster.name, changes }, `policy ${name} removed from cluster ${cluster.name}`);
    } catch (err) {
      if (isAbort(err)) throw err;
      this.log.warn({ policy: name, cluster: cluster.name, err: describe(err) }, `policy ${name}: undoing its settings on cluster ${cluster.name} failed: ${messageOf(err)}`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // applying

  /**
   * Brings the cluster in line with the stored policy in the background: applies it, or undoes it when it
   * was deleted. A change meanwhile is worked on afterwards.
   */
  requestApply(name: string): void {
    if (this.opts.applyPolicies === false) return;
    const current = this.applying.get(name);
    if (current) {
      current.again = true;
      return;
    }
    const slot = { again: false };
    this.applying.set(name, slot);
    void this.tasks.spawn(`apply policy ${name}`, async (signal) => {
      try {
        do {
          slot.again = false;
          await this.reconcile(name, signal);
        } while (slot.again && !signal.aborted);
      } finally {
        this.applying.delete(name);
      }
    });
  }

  /**
   * Applies the policy now (or undoes it when deleted) and returns the changes; undefined when nothing was
   * applied here (another daemon holds the policy's work, or the policy is gone). Exposed for tests
   * (idempotency). A deletion stops the apply before its next write.
   */
  async applyNow(name: string, signal?: AbortSignal, opts: { archiveWaitMs?: number } = {}): Promise<string[] | undefined> {
    return (await this.reconcile(name, signal, opts)).changes;
  }

  /**
   * Works on the policy until its cluster matches the store: applies the stored version, or undoes the
   * policy when it was deleted; goes again when the policy changed under the apply or another daemon asked
   * meanwhile. One piece of work per policy at a time, here (exclusive) and across daemons (policyLocks);
   * `here` false: another daemon holds the work and was asked to go again.
   */
  private reconcile(name: string, signal?: AbortSignal, opts: { archiveWaitMs?: number } = {}): Promise<{ here: boolean; changes?: string[] }> {
    return this.exclusive(name, async () => {
      if (!(await this.policyLocks.take(name))) return { here: false };
      try {
        for (;;) {
          const outcome = await this.workOnce(name, signal, opts);
          if (!outcome.stale && (await this.policyLocks.give(name))) return { here: true, changes: outcome.changes };
        }
      } catch (err) {
        // stopping (or the store failed): the work is free again; what is left of it is taken up later
        await this.policyLocks.drop(name).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Runs `fn` after the policy's earlier work on this daemon has ended. */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.work.get(name);
    let finished!: () => void;
    const mine = new Promise<void>((resolve) => (finished = resolve));
    const tail = before ? before.then(() => mine) : mine;
    this.work.set(name, tail);
    try {
      await before;
      return await fn();
    } finally {
      finished();
      if (this.work.get(name) === tail) this.work.delete(name);
    }
  }

  private async workOnce(name: string, signal: AbortSignal | undefined, opts: { archiveWaitMs?: number }): Promise<{ stale: boolean; changes?: string[] }> {
    let policy: LoadedPolicy | undefined;
    try {
      policy = await this.config.policy(name);
    } catch {
      // refers to a cluster or storage that cannot be loaded: nothing to apply now
      return { stale: false };
    }
    if (!policy) {
      await this.removeDeleted(name, signal ?? this.tasks.signal);
      return { stale: false };
    }
    this.removals.delete(name);
    const apply: ApplyInFlight = { stop: new AbortController(), stale: false };
    const stale = () => {
      apply.stale = true;
      apply.stop.abort();
    };
    const forward = () => apply.stop.abort();
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    // While it waits (archive, a cancelled job) its policy is compared with the store in batches.
    const unwatch = this.watch.add({ policy: name, version: policy.version, stale });
    this.inFlight.set(name, apply);
    try {
      return { stale: false, changes: await this.applyOnce(policy, apply, stale, opts) };
    } catch (err) {
      if (!isAbort(err) || !apply.stale || signal?.aborted || this.tasks.stopped) throw err;
      // Deleted or replaced: the cluster stays as far as the apply got (its claims are stored); the next
      // round applies the new version or undoes the policy, on the cluster known now.
      if (!this.removals.has(name)) this.removals.set(name, policy.cluster);
      this.log.info({ policy: name }, `policy ${name} changed in the store during its apply; the apply stopped`);
      return { stale: true };
    } finally {
      unwatch();
      signal?.removeEventListener('abort', forward);
      if (this.inFlight.get(name) === apply) this.inFlight.delete(name);
    }
  }

  /** One apply of the stored version; records the outcome in policy_states. */
  private async applyOnce(policy: LoadedPolicy, apply: ApplyInFlight, stale: () => void, opts: { archiveWaitMs?: number }): Promise<string[] | undefined> {
    const name = policy.name;
    const signal = apply.stop.signal;
    // The same cluster's previous policy may still be being removed: its undo goes first.
    const undoing = this.undoing.get(policy.cluster.name);
    if (undoing && undoing.policy !== name) await undoing.done;
    signal.throwIfAborted();
    await this.policyStates.ensure(name, policy.spec.cluster, policy.spec.schedule);
    if (policy.spec.mode !== 'physical') {
      await this.policyStates.setApply(name, { state: 'refused', error: logicalNotAvailable(name), version: policy.version });
      return undefined;
    }
    const previous = (await this.policyStates.get(name))?.applied;
    await this.policyStates.setApply(name, { state: 'applying', error: null });
    if (previous && previous.cluster !== policy.cluster.name) {
      // The policy moved to another cluster: what it started on the old one stops.
      const old = await this.config.cluster(previous.cluster);
      if (old) await this.undo(name, old, previous, false, signal);
    }
    const base = previous?.cluster === policy.cluster.name ? previous : null;
    try {
      const driver = await this.clusters.driver(policy.cluster);
      const outcome = await applyPolicy(
        {
          driver,
          now: () => this.clock.now(),
          sleep: (ms) => this.tasks.sleep(ms, signal),
          signal,
          // between steps: another daemon may have deleted or replaced the policy
          checkpoint: async () => {
            if ((await this.watch.version(name)) !== policy.version) stale();
            signal.throwIfAborted();
          },
          // Stored before the write: a deletion undoes it, whichever daemon does the undo.
          claim: async (soFar) => {
            await this.policyStates.setApply(name, { state: 'applying', applied: mergeApplied(base, soFar) });
          },
          note: (m) => this.log.info({ policy: name, cluster: policy.cluster.name }, `policy ${name}: ${m}`),
          archiveWaitMs: opts.archiveWaitMs ?? this.opts.archiveWaitMs,
          archiveWaitOver: () => this.hurried.has(name),
        },
        policy,
      );
      const archiveNote = outcome.archive.doing
        ? null
        : `log archive is not DOING yet (${Object.entries(outcome.archive.states).map(([k, v]) => `${k} ${v}`).join(', ')})`;
      await this.policyStates.setApply(name, { state: 'applied', error: archiveNote, version: policy.version, applied: outcome.applied });
      return outcome.changes;
    } catch (err) {
      if (isAbort(err)) throw err;
      const message = messageOf(err);
      this.log.warn({ policy: name, err: describe(err) }, `applying policy ${name} failed: ${message}`);
      await this.policyStates.setApply(name, { state: 'failed', error: message, version: policy.version });
      this.retryApplyLater(name, policy.version);
      return undefined;
    }
  }

  /**
   * The policy is gone from the store: undo on its cluster what its apply state says was started (finished
   * applies and the claims of stopped ones), then forget the state. Nothing when already done.
   */
  private async removeDeleted(name: string, signal: AbortSignal): Promise<void> {
    const state = await this.policyStates.get(name);
    const applied = state?.applied;
    if (applied) {
      let cluster = this.removals.get(name);
      if (cluster?.name !== applied.cluster) cluster = await this.config.cluster(applied.cluster);
      if (cluster) {
        const running = (await this.runs.active({ policy: name, kind: 'backup' })).some((r) => r.state === 'running');
        await this.undo(name, cluster, applied, running, signal);
      } else {
        this.log.warn({ policy: name, cluster: applied.cluster }, `policy ${name}: cluster ${applied.cluster} no longer exists; what the policy set on it was not undone`);
      }
    }
    if (state) await this.policyStates.remove(name);
    this.removals.delete(name);
  }

  /**
   * Before a backup: the policy's current version must be applied (a failed or pending apply is tried
   * now; the archive wait is left to the pre-check — an apply in flight here ends its own; an apply
   * another daemon runs is waited for). Returns why it is not, or null.
   */
  async ensureApplied(name: string, version: number, signal: AbortSignal): Promise<string | null> {
    if (this.opts.applyPolicies === false) return null;
    this.hurried.set(name, (this.hurried.get(name) ?? 0) + 1);
    try {
      for (;;) {
        const state = await this.policyStates.get(name);
        if (state?.apply_state === 'applied' && state.applied_version === version) return null;
        if ((await this.reconcile(name, signal, { archiveWaitMs: 0 })).here) break;
        while (await this.policyLocks.heldElsewhere(name)) await this.tasks.sleep(APPLY_ELSEWHERE_POLL_MS, signal);
      }
    } finally {
      const left = this.hurried.get(name)! - 1;
      if (left > 0) this.hurried.set(name, left);
      else this.hurried.delete(name);
    }
    const after = await this.policyStates.get(name);
    if (!after || !(await this.watch.version(name))) return `policy "${name}" was deleted`;
    return after.apply_state === 'applied' ? null : (after.apply_error ?? `policy "${name}" could not be applied to its cluster`);
  }

  private retryApplyLater(name: string, version: number): void {
    void this.tasks.spawn(`retry apply ${name}`, async (signal) => {
      await this.tasks.sleep(this.opts.applyRetryMs ?? 5 * 60_000, signal);
      const state = await this.policyStates.get(name);
      const current = await this.config.policySpec(name);
      if (state?.apply_state === 'failed' && current?.version === version) this.requestApply(name);
    });
  }
}
