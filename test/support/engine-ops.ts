/**
 * A harness for the operations engine (cleanup, secondary backup, alarms, status): obsim on port 0 with
 * its clock frozen and moved by a ManualClock, a SQLite store in a temp dir, the daemon's API in-process
 * (core routes + the operations routes), optionally osssim; backups are taken through the driver and
 * recorded as runs the way the engine records them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { coreRoutes } from '../../daemon/api/index.js';
import { opsRoutes } from '../../daemon/api/ops.js';
import { buildApp } from '../../daemon/app.js';
import { ManualClock } from '../../daemon/engine/clock.js';
import { storageResolver, type OpsContext } from '../../daemon/engine/ops-context.js';
import { OpsEngine, type OpsEngineOptions } from '../../daemon/engine/ops.js';
import { RunRepository, type Run } from '../../daemon/engine/runs.js';
import { createLogger } from '../../daemon/log.js';
import { ObDriver, type BackupJob } from '../../daemon/oceanbase/index.js';
import { SecretBox } from '../../daemon/secrets/index.js';
import { destinationUri, type StorageConfig } from '../../daemon/storage/index.js';
import { openStore, type Store } from '../../daemon/store/index.js';
import { startObSim, type ObSim, type Tunables } from '../../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';

/** Simulated time starts at the real minute: resources carry real timestamps (created_at, updated_at). */
export const START = Math.floor(Date.now() / 60_000) * 60_000;
export const DAY = 86_400_000;
export const OSS_ID = 'test-id';
export const OSS_SECRET = 'test-secret-value';

export interface Harness {
  sim: ObSim;
  oss?: OssSim;
  clock: ManualClock;
  store: Store;
  runs: RunRepository;
  ctx: OpsContext;
  ops: OpsEngine;
  app: FastifyInstance;
  token: string;
  driver: ObDriver;
  dir: string;
  logs: string[];
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** moves simulated time (daemon and obsim) forward, letting background work run between steps */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** moves time on in steps until `done` answers true (throws past maxMs) */
  driveUntil(done: () => Promise<boolean>, options?: { stepMs?: number; maxMs?: number; background?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  obVersion: '4.2.1' | '3.2.4';
  tenants?: string[];
  oss?: boolean;
  tunables?: Partial<Tunables>;
  ops?: OpsEngineOptions;
}

export function tempDir(prefix = 'obbackup-ops-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const settle = () => new Promise((r) => setTimeout(r, 1));

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = tempDir();
  const tenants = options.obVersion.startsWith('4') ? (options.tenants ?? ['t1']) : (options.tenants ?? ['t1']);
  const sim = await startObSim({
    obVersion: options.obVersion,
    tenants,
    timeScale: 0,
    startTimeMs: START,
    tunables: { tenantDataBytes: 512 * 1024, dataFileBytes: 128 * 1024, ...options.tunables },
  });
  const oss = options.oss ? await startOssSim({ accessKeyId: OSS_ID, accessKeySecret: OSS_SECRET, buckets: ['primary-bk', 'dr-bk'] }) : undefined;
  const clock = new ManualClock(START);
  clock.onAdvance(async (now) => {
    const behind = now.getTime() - sim.now();
    if (behind > 0) await sim.advance(behind);
  });
  const store = await openStore({ url: 'sqlite:', dataDir: dir });
  const logs: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
  const secrets = new SecretBox(randomBytes(32));
  const runs = new RunRepository(store.db, clock);
  const driver = await ObDriver.open({ name: 'c1', host: sim.host, port: sim.port, user: 'root@sys', password: '' }, { findJobTimeoutMs: 5_000, findJobIntervalMs: 50 });
  const ctx: OpsContext = {
    store,
    runs,
    clock,
    log,
    driver: async (name) => {
      if (name !== 'c1') throw new Error(`cluster "${name}" is not in this harness`);
      return driver;
    },
    storage: storageResolver(store, secrets),
  };
  const ops = new OpsEngine(ctx, { cleanup: { pollIntervalMs: 60_000 }, secondary: { pollIntervalMs: 10_000 }, ...options.ops });
  const token = randomBytes(24).toString('base64url');
  const app = await buildApp({ store, secrets, token, logger: log, routes: [...coreRoutes, opsRoutes({ ctx, ops, webhook: options.ops?.webhook })] });

  const api = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, body: parsed as any, text: res.body };
  };

  const advance = async (ms: number, stepMs = 60_000) => {
    const target = clock.now().getTime() + ms;
    while (clock.now().getTime() < target) {
      await clock.set(Math.min(target, clock.now().getTime() + stepMs));
      await settle();
    }
  };

