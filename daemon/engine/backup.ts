/**
 * Data backup runs: pre-checks as steps, the start per version, job tracking until the end, re-attaching
 * after a restart. At most one data backup per cluster runs at a time; a due run meeting a running one
 * waits (state `waiting`) and starts when it ends; a newer due run supersedes an older waiting one.
 *
 *   backups.requestNow(cluster, type): Promise<Run>   // "backup now": fast checks (BackupRefused → 409), then the run
 *   backups.dispatch(run)                             // a stored pending run (scheduler): start, or wait its turn
 *   backups.resume(runs)                              // runs taken over: re-attach running ones, restart pending/waiting
 *   backups.cancelForPolicy(policy, reason)           // the policy was deleted: its queued runs are skipped
 *   backups.followForeign()                           // runs waiting for another daemon's run start once it ended
 *
 * One at a time holds across the daemons on the store: a run takes the cluster's turn (runs.takeTurn)
 * before it starts; a run due while another daemon's run holds it waits like behind one of this daemon.
 *
 * Poll cadence: first look after pollMinMs (default 5 s), then ×1.5 up to pollMaxMs (default 60 s).
 * A lost connection mid-poll is retried with the same cadence; after lostLimitMs (default 30 min)
 * without an answer the run fails with the last error. After data_backup_timeout_minutes the run gets
 * `timed_out_at` (for the timeout alarm) and keeps running.
 *
 * 3.x fulls with the policy's compaction_before_full "trigger": when the compaction pre-check fails, the
 * run sends MAJOR FREEZE (once no merge is running) and polls `__all_zone` (compactionPollMs, ×1.5 up to
 * 60 s) until the merge is done; past compactionWaitMs (default 3 h) the run fails without starting.
 */
import type { Logger } from '../log.js';
import { ObError, type BackupJob, type CompactionStatus, type JobMarks, type JobRef, type ObDriver } from '../oceanbase/index.js';
import { judgeStoredRun } from '../scheduler/due.js';
import { logicalNotAvailable, waitArchiveDoing } from './apply.js';
import type { Clock } from './clock.js';
import type { ClusterRegistry } from './clusters.js';
import type { ConfigReader, LoadedCluster, LoadedPolicy } from './config.js';
import {
  checkArchive,
  checkCompaction,
  checkFullBeforeIncremental,
  checkNoRunningBackup,
  checkStorage,
  COMPACTION_NEEDED,
  type PrecheckResult,
} from './prechecks.js';
import type { Run, RunJob, RunRepository } from './runs.js';
import { describe, isAbort, messageOf, type TaskGroup } from './tasks.js';

export interface BackupOptions {
  pollMinMs?: number;
  pollMaxMs?: number;
  /** how long a run keeps trying to reach the cluster while tracking before it gives up */
  lostLimitMs?: number;
  /** how long a run waits for the log archive to reach DOING after starting it */
  archiveWaitMs?: number;
  /** how long to look for the job a BACKUP statement created */
  findJobMs?: number;
  /** 3.x, compaction_before_full "trigger": how long a run waits for the merge of its MAJOR FREEZE */
  compactionWaitMs?: number;
  /** first look at the merge after this long, then ×1.5 up to 60 s */
  compactionPollMs?: number;
}

/** A refused "backup now": the API answers with `status` and `message`. */
export class BackupRefused extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: 'not_found' | 'conflict' | 'precheck_failed',
    message: string,
    readonly check?: PrecheckResult,
  ) {
    super(message);
  }
}

interface Deps {
  runs: RunRepository;
  config: ConfigReader;
  clusters: ClusterRegistry;
  tasks: TaskGroup;
  clock: Clock;
  log: Logger;
  /** makes sure the policy's current version is applied to the cluster; returns why not, or null */
  ensureApplied?(policy: string, version: number, signal: AbortSignal): Promise<string | null>;
}

type Targets = Array<string | null>;

interface RunDetails {
  /** newest job ids before the BACKUP statement: the jobs it created are those after */
  marks?: JobMarks;
  /** checks already made when the run was requested (backup now) */
  prechecked?: boolean;
  requested_type?: string;
  [key: string]: unknown;
}

export class BackupService {
  private readonly opts: Required<BackupOptions>;
  /** cluster → id of the run holding the cluster (0 while "backup now" checks) */
  private readonly busy = new Map<string, number>();
  /** cluster → id of the run waiting for it */
  private readonly waiting = new Map<string, number>();
  /** cluster → id of another daemon's run holding its turn (it stands in `busy`) */
  private readonly foreign = new Map<string, number>();

