// obbackupd read path: with 1,000 policies stored (SQLite, the embedded default), GET /v1/policies/{name},
// GET /v1/policies and a page of 50 of it next to a trivial route of the same fastify app (same auth hook, same request
// logging), in the same process and the same run, all loaded by autocannon from a worker thread.
// Goal: single GET >= 0.5x the trivial route's requests/s.
//
// The routes are measured in interleaved slices (trivial, single, list) over several rounds and
// the ratio is the median of the per-round ratios, so a change in background load during the run
// weighs on both sides of each ratio alike.
//
//   npx tsx bench/api.ts [--rounds 5] [--seconds 2] [--connections 10]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pino from 'pino';
import { coreRoutes, type RouteModule } from '../daemon/api/index.js';
import { buildApp } from '../daemon/app.js';
import { createLogger } from '../daemon/log.js';
import { SecretBox } from '../daemon/secrets/index.js';
import { openStore } from '../daemon/store/index.js';
import { startOssSim } from '../simulator/oss/index.js';

const POLICIES = 1000;

export interface Measurement {
  route: string;
  /** mean over the rounds */
  requests_per_s: number;
  /** medians over the rounds */
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
}

export interface ApiBenchResult {
  policies: number;
  trivial: Measurement;
  single: Measurement;
  list: Measurement;
  page: Measurement;
  /** median over rounds of single GET requests/s ÷ trivial route requests/s (goal >= 0.5) */
  single_ratio: number;
  /** median over rounds of list GET requests/s ÷ trivial route requests/s */
  list_ratio: number;
  /** median over rounds of a 50-policy page's requests/s ÷ trivial route requests/s */
  page_ratio: number;
  /** per-round single GET ratios, to show the spread */
  single_ratios: number[];
}

const trivialRoute: RouteModule = (app) => {
  app.get('/bench/trivial', async () => ({ ok: true }));
};