  // `background`: work of the daemon runs meanwhile; let it reach its next sleep before time moves
  const driveUntil = async (done: () => Promise<boolean>, o: { stepMs?: number; maxMs?: number; background?: boolean } = {}) => {
    const limit = clock.now().getTime() + (o.maxMs ?? 3 * 3_600_000);
    for (;;) {
      if (await done()) return;
      if (clock.now().getTime() >= limit) throw new Error(`condition not reached by ${clock.now().toISOString()}`);
      const deadline = Date.now() + (o.background ? 2_000 : 0);
      while (clock.pendingSleeps === 0 && Date.now() < deadline && !(await done())) await new Promise((r) => setTimeout(r, 5));
      await clock.advance(o.stepMs ?? 60_000);
      await settle();
    }
  };

  return {
    sim,
    oss,
    clock,
    store,
    runs,
    ctx,
    ops,
    app,
    token,
    driver,
    dir,
    logs,
    api,
    advance,
    driveUntil,
    async close() {
      await ops.stop();
      await app.close();
      await driver.close();
      await sim.stop();
      await oss?.stop();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function fileStorage(h: Harness, name: string): StorageConfig & { type: 'file' } {
  return { type: 'file', path: path.join(h.dir, 'storage', name) };
}

export function ossStorage(h: Harness, bucket: string): StorageConfig & { type: 'oss' } {
  return { type: 'oss', path: `${bucket}/backups`, endpoint: h.oss!.endpoint, access_key_id: OSS_ID, access_key_secret: OSS_SECRET };
}

/** Registers the cluster, the storages and a policy through the API. */
export async function register(h: Harness, storages: Record<string, StorageConfig>, policy: Record<string, unknown>): Promise<void> {
  const put = async (url: string, body: unknown) => {
    const res = await h.api('PUT', url, body);
    if (res.status >= 300) throw new Error(`PUT ${url}: ${res.status} ${res.text}`);
  };
  await put('/v1/clusters/c1', { host: h.sim.host, port: h.sim.port, password: '' });
  for (const [name, config] of Object.entries(storages)) {
    if (config.type === 'file') fs.mkdirSync(config.path, { recursive: true });
    await put(`/v1/storages/${name}`, config);
  }
  await put('/v1/policies/p1', { cluster: 'c1', ...policy });
}

/** What applying the policy does to the cluster, done here through the driver: destinations, archive DOING. */
export async function prepareCluster(h: Harness, storage: StorageConfig, tenants: string[] = ['t1'], options: { checkpoint?: string } = {}): Promise<void> {
  if (h.driver.major === 3) {
    await h.driver.setDataDestination(destinationUri(storage, 'c1'), null);
    // an hourly checkpoint keeps days of simulated archive cheap (120 s would write a file every 2 minutes)
    await h.driver.setDestOptions({ log_archive_piece_switch_interval: '1d', log_archive_checkpoint_interval: options.checkpoint ?? '1h' });
    await h.driver.startArchive(null);
  } else {
    for (const t of tenants) {
      await h.driver.setArchiveDestination({ location: destinationUri(storage, `c1/${t}/archive`), pieceSwitchInterval: '1d' }, t);
      await h.driver.setDataDestination(destinationUri(storage, `c1/${t}/data`), t);
      await h.driver.connection.exec(`ALTER SYSTEM SET archive_lag_target = '${options.checkpoint ?? '1h'}' TENANT = ${t}`);
      await h.driver.startArchive(t);
    }
  }
  await h.driveUntil(async () => (await h.driver.getArchiveStatus()).every((a) => a.state === 'DOING'), { stepMs: 5_000, maxMs: 10 * 60_000 });
}

/** A data backup as the engine runs one, recorded as a run of kind backup with its outcome. */
export async function takeBackup(h: Harness, type: 'full' | 'incremental', options: { fail?: number } = {}): Promise<Run> {
  const { run } = await h.runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type, trigger: 'immediate' });
  await h.runs.update(run.id, { state: 'running', started_at: h.clock.now() });
  if (h.driver.major === 3 && type === 'full') {
    // 3.x pins a full to the last major freeze newer than the archive start
    await h.driver.majorFreeze();
    await h.driveUntil(async () => (await h.driver.getCompaction()).every((c) => c.idle), { stepMs: 10_000, maxMs: 3_600_000 });
  }
  if (options.fail) h.sim.faults.failNextBackup('t1', options.fail, 1_000);
  const started = await h.driver.startBackup({ type });
  let job: BackupJob | null = started.jobs[0] ?? null;
  await h.driveUntil(
    async () => {
      job = job ? await h.driver.getJob(job) : ((await h.driver.findJobsAfter(started.marks))[0] ?? null);
      return job !== null && job.state !== 'running';
    },
    { stepMs: 2_000, maxMs: 3_600_000 },
  );
  const ended = job as unknown as BackupJob;
  await h.runs.update(run.id, {
    state: ended.state === 'succeeded' ? 'succeeded' : 'failed',
    finished_at: h.clock.now(),
    backup_set_id: ended.backupSetId,
    output_bytes: ended.outputBytes,
    error: ended.errorText,
    error_code: ended.errorCode,
    jobs: [{ tenant: ended.tenant ?? undefined, job_id: ended.jobId, backup_set_id: ended.backupSetId, status: ended.status }],
  });
  return (await h.runs.get(run.id))!;
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}
