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
import { clusterFromSpec, ConfigReader, type LoadedCluster } from './config.js';
import { storageResolver, type OpsContext } from './ops-context.js';
import { OpsEngine, type OpsEngineOptions } from './ops.js';
import { PolicyStates } from './policy-state.js';
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

/** An apply running now: how to stop it, when it has ended, and what it claimed to have started. */
interface ApplyInFlight {
  stop: AbortController;
  done: Promise<void>;
  claimed: AppliedConfig | null;
}

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
  private readonly applying = new Map<string, { again: boolean }>();
  /** policy → its applies in flight: a deletion stops them and undoes what they claimed */
  private readonly inFlight = new Map<string, Set<ApplyInFlight>>();
  /** cluster → the undo of its deleted policy, while it runs */
  private readonly undoing = new Map<string, Promise<void>>();
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
    }
  }

  /** Each lease renewal: runs of daemons gone since; policy changes another daemon served. */
  private async leadingTick(): Promise<void> {
    const present = await this.takeOverRuns();
    if (present > 1 || this.othersPresent) await this.scheduler.refresh();
    this.othersPresent = present > 1;
  }

  /** Adopts the in-flight backup runs of daemons that are gone; returns how many daemons are present. */
  private async takeOverRuns(): Promise<number> {
    const alive = await this.lease.alive();
    const adopted: Run[] = [];
    for (const orphan of await this.runs.orphans('backup', (owner) => alive.has(owner))) {
      if (await this.runs.adopt(orphan)) adopted.push(orphan.run);
    }
    if (adopted.length > 0) this.log.info({ runs: adopted.map((r) => r.id) }, `taking over ${adopted.length} backup run(s) in flight`);
    await this.backups.resume(adopted);
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
    await this.undoing.get(name);
    await this.clusters.forget(name);
  }

  async policyPut(name: string): Promise<void> {
    await this.scheduler.policyChanged(name);
    this.requestApply(name);
  }

  /**
   * The policy row is gone: stop scheduling it, skip its queued runs, stop its applies in flight, and undo
   * on the cluster what applying started — what finished applies recorded plus what the stopped ones had
   * claimed before they stopped.
   */
  async policyDeleted(name: string, clusterName: string): Promise<void> {
    this.scheduler.policyRemoved(name);
    const applies = [...(this.inFlight.get(name) ?? [])];
    for (const apply of applies) apply.stop.abort();
    await this.backups.cancelForPolicy(name, `policy "${name}" was deleted`);
    const state = await this.policyStates.get(name);
    const cluster = await this.config.cluster(clusterName);
    await this.policyStates.remove(name);
    if (!cluster || this.opts.applyPolicies === false) return;
    if (!state?.applied && applies.length === 0) return;
    const running = (await this.runs.active({ policy: name, kind: 'backup' })).some((r) => r.state === 'running');
    const undo = this.tasks.spawn(`remove policy ${name}`, async (signal) => {
      // Once the stopped applies have ended nothing more is sent for this policy; then their claims are complete.
      await Promise.all(applies.map((a) => a.done));
      let applied = state?.applied?.cluster === clusterName ? state.applied : null;
      for (const apply of applies) if (apply.claimed?.cluster === clusterName) applied = mergeApplied(applied, apply.claimed);
      if (applied) await this.undo(name, cluster, applied, running, signal);
    });
    this.undoing.set(clusterName, undo);
    void undo.finally(() => {
      if (this.undoing.get(clusterName) === undo) this.undoing.delete(clusterName);
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

  /** Applies the policy in the background; a change during an apply applies again afterwards. */
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
          await this.applyNow(name, signal);
        } while (slot.again && !signal.aborted);
      } finally {
        this.applying.delete(name);
      }
    });
  }

  /**
   * One apply; records the outcome in policy_states. Exposed for tests (idempotency). Deleting the policy
   * stops it (AbortError) before its next write.
   */
  async applyNow(name: string, signal?: AbortSignal, opts: { archiveWaitMs?: number } = {}): Promise<string[] | undefined> {
    const apply: ApplyInFlight = { stop: new AbortController(), done: Promise.resolve(), claimed: null };
    const forward = () => apply.stop.abort();
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    const work = this.applyOnce(name, apply, opts);
    apply.done = work.then(
      () => undefined,
      () => undefined,
    );
    let applies = this.inFlight.get(name);
    if (!applies) this.inFlight.set(name, (applies = new Set()));
    applies.add(apply);
    try {
      return await work;
    } finally {
      signal?.removeEventListener('abort', forward);
      applies.delete(apply);
      if (applies.size === 0 && this.inFlight.get(name) === applies) this.inFlight.delete(name);
    }
  }

  private async applyOnce(name: string, apply: ApplyInFlight, opts: { archiveWaitMs?: number }): Promise<string[] | undefined> {
    const signal = apply.stop.signal;
    const policy = await this.config.policy(name).catch(() => undefined);
    if (!policy) return undefined;
    // The same cluster's previous policy may still be being removed: its undo goes first.
    await this.undoing.get(policy.cluster.name);
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
          // Kept in memory for a deletion that stops this apply, and stored for one after a failure.
          claim: async (soFar) => {
            apply.claimed = mergeApplied(base, soFar);
            await this.policyStates.setApply(name, { state: 'applying', applied: apply.claimed });
          },
          note: (m) => this.log.info({ policy: name, cluster: policy.cluster.name }, `policy ${name}: ${m}`),
          archiveWaitMs: opts.archiveWaitMs ?? this.opts.archiveWaitMs,
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
   * Before a backup: the policy's current version must be applied (a failed or pending apply is tried
   * now; the archive wait is left to the pre-check). Returns why it is not, or null.
   */
  async ensureApplied(name: string, version: number, signal: AbortSignal): Promise<string | null> {
    if (this.opts.applyPolicies === false) return null;
    const state = await this.policyStates.get(name);
    if (state?.apply_state === 'applied' && state.applied_version === version) return null;
    try {
      await this.applyNow(name, signal, { archiveWaitMs: 0 });
    } catch (err) {
      // stopped by a deletion of the policy, not by the run's own signal
      if (!isAbort(err) || signal.aborted) throw err;
      return `policy "${name}" was deleted`;
    }
    const after = await this.policyStates.get(name);
    return after?.apply_state === 'applied' ? null : (after?.apply_error ?? `policy "${name}" could not be applied to its cluster`);
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
