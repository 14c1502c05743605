/**
 * A real obbackupd in-process on 127.0.0.1 (port 0) with a temp data dir, on SQLite or on a MariaDB
 * database of its own; its log lines are captured for inspection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../daemon/app.js';
import type { EngineOptions } from '../../daemon/engine/index.js';
import { createLogger } from '../../daemon/log.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { acquireMariaDb, releaseMariaDb, type MariaDb } from './mariadb.js';

export type Backend = 'sqlite' | 'mariadb';
export const BACKENDS: Backend[] = ['sqlite', 'mariadb'];

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: any;
}

export interface RequestOptions {
  /** A body sent as-is (with the given content type), for malformed input. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** null: no Authorization header; a string: that token instead of the daemon's. */
  token?: string | null;
}

export interface TestDaemon {
  daemon: RunningDaemon;
  url: string;
  token: string;
  dataDir: string;
  storeUrl: string;
  backend: Backend;
  /** Every log line written so far (JSON text). */
  logs: string[];
  /** The MariaDB server when backend is mariadb. */
  mariadb?: MariaDb;
  api(method: string, urlPath: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'obbackup-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function request(base: string, token: string | null, method: string, urlPath: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const bearer = options.token === undefined ? token : options.token;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  let payload: string | Buffer | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${urlPath}`, { method, headers, body: payload });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** `engine`: the engine's settings (clock, scheduler…); left out, the daemon serves the API without an engine. */
export async function startTestDaemon(
  backend: Backend,
  options: { mariadb?: MariaDb; logLevel?: string; dataDir?: string; storeUrl?: string; engine?: EngineOptions | false } = {},
): Promise<TestDaemon> {
  const dataDir = options.dataDir ?? tempDir();
  let storeUrl = options.storeUrl ?? 'sqlite:';
  if (backend === 'mariadb' && !options.storeUrl) {
    if (!options.mariadb) throw new Error('a mariadb backend needs a MariaDB server');
    storeUrl = await options.mariadb.createDatabase();
  }
  const logs: string[] = [];
  const logger = createLogger({ level: options.logLevel ?? 'info', destination: { write: (line: string) => void logs.push(line) } });
  // A clean environment: the token and key are generated into the data dir, as on a first start.
  const daemon = await startDaemon({ listen: '127.0.0.1:0', dataDir, store: storeUrl, env: {}, logger, engine: options.engine ?? false });
  return {
    daemon,
    url: daemon.url,
    token: daemon.token,
    dataDir,
    storeUrl,
    backend,
    logs,
    mariadb: options.mariadb,
    api: (method, urlPath, body, requestOptions) => request(daemon.url, daemon.token, method, urlPath, body, requestOptions),
    async close() {
      await daemon.close();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Registers hooks that start a daemon on `backend` before the suite's tests and stop it after. */
export function useDaemon(backend: Backend, options: { logLevel?: string } = {}): () => TestDaemon {
  let daemon: TestDaemon | undefined;
  beforeAll(async () => {
    const mariadb = backend === 'mariadb' ? await acquireMariaDb() : undefined;
    daemon = await startTestDaemon(backend, { mariadb, logLevel: options.logLevel });
  });
  afterAll(async () => {
    await daemon?.close();
    if (backend === 'mariadb') await releaseMariaDb();
  });
  return () => {
    if (!daemon) throw new Error('the daemon did not start (see the beforeAll error)');
    return daemon;
  };
}

let fixtureRoot: string | undefined;

/**
 * A directory that exists for the rest of the test process (removed at its exit): PUT /v1/storages runs
 * the storage test, so a file storage fixture must point at a real, writable directory.
 */
export function fixtureDir(name = 'main'): string {
  if (!fixtureRoot) {
    const root = tempDir('obbackup-fixtures-');
    fixtureRoot = root;
    process.once('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  }
  const dir = path.join(fixtureRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const FIXTURE_OSS = { accessKeyId: 'LTAI-test-id', accessKeySecret: 'oss-secret-1', bucket: 'obbackup-dr' } as const;
let fixtureOss: OssSim | undefined;

/**
 * Registers hooks that start an OSS endpoint (osssim, bucket `obbackup-dr`, FIXTURE_OSS's key unless
 * `accessKeySecret` is given) before the suite and stop it after; fixtures.ossStorage() points at it.
 */
export function useOssSim(options: { accessKeySecret?: string } = {}): () => OssSim {
  let sim: OssSim | undefined;
  let previous: OssSim | undefined;
  beforeAll(async () => {
    sim = await startOssSim({ accessKeyId: FIXTURE_OSS.accessKeyId, accessKeySecret: options.accessKeySecret ?? FIXTURE_OSS.accessKeySecret, buckets: [FIXTURE_OSS.bucket] });
    previous = fixtureOss;
    fixtureOss = sim;
  });
  afterAll(async () => {
    if (fixtureOss === sim) fixtureOss = previous;
    await sim?.stop();
  });
  return () => {
    if (!sim) throw new Error('osssim did not start (see the beforeAll error)');
    return sim;
  };
}

/** Where fixtures.ossStorage() points without a running useOssSim(): a closed port (the storage test fails at once). */
const NO_OSS_ENDPOINT = 'http://127.0.0.1:9';

/** Bodies that satisfy the model, for building test fixtures. */
export const fixtures = {
  cluster: (overrides: Record<string, unknown> = {}) => ({ host: '10.0.0.1', port: 2881, user: 'root@sys', password: 'cluster-pass-1', ...overrides }),
  /** A file storage on fixtureDir('main') (passes the storage test). */
  fileStorage: (overrides: Record<string, unknown> = {}) => ({ type: 'file', path: fixtureDir(), ...overrides }),
  /** An OSS storage on the suite's useOssSim() endpoint (passes the storage test). */
  ossStorage: (overrides: Record<string, unknown> = {}) => ({
    type: 'oss',
    path: `${FIXTURE_OSS.bucket}/prod`,
    endpoint: fixtureOss?.endpoint ?? NO_OSS_ENDPOINT,
    access_key_id: FIXTURE_OSS.accessKeyId,
    access_key_secret: FIXTURE_OSS.accessKeySecret,
    ...overrides,
  }),
  policy: (cluster: string, storage: string, overrides: Record<string, unknown> = {}) => ({
    cluster,
    storage,
    schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }] },
    ...overrides,
  }),
};