  constructor(
    private readonly deps: Deps,
    options: BackupOptions = {},
  ) {
    this.opts = {
      pollMinMs: options.pollMinMs ?? 5_000,
      pollMaxMs: options.pollMaxMs ?? 60_000,
      lostLimitMs: options.lostLimitMs ?? 30 * 60_000,
      archiveWaitMs: options.archiveWaitMs ?? 30 * 60_000,
      findJobMs: options.findJobMs ?? 60_000,
      compactionWaitMs: options.compactionWaitMs ?? 3 * 3_600_000,
      compactionPollMs: options.compactionPollMs ?? 10_000,
    };
  }

  /** Which run holds the cluster now, if any. */
  runningOn(cluster: string): number | undefined {
    const id = this.busy.get(cluster);
    return id === undefined || id === 0 ? undefined : id;
  }

  // ------------------------------------------------------------------------------------------------
  // backup now

  async requestNow(clusterName: string, type: 'full' | 'incremental'): Promise<Run> {
    const { config, runs } = this.deps;
    const cluster = await config.cluster(clusterName);
    if (!cluster) throw new BackupRefused(404, 'not_found', `cluster "${clusterName}" does not exist`);
    const policyName = await config.policyOfCluster(clusterName);
    if (!policyName) {
      throw new BackupRefused(409, 'conflict', `cluster "${clusterName}" has no backup policy; create one first (a backup goes to the policy's storage)`);
    }
    const policy = await config.policy(policyName);
    if (!policy) throw new BackupRefused(409, 'conflict', `cluster "${clusterName}" has no backup policy; create one first`);
    if (policy.spec.mode !== 'physical') throw new BackupRefused(409, 'conflict', logicalNotAvailable(policy.name));

    if (this.busy.has(clusterName)) throw new BackupRefused(409, 'conflict', this.busyMessage(clusterName, this.busy.get(clusterName)!));
    const active = await runs.active({ cluster: clusterName, kind: 'backup' });
    if (active.length > 0) throw new BackupRefused(409, 'conflict', this.busyMessage(clusterName, active[0]!.id));

    this.busy.set(clusterName, 0);
    let handedOver = false;
    try {
      let driver: ObDriver;
      try {
        driver = await this.deps.clusters.driver(policy.cluster);
      } catch (err) {
        throw new BackupRefused(409, 'precheck_failed', messageOf(err));
      }
      const targets = await targetsOf(driver);
      const checks: PrecheckResult[] = [];
      for (const check of this.fastChecks(driver, policy, targets, type)) {
        const result = await check();
        checks.push(result);
        if (!result.ok && !result.startable) {
          throw new BackupRefused(409, 'precheck_failed', result.message, result);
        }
      }
      const { run } = await runs.create({
        policy: policy.name,
        cluster: clusterName,
        kind: 'backup',
        type,
        trigger: 'immediate',
        ob_version: driver.identity.version,
        details: { prechecked: true, requested_type: type },
      });
      // A run of another daemon may have taken the cluster since the check above.
      const holder = await runs.takeTurn(clusterName, run.id);
      if (holder !== null) {
        await runs.discard(run.id);
        throw new BackupRefused(409, 'conflict', this.busyMessage(clusterName, holder));
      }
      for (const c of checks) await runs.addStep(run.id, `precheck:${c.name}`, c.ok ? 'succeeded' : 'skipped', c.ok ? c.message : `${c.message}; ${remedyOf(c)}`);
      this.busy.set(clusterName, run.id);
      handedOver = true;
      this.spawnExecute(run.id, clusterName);
      return (await runs.get(run.id))!;
    } finally {
      // refused: give the cluster back (a scheduled run that queued meanwhile starts now)
      if (!handedOver) this.release(clusterName, 0);
    }
  }

  private busyMessage(cluster: string, runId: number): string {
    return runId === 0
      ? `a backup of cluster "${cluster}" is being requested right now; try again in a moment`
      : `a data backup of cluster "${cluster}" is already running or queued (run ${runId}); only one data backup of a cluster runs at a time`;
  }

  private fastChecks(driver: ObDriver, policy: LoadedPolicy, targets: Targets, type: 'full' | 'incremental'): Array<() => Promise<PrecheckResult>> {
    const checks: Array<() => Promise<PrecheckResult>> = [
      () => checkStorage(policy.storage),
      () => checkArchive(driver, targets),
      () => checkNoRunningBackup(driver),
    ];
    if (type === 'incremental') checks.push(() => checkFullBeforeIncremental(driver, targets));
    if (driver.major === 3 && type === 'full') checks.push(() => checkCompaction(driver, { canTrigger: policy.spec.compaction_before_full === 'trigger' }));
    return checks;
  }

  // ------------------------------------------------------------------------------------------------
  // scheduled runs and the per-cluster turn

