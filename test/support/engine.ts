/**
 * The engine suites' world: obsim (frozen time) and a real obbackupd in-process whose engine runs on a
 * ManualClock kept in step with obsim's clock. `advance(ms)` moves both, waking every sleeping engine
 * task at its own instant and waiting for the engine to settle before time moves on.
 */
import fs from 'node:fs';
import mysql from 'mysql2/promise';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ManualClock, type EngineOptions, type Run } from '../../daemon/engine/index.js';
import { startObSim, type ObSim, type ObSimOptions } from '../../simulator/ob/index.js';
import { startTestDaemon, type ApiResponse, type Backend, type TestDaemon } from './daemon.js';
import type { MariaDb } from './mariadb.js';

export const SYS_PASSWORD = 'Sys-Pa55word';

export interface ObSimHandle {
  sim: ObSim;
  /** statements clients sent (not obsim's own reads), in order */
  statements: string[];
}

/** obsim with frozen time, recording every statement a client sends. */
export async function startRecordingObSim(options: Partial<ObSimOptions> & { obVersion: string }): Promise<ObSimHandle> {
  const sim = await startObSim({ password: SYS_PASSWORD, tenants: ['app'], timeScale: 0, ...options });
  const statements: string[] = [];
  const cluster = sim.cluster as unknown as { execute: (s: unknown, sql: string, internal?: boolean) => Promise<unknown> };
  const original = cluster.execute.bind(cluster);
  cluster.execute = (session, sql, internal) => {
    if (!internal) statements.push(sql);
    return original(session, sql, internal);
  };
  return { sim, statements };
}

type Api = (method: string, url: string, body?: unknown) => Promise<ApiResponse>;

/**
 * Registers cluster c1 (obsim), storage s1 (a directory) and policy p1 (weekly: Monday full, Wednesday
 * incremental, with `policy` merged in) through a daemon's API.
 */
export async function registerPolicy(api: Api, sim: ObSim, storageDir: string, policy: Record<string, unknown> = {}): Promise<void> {
  let res = await api('PUT', '/v1/clusters/c1', { host: sim.host, port: sim.port, user: 'root@sys', password: SYS_PASSWORD });
  expect(res.status, res.text).toBe(201);
  res = await api('PUT', '/v1/storages/s1', { type: 'file', path: storageDir, capacity_alarm_threshold: 99 });
  expect(res.status, res.text).toBe(201);
  res = await api('PUT', '/v1/policies/p1', {
    cluster: 'c1',
    storage: 's1',
    schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }] },
    ...policy,
  });
  expect(res.status, res.text).toBe(201);
}

/** Runs one statement on obsim as root@sys over its own connection (what an operator would type). */
export async function sysExec(sim: ObSim, statement: string): Promise<void> {
  const conn = await mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys', password: SYS_PASSWORD });
  try {
    await conn.query(statement);
  } finally {
    await conn.end();
  }
}

/** Writes (ALTER SYSTEM, SET ENCRYPTION…) among recorded statements; session settings excluded. */
export function writesIn(statements: string[]): string[] {
  return statements.filter((s) => /^\s*(ALTER\s+SYSTEM|SET\s+ENCRYPTION)/i.test(s));
}