async function load(url: string, token: string, paths: string[], seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    workers: 1,
    headers: { authorization: `Bearer ${token}` },
    // A fixed cycle of requests (no functions: the load runs in a worker thread).
    requests: paths.map((p) => ({ method: 'GET', path: p })),
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function measurement(route: string, runs: autocannon.Result[]): Measurement {
  return {
    route,
    requests_per_s: Math.round(runs.reduce((sum, r) => sum + r.requests.average, 0) / runs.length),
    p50_ms: median(runs.map((r) => r.latency.p50)),
    p99_ms: median(runs.map((r) => r.latency.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
    non_2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  };
}

export async function run(
  options: { rounds?: number; seconds?: number; connections?: number; log?: (line: string) => void } = {},
): Promise<ApiBenchResult> {
  const rounds = options.rounds ?? 5;
  const seconds = options.seconds ?? 2;
  const connections = options.connections ?? 10;
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-bench-api-'));
  const store = await openStore({ url: 'sqlite:', dataDir });
  // Request logs on, as in production, written to /dev/null so they cost what they cost.
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  const token = randomBytes(32).toString('base64url');
  const app = await buildApp({ store, secrets: new SecretBox(randomBytes(32)), token, logger, routes: [...coreRoutes, trivialRoute] });
  // Creating a storage runs the storage test: a real directory and an OSS endpoint to pass it.
  const oss = await startOssSim({ accessKeyId: 'id', accessKeySecret: 'secret', buckets: ['dr-bucket'] });
  const backupDir = path.join(dataDir, 'backup');
  fs.mkdirSync(backupDir);
  try {
    // Seeding goes through the API; per-commit fsync is switched off for it only (reads do not fsync).
    await sql`PRAGMA synchronous = OFF`.execute(store.db);
    const put = async (url: string, body: unknown) => {
      const res = await app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${token}` }, payload: body as object });
      if (res.statusCode !== 201) throw new Error(`seeding ${url}: ${res.statusCode} ${res.body}`);
    };
    await put('/v1/storages/nfs_main', { type: 'file', path: backupDir });
    await put('/v1/storages/oss_dr', { type: 'oss', path: 'dr-bucket/ob', endpoint: oss.endpoint, access_key_id: 'id', access_key_secret: 'secret' });
    const seedStart = performance.now();
    for (let i = 0; i < POLICIES; i++) {
      const name = `ob-${String(i).padStart(4, '0')}`;
      await put(`/v1/clusters/${name}`, { host: `10.0.${i >> 8}.${i & 255}`, password: `pw-${i}` });
      await put(`/v1/policies/${name}`, {
        cluster: name,
        storage: 'nfs_main',
        schedule: { period: 'weekly', time: '02:00', timezone: 'Asia/Shanghai', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }, { day: 5, type: 'incremental' }] },
        cleanup: { enabled: true, retention_days: 30 },
        secondary: { enabled: true, storage: 'oss_dr', retention_days: 14, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
      });
    }
    await sql`PRAGMA synchronous = FULL`.execute(store.db);
    log(`api: seeded ${POLICIES} clusters and ${POLICIES} policies through the API in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const singlePaths = Array.from({ length: POLICIES }, (_, i) => `/v1/policies/ob-${String(i).padStart(4, '0')}`);
    await load(url, token, ['/bench/trivial', ...singlePaths.slice(0, 50), '/v1/policies', '/v1/policies?limit=50&cursor=ob-0500'], 1, connections);
    const pagePath = '/v1/policies?limit=50&cursor=ob-0500';
    const runs = { trivial: [] as autocannon.Result[], single: [] as autocannon.Result[], list: [] as autocannon.Result[], page: [] as autocannon.Result[] };
    for (let round = 0; round < rounds; round++) {
      runs.trivial.push(await load(url, token, ['/bench/trivial'], seconds, connections));
      runs.single.push(await load(url, token, singlePaths, seconds, connections));
      runs.list.push(await load(url, token, ['/v1/policies'], seconds, connections));
      runs.page.push(await load(url, token, [pagePath], seconds, connections));
    }
    const perRound = (route: autocannon.Result[]) => route.map((r, i) => r.requests.average / runs.trivial[i]!.requests.average);
    const singleRatios = perRound(runs.single).map((r) => Number(r.toFixed(3)));
    const result: ApiBenchResult = {
      policies: POLICIES,
      trivial: measurement('GET /bench/trivial', runs.trivial),
      single: measurement('GET /v1/policies/{name}', runs.single),
      list: measurement('GET /v1/policies (1,000 items)', runs.list),
      page: measurement('GET /v1/policies?limit=50', runs.page),
      single_ratio: Number(median(singleRatios).toFixed(3)),
      list_ratio: Number(median(perRound(runs.list)).toFixed(4)),
      page_ratio: Number(median(perRound(runs.page)).toFixed(3)),
      single_ratios: singleRatios,
    };

    log(`api: ${connections} connections, ${rounds} rounds of ${seconds} s per route, autocannon in a worker thread, SQLite store`);
    log('route                              req/s      p50 ms   p99 ms   errors  non-2xx');
    for (const m of [result.trivial, result.single, result.list, result.page]) {
      log(
        `${m.route.padEnd(34)} ${String(m.requests_per_s).padStart(8)} ${String(m.p50_ms).padStart(9)} ${String(m.p99_ms).padStart(8)} ${String(m.errors).padStart(8)} ${String(m.non_2xx).padStart(8)}`,
      );
    }
    log(`api: single GET / trivial per round: ${singleRatios.map((r) => r.toFixed(2)).join(', ')}`);
    log(`api: single GET / trivial = ${result.single_ratio.toFixed(2)}x, median of rounds (goal >= 0.5x: ${result.single_ratio >= 0.5 ? 'met' : 'NOT met'})`);
    log(`api: list GET (1,000 policies) / trivial = ${result.list_ratio.toFixed(3)}x; a page of 50 / trivial = ${result.page_ratio.toFixed(2)}x`);
    return result;
  } finally {
    await app.close();
    await oss.stop();
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' } } });
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  await run({ rounds: number(values.rounds), seconds: number(values.seconds), connections: number(values.connections) });
}