  /** Starts a stored pending run now, or queues it behind the cluster's running backup. */
  async dispatch(run: Run): Promise<void> {
    const holder = this.busy.get(run.cluster);
    if (holder !== undefined && holder !== run.id) {
      await this.queue(run, holder);
      return;
    }
    this.busy.set(run.cluster, run.id);
    if (await this.takeTurn(run)) this.spawnExecute(run.id, run.cluster);
  }

  /**
   * The cluster's turn across daemons for `run`, which holds `busy` here: false when a run of another
   * daemon holds it — that one stands in `busy` then, and `run` waits for it (followForeign()).
   */
  private async takeTurn(run: Run): Promise<boolean> {
    let other: number | null;
    try {
      other = await this.deps.runs.takeTurn(run.cluster, run.id);
    } catch (err) {
      this.release(run.cluster, run.id);
      throw err;
    }
    if (other === null) return true;
    if (this.busy.get(run.cluster) === run.id) this.busy.set(run.cluster, other);
    this.foreign.set(run.cluster, other);
    await this.queue(run, other);
    return false;
  }

  /** Runs of other daemons that runs here wait for: once one has ended, the waiting run starts (one query). */
  async followForeign(): Promise<void> {
    if (this.foreign.size === 0) return;
    const still = new Set((await this.deps.runs.active({ ids: [...new Set(this.foreign.values())] })).map((r) => r.id));
    for (const [cluster, id] of [...this.foreign]) if (!still.has(id)) this.release(cluster, id);
  }

  private async queue(run: Run, holder: number): Promise<void> {
    const { runs, clock } = this.deps;
    const previous = this.waiting.get(run.cluster);
    if (previous !== undefined && previous !== run.id) {
      await runs.transition(previous, ['waiting', 'pending'], {
        state: 'skipped',
        reason: `superseded by run ${run.id} (scheduled ${run.scheduled_at}) while waiting for run ${holder} to finish`,
        finished_at: clock.now(),
      });
    }
    this.waiting.set(run.cluster, run.id);
    await runs.transition(run.id, ['pending', 'waiting'], {
      state: 'waiting',
      reason: holder === 0 ? 'another data backup of the cluster is being requested' : `waiting for run ${holder}, a data backup of the same cluster, to finish`,
    });
  }

  private release(cluster: string, runId: number): void {
    if (this.busy.get(cluster) !== runId) return;
    this.busy.delete(cluster);
    if (this.foreign.get(cluster) === runId) this.foreign.delete(cluster);
    const next = this.waiting.get(cluster);
    if (next === undefined || this.deps.tasks.stopped) return;
    this.waiting.delete(cluster);
    this.busy.set(cluster, next);
    void this.deps.tasks.spawn(`backup run ${next}`, async () => {
      const run = await this.deps.runs.get(next);
      if (!run) this.release(cluster, next);
      else if (await this.takeTurn(run)) this.spawnExecute(next, cluster);
    });
  }

  private spawnExecute(runId: number, cluster: string, mode: 'fresh' | 'reattach' = 'fresh'): void {
    void this.deps.tasks.spawn(`backup run ${runId}`, async (signal) => {
      try {
        if (mode === 'reattach') await this.reattach(runId, signal);
        else await this.execute(runId, signal);
      } finally {
        // A stopping daemon leaves the run as it is (holding the turn): the next start re-attaches it.
        if (!signal.aborted) {
          // a turn left behind is taken over anyway once its run has ended
          await this.deps.runs.giveTurn(cluster, runId).catch(() => undefined);
          this.release(cluster, runId);
        }
      }
    });
  }

  /** Policy deleted: its queued runs will not run. */
  async cancelForPolicy(policy: string, reason: string): Promise<void> {
    const { runs, clock } = this.deps;
    for (const run of await runs.active({ policy, kind: 'backup' })) {
      if (run.state === 'running') continue;
      if (this.waiting.get(run.cluster) === run.id) this.waiting.delete(run.cluster);
      await runs.transition(run.id, ['pending', 'waiting'], { state: 'skipped', reason, finished_at: clock.now() });
    }
  }

  /**
   * Runs this daemon took over (at start-up, or from a daemon that is gone): running ones are re-attached
   * (never started again); pending and waiting ones are judged like missed times (the policy's catch_up)
   * and go on, or are recorded as missed with the reason.
   */
  async resume(active: Run[]): Promise<void> {
    for (const run of active.filter((r) => r.state === 'running')) {
      if (this.busy.has(run.cluster)) continue;
      this.busy.set(run.cluster, run.id);
      // re-attached whatever the turn says (its job may be running); runs stored before turns take it now
      await this.deps.runs.takeTurn(run.cluster, run.id);
      this.spawnExecute(run.id, run.cluster, 'reattach');
    }
    for (const run of active.filter((r) => r.state !== 'running')) {
      if (await this.lateRunStays(run)) await this.dispatch(run);
    }
  }