export interface Harness {
  sim: ObSim;
  statements: string[];
  clock: ManualClock;
  d: TestDaemon;
  storageDir: string;
  api(method: string, url: string, body?: unknown): Promise<ApiResponse>;
  /** moves simulated time (daemon and obsim) forward */
  advance(ms: number): Promise<void>;
  /** advances in steps until the run satisfies `check`; fails with the run's last state */
  waitRun(id: number, check: (r: Run) => boolean, opts?: { stepMs?: number; maxSteps?: number }): Promise<Run>;
  run(id: number): Promise<Run>;
  /** registers cluster c1 (obsim), storage s1 (a temp dir) and PUTs policy p1 with `policy` merged in, through `via` (default d) */
  setup(policy?: Record<string, unknown>, via?: TestDaemon): Promise<void>;
  /** stops the daemon only (obsim and the store stay): for restarts */
  stopDaemon(): Promise<void>;
  /**
   * Starts another daemon on the same store, data dir (secret key) and clock; advance() and settling then
   * wait for every daemon. It does not schedule while `d` holds the lease.
   */
  addDaemon(): Promise<TestDaemon>;
  startDaemon(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  obVersion: string;
  tenants?: string[];
  /** simulated start (default Mon 2025-03-03 00:00 UTC) */
  start?: Date;
  backend?: Backend;
  mariadb?: MariaDb;
  engine?: Partial<EngineOptions>;
  obsim?: Partial<ObSimOptions>;
  /**
   * How far the log archive may lag (4.x archive_lag_target, 3.x log_archive_checkpoint_interval).
   * obsim checkpoints at this cadence, so a long one keeps month-long runs quick. Default 2h on 4.x, 1h on 3.x.
   */
  archiveLag?: string | null;
}

export const DEFAULT_START = new Date(Date.UTC(2025, 2, 3, 0, 0, 0));

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const start = options.start ?? DEFAULT_START;
  const { sim, statements } = await startRecordingObSim({
    obVersion: options.obVersion,
    tenants: options.tenants ?? ['app'],
    startTimeMs: start.getTime(),
    ...options.obsim,
  });
  const lag = options.archiveLag === undefined ? (options.obVersion.startsWith('3') ? '1h' : '2h') : options.archiveLag;
  if (lag) {
    if (options.obVersion.startsWith('3')) await sysExec(sim, `ALTER SYSTEM SET log_archive_checkpoint_interval = '${lag}'`);
    else for (const t of options.tenants ?? ['app']) await sysExec(sim, `ALTER SYSTEM SET archive_lag_target = '${lag}' TENANT = ${t}`);
    statements.length = 0;
  }
  const clock = new ManualClock(start);
  clock.onAdvance(async (now) => {
    const delta = now.getTime() - sim.now();
    if (delta > 0) await sim.advance(delta);
  });
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-engine-storage-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-engine-data-'));
  const backend = options.backend ?? 'sqlite';
  const storeUrl = backend === 'mariadb' ? await options.mariadb!.createDatabase() : 'sqlite:';
  const engine: EngineOptions = {
    clock,
    maxSleepMs: 6 * 3600_000,
    archiveWaitMs: 10 * 60_000,
    driver: { connectTimeoutMs: 2_000, queryTimeoutMs: 5_000 },
    // the minute-by-minute alarm and cleanup/secondary loop would wake 1,440 times a simulated day;
    // it has its own suites (engine-ops-*)
    ops: false,
    // one daemon: the lease is renewed hourly, not every 10 s of simulated time (engine-lease has two)
    lease: { ttlMs: 3 * 3600_000, renewMs: 3600_000 },
    ...options.engine,
  };

  let d: TestDaemon | undefined;
  const others: TestDaemon[] = [];
  const settleAll = async () => {
    for (const x of [d, ...others]) await x?.daemon.engine?.settled();
  };
  const startDaemon = async () => {
    d = await startTestDaemon(backend, { dataDir, storeUrl, logLevel: 'warn', engine });
    clock.setQuiesce(settleAll);
    await settleAll();
  };
  await startDaemon();

  const h: Harness = {
    sim,
    statements,
    clock,
    get d() {
      return d!;
    },
    storageDir,
    api: (method, url, body) => d!.api(method, url, body),
    async advance(ms) {
      await settleAll();
      await clock.advance(ms);
    },
    async run(id) {
      const res = await d!.api('GET', `/v1/runs/${id}`);
      expect(res.status, res.text).toBe(200);
      return res.body as Run;
    },
    async waitRun(id, check, opts = {}) {
      const stepMs = opts.stepMs ?? 5_000;
      const maxSteps = opts.maxSteps ?? 200;
      let run = await h.run(id);
      for (let i = 0; i < maxSteps && !check(run); i++) {
        await h.advance(stepMs);
        run = await h.run(id);
      }
      if (!check(run)) throw new Error(`run ${id} did not reach the expected state; last: ${JSON.stringify(run, null, 1)}`);
      return run;
    },
    async setup(policy = {}, via) {
      await registerPolicy(via?.api ?? h.api, sim, storageDir, policy);
      await settleAll();
    },
    async stopDaemon() {
      await d!.daemon.close();
    },
    startDaemon,
    async addDaemon() {
      const other = await startTestDaemon(backend, { dataDir, storeUrl, logLevel: 'warn', engine });
      others.push(other);
      await settleAll();
      return other;
    },
    async close() {
      for (const other of others) await other.daemon.close().catch(() => undefined);
      await d?.daemon.close().catch(() => undefined);
      await sim.stop();
      fs.rmSync(storageDir, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Waits (advancing time) until the policy's apply reached `state`. */
export async function waitApplied(h: Harness, policy = 'p1', state = 'applied', maxSteps = 100): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    const s = await h.d.daemon.engine!.policyStates.get(policy);
    if (s?.apply_state === state && !(state === 'applied' && s.apply_error)) return;
    await h.advance(2_000);
  }
  const s = await h.d.daemon.engine!.policyStates.get(policy);
  throw new Error(`policy ${policy} not ${state}: ${JSON.stringify(s)}`);
}

/** The policy's scheduled (and catch-up) backup runs, oldest first. */
export async function scheduledRuns(h: Harness, policy = 'p1'): Promise<Run[]> {
  const res = await h.api('GET', `/v1/runs?policy=${policy}&kind=backup&trigger=scheduled,catch_up&limit=500`);
  expect(res.status, res.text).toBe(200);
  return (res.body.items as Run[]).reverse();
}

/** Advances `total` ms in steps of at most `step` (6 h by default; the engine settles at every wake-up in between). */
export async function advanceBy(h: Harness, total: number, step = 6 * 3_600_000): Promise<void> {
  for (let done = 0; done < total; done += step) await h.advance(Math.min(step, total - done));
}