  /** A stored run that never started: true when it still runs; otherwise it is recorded as missed or skipped. */
  private async lateRunStays(run: Run): Promise<boolean> {
    const { runs, config, clock, log } = this.deps;
    // a run without its policy is skipped, saying so, when it executes
    const policy = run.policy ? await config.policySpec(run.policy) : undefined;
    if (!policy) return true;
    const now = clock.now();
    const at = new Date(run.scheduled_at);
    const decision = judgeStoredRun({ schedule: policy.spec.schedule, at, now, catchUp: policy.spec.catch_up, paused: policy.spec.paused && run.trigger !== 'immediate' });
    if (decision.run) {
      if (decision.catchUp) await runs.update(run.id, { details: { ...run.details, catch_up: true, started_late_ms: now.getTime() - at.getTime() } });
      return true;
    }
    await runs.transition(run.id, ['pending', 'waiting'], { state: decision.state, reason: decision.reason, finished_at: now });
    log.info({ run: run.id, policy: run.policy }, `run ${run.id}, due at ${run.scheduled_at}, is not started late: ${decision.reason}`);
    return false;
  }

  // ------------------------------------------------------------------------------------------------
  // execution

  private async execute(runId: number, signal: AbortSignal): Promise<void> {
    const { runs, config, clock } = this.deps;
    const run = await runs.get(runId);
    if (!run || (run.state !== 'pending' && run.state !== 'waiting')) return;
    const policy = run.policy ? await config.policy(run.policy).catch(() => undefined) : undefined;
    if (!policy) {
      await runs.transition(runId, ['pending', 'waiting'], { state: 'skipped', reason: `policy "${run.policy}" no longer exists`, finished_at: clock.now() });
      return;
    }
    if (!(await runs.transition(runId, ['pending', 'waiting'], { state: 'running', reason: null, started_at: clock.now() }))) return;
    if (policy.spec.mode !== 'physical') return this.fail(runId, logicalNotAvailable(policy.name));
    const type = run.type ?? 'full';
    const details = run.details as RunDetails;

    let driver: ObDriver;
    const connectStep = await runs.addStep(runId, 'connect');
    try {
      driver = await this.deps.clusters.driver(policy.cluster);
      await runs.finishStep(connectStep, 'succeeded', `connected to ${driver.where}, OceanBase ${driver.identity.version}`);
      await runs.update(runId, { ob_version: driver.identity.version });
    } catch (err) {
      await runs.finishStep(connectStep, 'failed', messageOf(err));
      return this.fail(runId, messageOf(err), err);
    }

    try {
      if (this.deps.ensureApplied) {
        const state = await this.deps.ensureApplied(policy.name, policy.version, signal);
        if (state !== null) {
          await runs.addStep(runId, 'apply', 'failed', state);
          return this.fail(runId, `the policy is not applied to the cluster: ${state}`);
        }
      }
      const targets = await targetsOf(driver);
      // Pre-checks (again, for backup now: the cluster may have changed since the request).
      const checks = this.fastChecks(driver, policy, targets, type);
      for (const check of checks) {
        const result = await check();
        if (!result.ok && result.startable) {
          const ok =
            result.name === 'compaction'
              ? await this.compactAndWait(runId, driver, result, signal)
              : await this.startArchiveAndWait(runId, driver, targets, result, signal);
          if (!ok) return;
          continue;
        }
        if (!details.prechecked || !result.ok) {
          await runs.addStep(runId, `precheck:${result.name}`, result.ok ? 'succeeded' : 'failed', result.message);
        }
        if (!result.ok) {
          if (result.reason) await runs.update(runId, { reason: result.reason });
          return this.fail(runId, result.message);
        }
      }
      await this.closeOpenSteps(runId);

      // Start: the marks are stored before the statement is sent, so a restart finds the job.
      const startStep = await runs.addStep(runId, 'start');
      const marks = await driver.jobMarks();
      await runs.update(runId, { details: { ...details, marks }, submitted_at: clock.now() });
      try {
        await driver.submitBackup({ type });
      } catch (err) {
        const code = err instanceof ObError ? err.code : undefined;
        const text = code === 9036 ? `OceanBase refused to start the backup: a backup is already in progress (error 9036); this run did not start` : messageOf(err);
        await runs.finishStep(startStep, 'failed', text);
        if (err instanceof ObError && err.kind === 'connection_lost' && err.mayHaveApplied) {
          // The statement may have reached the cluster: look for its job before calling it failed.
          const jobs = await this.findJobs(driver, marks, targets, signal).catch(() => []);
          if (jobs.length > 0) {
            await runs.finishStep(startStep, 'succeeded', `started (the connection dropped after sending; found ${describeJobs(jobs)})`);
            return this.track(runId, policy.cluster, jobs, signal);
          }
        }
        return this.fail(runId, text, err);
      }
      const jobs = await this.findJobs(driver, marks, targets, signal);
      if (jobs.length === 0) {
        await runs.finishStep(startStep, 'failed', 'the backup statement was accepted but no backup job appeared');
        return this.fail(runId, 'OceanBase accepted the backup statement but no backup job appeared');
      }
      const actual = jobs.some((j) => j.type === 'full') ? 'full' : 'incremental';
      const note = actual !== type ? ` (OceanBase runs it as a ${actual} backup: no earlier full at this destination)` : '';
      await runs.finishStep(startStep, 'succeeded', `started ${describeJobs(jobs)}${note}`);
      if (actual !== type) await runs.update(runId, { type: actual });
      await this.track(runId, policy.cluster, jobs, signal);
    } catch (err) {
      if (isAbort(err)) throw err;
      await this.closeOpenSteps(runId, 'failed', messageOf(err));
      await this.fail(runId, messageOf(err), err);
    }
  }

  private async startArchiveAndWait(runId: number, driver: ObDriver, targets: Targets, check: PrecheckResult, signal: AbortSignal): Promise<boolean> {
    const { runs, clock, tasks } = this.deps;
    const step = await runs.addStep(runId, 'precheck:log_archive', 'running', `${check.message}; starting it and waiting for DOING`);
    for (const t of targets) {
      if (driver.major === 4 && t !== null) {
        const dest = await driver.getDestination(t);
        if ((dest.archive.state ?? '').toUpperCase() === 'DEFER') await driver.setArchiveDestState('ENABLE', t);
      }
      await driver.startArchive(t);
    }
    const wait = await waitArchiveDoing(
      { driver, now: () => clock.now(), sleep: (ms) => tasks.sleep(ms, signal), pollMs: 2_000 },
      targets,
      this.opts.archiveWaitMs,
    );
    if (wait.doing) {
      await runs.finishStep(step, 'succeeded', 'log archive is DOING');
      return true;
    }
    const states = Object.entries(wait.states).map(([k, v]) => `${k} ${v}`).join(', ');
    const message = `log archive did not reach DOING within ${Math.round(this.opts.archiveWaitMs / 60_000)} min (${states})`;
    await runs.finishStep(step, 'failed', message);
    await this.fail(runId, message);
    return false;
  }

  /**
   * compaction_before_full "trigger" (3.x): MAJOR FREEZE once no merge runs, then waits for the merge to be
   * done in every zone and checks again. A merge that finished meanwhile (someone else's) is enough.
   */
  private async compactAndWait(runId: number, driver: ObDriver, check: PrecheckResult, signal: AbortSignal): Promise<boolean> {
    const { runs, clock, tasks } = this.deps;
    const step = await runs.addStep(runId, 'precheck:compaction', 'running', `${check.reason ?? check.message}; triggering a major compaction and waiting for its merge`);
    const startedAt = clock.now().getTime();
    const deadline = startedAt + this.opts.compactionWaitMs;
    const waited = () => describeWait(clock.now().getTime() - startedAt);
    const failWith = async (message: string, reason?: string) => {
      await runs.finishStep(step, 'failed', message);
      if (reason) await runs.update(runId, { reason });
      await this.fail(runId, message);
      return false;
    };
    let interval = this.opts.compactionPollMs;
    /** the frozen version before our MAJOR FREEZE; undefined until it is sent */
    let frozenBefore: string | null | undefined;
    for (;;) {
      const [status] = await driver.getCompaction();
      if (!status) return failWith(`${COMPACTION_NEEDED}: the compaction state cannot be read`);
      if (status.error) {
        return failWith(`${COMPACTION_NEEDED}: the major compaction reported an error (is_merge_error); an operator must clear it before a full backup`, 'the last major compaction reported an error');
      }
      if (status.idle && frozenBefore === undefined) {
        const again = await checkCompaction(driver);
        if (again.ok) {
          await runs.finishStep(step, 'succeeded', `a major compaction finished meanwhile (version ${status.frozenVersion}); ${again.message}`);
          return true;
        }
        try {
          await driver.majorFreeze();
          frozenBefore = status.frozenVersion;
          await runs.noteStep(step, `MAJOR FREEZE sent (frozen version was ${status.frozenVersion ?? 'none'}); waiting for the merge`);
        } catch (err) {
          // 4023: a merge started in between; wait for it and look again
          if (!(err instanceof ObError && err.code === 4023)) throw err;
          await runs.noteStep(step, 'a major compaction started meanwhile; waiting for it to finish');
        }
      } else if (status.idle && status.frozenVersion !== frozenBefore) {
        const after = await checkCompaction(driver);
        if (!after.ok) return failWith(`${COMPACTION_NEEDED}: ${after.reason ?? after.message}`, after.reason);
        await runs.finishStep(step, 'succeeded', `major compaction to version ${status.frozenVersion} merged in every zone after ${waited()}`);
        return true;
      } else {
        const whose = frozenBefore === undefined ? 'a major compaction already running' : 'the major compaction';
        await runs.noteStep(step, `waiting for ${whose} (${mergeState(status)}), ${waited()} so far`);
      }
      const now = clock.now().getTime();
      if (now >= deadline) {
        return failWith(
          `the major compaction did not finish within ${describeWait(this.opts.compactionWaitMs)} (${mergeState(status)}); the full backup was not started`,
          'the major compaction did not finish in time',
        );
      }
      await tasks.sleep(Math.min(interval, deadline - now), signal);
      interval = Math.min(Math.round(interval * 1.5), 60_000);
    }
  }

  private async findJobs(driver: ObDriver, marks: JobMarks, targets: Targets, signal: AbortSignal): Promise<BackupJob[]> {
    const deadline = this.deps.clock.now().getTime() + this.opts.findJobMs;
    // Without a tenant list (DATABASE) OceanBase creates jobs only for eligible tenants: the first is enough.
    const expected = targets.length;
    let jobs: BackupJob[] = [];
    for (;;) {
      jobs = await driver.findJobsAfter(marks);
      if (jobs.length >= expected || this.deps.clock.now().getTime() >= deadline) return jobs;
      await this.deps.tasks.sleep(1_000, signal);
    }
  }

  /** Polls the jobs until each ends; records progress, set ids, sizes, errors; flags the timeout once. */
  private async track(runId: number, cluster: LoadedCluster, started: BackupJob[], signal: AbortSignal): Promise<void> {
    const { runs, clock, tasks, config } = this.deps;
    let jobs = started;
    await this.recordJobs(runId, jobs);
    const trackStep = await runs.addStep(runId, 'track', 'running', progressLine(jobs));
    let interval = this.opts.pollMinMs;
    let lostSince: number | null = null;
    let lastError = '';
    for (;;) {
      if (jobs.every((j) => j.state !== 'running')) break;
      await this.checkTimeout(runId, config);
      const sleptFrom = clock.now().getTime();
      const progressBefore = overallProgress(jobs);
      await tasks.sleep(interval, signal);
      try {
        // asked for on each poll: an idle driver may have been closed, a dropped one is reopened
        const driver = await this.deps.clusters.driver(cluster);
        const refreshed: BackupJob[] = [];
        for (const job of jobs) {
          if (job.state !== 'running') {
            refreshed.push(job);
            continue;
          }
          refreshed.push((await driver.getJob(refOf(job))) ?? job);
        }
        jobs = refreshed;
        interval = nextInterval(interval, progressBefore, overallProgress(jobs), clock.now().getTime() - sleptFrom, this.opts);
        if (lostSince !== null) {
          await runs.addStep(runId, 'reconnect', 'succeeded', `connection to cluster "${cluster.name}" back after ${Math.round((clock.now().getTime() - lostSince) / 1000)} s`);
          lostSince = null;
        }
        await this.recordJobs(runId, jobs);
        await runs.noteStep(trackStep, progressLine(jobs));
      } catch (err) {
        if (isAbort(err)) throw err;
        lastError = messageOf(err);
        if (lostSince === null) {
          lostSince = clock.now().getTime();
          this.deps.log.warn({ run: runId, err: describe(err) }, `run ${runId}: cannot read the backup job; retrying`);
          await runs.noteStep(trackStep, `cannot read the backup job (${lastError}); retrying`);
        }
        interval = this.opts.pollMinMs;
        if (clock.now().getTime() - lostSince >= this.opts.lostLimitMs) {
          await runs.finishStep(trackStep, 'failed', `lost track of the backup job: ${lastError}`);
          return this.fail(runId, `lost track of the backup job for ${Math.round(this.opts.lostLimitMs / 60_000)} min: ${lastError}`, err);
        }
      }
    }
    await this.finish(runId, trackStep, jobs);
  }

  private async checkTimeout(runId: number, config: ConfigReader): Promise<void> {
    const { runs, clock, log } = this.deps;
    const run = await runs.get(runId);
    if (!run || run.timed_out_at || !run.started_at || !run.policy) return;
    const policy = await config.policySpec(run.policy);
    const limitMin = policy?.spec.alarms.data_backup_timeout_minutes;
    if (!limitMin) return;
    const ranMs = clock.now().getTime() - new Date(run.started_at).getTime();
    if (ranMs <= limitMin * 60_000) return;
    await runs.update(runId, { timed_out_at: clock.now() });
    await runs.addStep(runId, 'timeout', 'succeeded', `running for more than data_backup_timeout_minutes (${limitMin} min); the backup goes on`);
    log.warn({ run: runId, cluster: run.cluster }, `run ${runId}: data backup of cluster ${run.cluster} runs longer than ${limitMin} min`);
  }

  private async recordJobs(runId: number, jobs: BackupJob[]): Promise<void> {
    const known = jobs.map((j) => j.progress).filter((p): p is number => p !== null);
    const allDone = jobs.every((j) => j.state === 'succeeded');
    const progress = allDone ? 100 : known.length > 0 ? Math.round((known.reduce((a, b) => a + b, 0) / jobs.length) * 1000) / 10 : null;
    const sum = (pick: (j: BackupJob) => number | null) => {
      const values = jobs.map(pick).filter((v): v is number => v !== null);
      return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
    };
    await this.deps.runs.update(runId, {
      jobs: jobs.map(toRunJob),
      progress,
      backup_set_id: jobs.find((j) => j.backupSetId !== null)?.backupSetId ?? null,
      input_bytes: sum((j) => j.inputBytes),
      output_bytes: sum((j) => j.outputBytes),
    });
  }

  private async finish(runId: number, trackStep: number, jobs: BackupJob[]): Promise<void> {
    const { runs, clock, log } = this.deps;
    await this.recordJobs(runId, jobs);
    const failed = jobs.filter((j) => j.state === 'failed');
    const canceled = jobs.filter((j) => j.state === 'canceled');
    if (failed.length === 0 && canceled.length === 0) {
      await runs.finishStep(trackStep, 'succeeded', `completed: ${describeJobs(jobs)}`);
      await runs.transition(runId, ['running'], { state: 'succeeded', progress: 100, finished_at: clock.now() });
      log.info({ run: runId }, `run ${runId}: data backup completed`);
      return;
    }
    if (failed.length === 0) {
      const text = `the backup was cancelled in OceanBase (${describeJobs(canceled)})`;
      await runs.finishStep(trackStep, 'failed', text);
      await runs.transition(runId, ['running'], { state: 'canceled', error: text, finished_at: clock.now() });
      return;
    }
    const text = failed
      .map((j) => `${j.tenant === null ? '' : `tenant ${j.tenant} `}job ${j.jobId} failed${j.errorCode ? ` with OceanBase error ${j.errorCode}` : ''}${j.errorText ? `: ${j.errorText}` : ''}`)
      .join('; ');
    await runs.finishStep(trackStep, 'failed', text);
    await runs.transition(runId, ['running'], { state: 'failed', error: text, error_code: failed[0]!.errorCode, finished_at: clock.now() });
    log.warn({ run: runId }, `run ${runId}: data backup failed: ${text}`);
  }

  private async fail(runId: number, message: string, err?: unknown): Promise<void> {
    const code = err instanceof ObError ? (err.code ?? null) : null;
    await this.deps.runs.transition(runId, ['running', 'pending', 'waiting'], {
      state: 'failed',
      error: message,
      error_code: code,
      finished_at: this.deps.clock.now(),
    });
    this.deps.log.warn({ run: runId }, `run ${runId} failed: ${message}`);
  }

  private async closeOpenSteps(runId: number, state: 'succeeded' | 'failed' = 'succeeded', message?: string): Promise<void> {
    const run = await this.deps.runs.get(runId);
    for (const step of run?.steps ?? []) if (step.state === 'running') await this.deps.runs.finishStep(step.id, state, message);
  }

  /** A run that was running when the daemon stopped: find its jobs in the cluster and follow them. */
  private async reattach(runId: number, signal: AbortSignal): Promise<void> {
    const { runs, config, clock } = this.deps;
    const run = await runs.get(runId);
    if (!run || run.state !== 'running') return;
    const details = run.details as RunDetails;
    if (!run.submitted_at || !details.marks) {
      // Stopped during the pre-checks: nothing was started, so the run starts over.
      await runs.addStep(run.id, 'restart', 'succeeded', 'the daemon restarted during the pre-checks; checking again');
      await this.closeOpenSteps(run.id, 'failed', 'interrupted by a daemon restart');
      await runs.transition(run.id, ['running'], { state: 'pending' });
      return this.execute(run.id, signal);
    }
    const policy = run.policy ? await config.policy(run.policy).catch(() => undefined) : undefined;
    const cluster = policy?.cluster ?? (await config.cluster(run.cluster));
    if (!cluster) return this.fail(runId, `cluster "${run.cluster}" no longer exists; the backup cannot be followed`);
    const step = await runs.addStep(runId, 'reattach', 'running', 'the daemon restarted; asking the cluster for this run\'s backup job');
    let driver: ObDriver | undefined;
    const deadline = clock.now().getTime() + this.opts.lostLimitMs;
    for (;;) {
      try {
        driver = await this.deps.clusters.driver(cluster);
        break;
      } catch (err) {
        if (clock.now().getTime() >= deadline) {
          await runs.finishStep(step, 'failed', messageOf(err));
          return this.fail(runId, `cannot reach the cluster to re-attach the backup: ${messageOf(err)}`, err);
        }
        await this.deps.tasks.sleep(this.opts.pollMinMs, signal);
      }
    }
    let jobs: BackupJob[];
    if (run.jobs.length > 0) {
      jobs = [];
      for (const j of run.jobs) {
        const ref: JobRef = { tenant: j.tenant ?? null, tenantId: j.tenant_id ?? 0, jobId: j.job_id };
        jobs.push((await driver.getJob(ref)) ?? fromRunJob(j));
      }
    } else {
      jobs = await driver.findJobsAfter(details.marks);
    }
    if (jobs.length === 0) {
      const text = 'the daemon stopped while starting this backup and OceanBase shows no job for it; it was not started again';
      await runs.finishStep(step, 'failed', text);
      return this.fail(runId, text);
    }
    await runs.finishStep(step, 'succeeded', `re-attached to ${describeJobs(jobs)}`);
    this.deps.log.info({ run: runId }, `run ${runId}: re-attached to ${describeJobs(jobs)}`);
    await this.track(runId, cluster, jobs, signal);
  }
}

/** What a "backup now" run does about a pre-check it can fix (`startable`). */
function remedyOf(check: PrecheckResult): string {
  return check.name === 'compaction' ? 'the run triggers a major compaction and waits for its merge' : 'the run starts it and waits for DOING';
}

function mergeState(c: CompactionStatus): string {
  return `frozen version ${c.frozenVersion ?? 'none'}, last merged ${c.lastMergedVersion ?? 'none'}, ${c.status}`;
}

function describeWait(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

async function targetsOf(driver: ObDriver): Promise<Targets> {
  return driver.major === 3 ? [null] : (await driver.scope()).map((t) => t.name);
}

/** Mean progress (0..1) of the jobs, null while none reports any. */
function overallProgress(jobs: BackupJob[]): number | null {
  const known = jobs.map((j) => (j.state === 'running' ? j.progress : 1)).filter((p): p is number => p !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / jobs.length;
}

/**
 * The next poll: growing by half each time up to the maximum, but not much past the end the progress
 * rate predicts, so a finished backup is noticed soon without polling a long one often.
 */
export function nextInterval(
  current: number,
  before: number | null,
  after: number | null,
  elapsedMs: number,
  limits: { pollMinMs: number; pollMaxMs: number },
): number {
  let next = Math.min(Math.round(current * 1.5), limits.pollMaxMs);
  if (before !== null && after !== null && after > before && elapsedMs > 0) {
    const remainingMs = ((1 - after) * elapsedMs) / (after - before);
    next = Math.min(next, Math.round(remainingMs + 1_000));
  }
  return Math.max(limits.pollMinMs, next);
}

function refOf(job: BackupJob): JobRef {
  return { tenant: job.tenant, tenantId: job.tenantId, jobId: job.jobId };
}

function toRunJob(j: BackupJob): RunJob {
  return {
    ...(j.tenant === null ? {} : { tenant: j.tenant }),
    tenant_id: j.tenantId,
    job_id: j.jobId,
    type: j.type,
    backup_set_id: j.backupSetId,
    status: j.status,
    progress: j.progress === null ? null : Math.round(j.progress * 1000) / 10,
    input_bytes: j.inputBytes,
    output_bytes: j.outputBytes,
    error_code: j.errorCode,
    error: j.errorText,
  };
}

function fromRunJob(j: RunJob): BackupJob {
  return {
    tenant: j.tenant ?? null,
    tenantId: j.tenant_id ?? 0,
    jobId: j.job_id,
    type: j.type === 'incremental' ? 'incremental' : 'full',
    state: 'running',
    status: j.status ?? 'UNKNOWN',
    backupSetId: j.backup_set_id ?? null,
    progress: j.progress === null || j.progress === undefined ? null : j.progress / 100,
    startedAt: null,
    endedAt: null,
    inputBytes: j.input_bytes ?? null,
    outputBytes: j.output_bytes ?? null,
    errorCode: j.error_code ?? null,
    errorText: j.error ?? null,
    path: null,
  };
}

function describeJobs(jobs: BackupJob[]): string {
  return jobs.map((j) => `${j.tenant === null ? 'cluster' : `tenant ${j.tenant}`} job ${j.jobId}${j.backupSetId ? ` (backup set ${j.backupSetId})` : ''}`).join(', ');
}

function progressLine(jobs: BackupJob[]): string {
  return jobs
    .map((j) => `${j.tenant === null ? 'cluster' : `tenant ${j.tenant}`} job ${j.jobId} ${j.status}${j.progress !== null ? ` ${Math.round(j.progress * 100)}%` : ''}`)
    .join(', ');
}
