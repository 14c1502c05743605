// Two obbackupd in one process on one store (a MariaDB database, then one SQLite file), one obsim 4.2.1,
// one simulated clock: only the lease holder schedules; the other serves the API. The holder is killed
// (stopped without giving the lease up) in the middle of a backup; once the lease has expired the other
// daemon takes it, re-attaches the backup without starting it again, and schedules the next run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type EngineOptions, type Run } from '../../daemon/engine/index.js';
import { startTestDaemon, type Backend, type TestDaemon } from '../support/daemon.js';
import { DEFAULT_START, startRecordingObSim, SYS_PASSWORD, sysExec, type ObSimHandle } from '../support/engine.js';
import { acquireMariaDb, releaseMariaDb, type MariaDb } from '../support/mariadb.js';

// Long enough that two simulated days of renewals stay quick; the rule is the same at 30 s.
const TTL_MS = 30 * 60_000;
const RENEW_MS = 10 * 60_000;
const done = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);

interface World {
  ob: ObSimHandle;
  clock: ManualClock;
  a: TestDaemon;
  b: TestDaemon;
  dirs: string[];
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

async function startWorld(backend: Backend, mariadb?: MariaDb): Promise<World> {
  const ob = await startRecordingObSim({ obVersion: '4.2.1', tenants: ['app'], startTimeMs: DEFAULT_START.getTime() });
  await sysExec(ob.sim, "ALTER SYSTEM SET archive_lag_target = '2h' TENANT = app");
  const clock = new ManualClock(DEFAULT_START);
  clock.onAdvance(async (now) => {
    const behind = now.getTime() - ob.sim.now();
    if (behind > 0) await ob.sim.advance(behind);
  });
  // One data dir (one secret key) and one store for both: for SQLite that is one database file.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-lease-data-'));
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-lease-storage-'));
  const storeUrl = backend === 'mariadb' ? await mariadb!.createDatabase() : 'sqlite:';
  const engine: EngineOptions = {
    clock,
    maxSleepMs: 6 * 3600_000,
    archiveWaitMs: 10 * 60_000,
    driver: { connectTimeoutMs: 2_000, queryTimeoutMs: 5_000 },
    ops: false,
    lease: { ttlMs: TTL_MS, renewMs: RENEW_MS },
  };
  const a = await startTestDaemon(backend, { dataDir, storeUrl, logLevel: 'info', engine });
  const b = await startTestDaemon(backend, { dataDir, storeUrl, logLevel: 'info', engine });
  const engines = [a, b].map((d) => d.daemon.engine!);
  clock.setQuiesce(async () => {
    for (const e of engines) await e.settled();
  });
  const world: World = {
    ob,
    clock,
    a,
    b,
    dirs: [dataDir, storageDir],
    async advance(ms) {
      for (const e of engines) await e.settled();
      await clock.advance(ms);
    },
    async close() {
      await a.daemon.close().catch(() => undefined);
      await b.daemon.close().catch(() => undefined);
      await ob.sim.stop();
      for (const dir of world.dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  // Registered through b, the daemon that does not schedule: the holder still sees the policy.
  const put = async (url: string, body: unknown) => {
    const res = await b.api('PUT', url, body);
    expect(res.status, res.text).toBe(201);
  };
  await put('/v1/clusters/c1', { host: ob.sim.host, port: ob.sim.port, user: 'root@sys', password: SYS_PASSWORD });
  await put('/v1/storages/s1', { type: 'file', path: storageDir, capacity_alarm_threshold: 99 });
  await put('/v1/policies/p1', {
    cluster: 'c1',
    storage: 's1',
    // Mon 02:00 full, Wed 02:00 incremental (DEFAULT_START is Mon 00:00 UTC)
    schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }] },
  });
  return world;
}

/** Log lines of a daemon that mention `text`. */
const said = (d: TestDaemon, text: string) => d.logs.filter((l) => (JSON.parse(l) as { msg: string }).msg.includes(text));

async function scheduledRuns(d: TestDaemon): Promise<Run[]> {
  const res = await d.api('GET', '/v1/runs?kind=backup');
  expect(res.status, res.text).toBe(200);
  return (res.body.items as Run[]).filter((r) => r.trigger !== 'immediate').sort((x, y) => x.id - y.id);
}

async function advanceUntil(w: World, what: string, check: () => Promise<boolean>, stepMs = 5_000, maxSteps = 400): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (await check()) return;
    await w.advance(stepMs);
  }
  throw new Error(`${what}: not reached after ${(stepMs * maxSteps) / 1000} simulated s`);
}

for (const backend of ['mariadb', 'sqlite'] as const) {
  describe(`two daemons on one ${backend} store`, () => {
    let mariadb: MariaDb | undefined;
    let w: World;

    beforeAll(async () => {
      if (backend === 'mariadb') mariadb = await acquireMariaDb();
      w = await startWorld(backend, mariadb);
    }, 120_000);

    afterAll(async () => {
      await w?.close();
      if (mariadb) await releaseMariaDb();
    });

    it('only the first one holds the lease and schedules; both serve the API', async () => {
      expect(w.a.daemon.engine!.lease.leading).toBe(true);
      expect(w.b.daemon.engine!.lease.leading).toBe(false);
      expect(w.a.daemon.engine!.scheduler.active).toBe(true);
      expect(w.b.daemon.engine!.scheduler.active).toBe(false);

      // Mon 02:00: one full, scheduled by a; renewals go on and b stays out.
      await w.advance(2 * 3600_000 - 60_000);
      await advanceUntil(w, 'the Monday full', async () => (await scheduledRuns(w.a)).length > 0);
      const [run] = await scheduledRuns(w.b);
      expect(run).toMatchObject({ scheduled_at: '2025-03-03T02:00:00.000Z', type: 'full' });
      expect(said(w.a, 'full backup due at')).toHaveLength(1);
      expect(said(w.b, 'full backup due at')).toHaveLength(0);
      expect(said(w.b, 'holds the scheduling lease')).toHaveLength(0);
      expect(w.b.daemon.engine!.lease.leading).toBe(false);
    });

    it('the holder killed mid-backup: the other takes over after expiry, re-attaches the run and schedules on', async () => {
      const [run] = await scheduledRuns(w.a);
      await advanceUntil(w, 'the backup job started', async () => (await w.a.api('GET', `/v1/runs/${run!.id}`)).body.ob_job_id !== null, 1_000);
      expect((await w.a.api('GET', `/v1/runs/${run!.id}`)).body.state).toBe('running');

      // A kill: the lease row stays as it was; b must wait for it to expire.
      await w.a.daemon.engine!.stop({ releaseLease: false });
      await w.a.daemon.close();
      const killedAt = w.clock.now().getTime();
      await w.advance(TTL_MS - RENEW_MS);
      expect(w.b.daemon.engine!.lease.leading).toBe(false);
      await advanceUntil(w, 'b holds the lease', async () => w.b.daemon.engine!.lease.leading, 60_000, 60);
      const tookOverAfter = w.clock.now().getTime() - killedAt;
      expect(tookOverAfter).toBeGreaterThanOrEqual(TTL_MS);
      expect(tookOverAfter).toBeLessThanOrEqual(TTL_MS + RENEW_MS);
      expect(w.b.daemon.engine!.scheduler.active).toBe(true);

      const finished = await (async () => {
        let r: Run = (await w.b.api('GET', `/v1/runs/${run!.id}`)).body;
        await advanceUntil(w, 'the re-attached backup ended', async () => done((r = (await w.b.api('GET', `/v1/runs/${run!.id}`)).body)));
        return r;
      })();
      expect(finished.state, JSON.stringify(finished.steps)).toBe('succeeded');
      expect(finished.steps.map((s) => s.name)).toContain('reattach');
      expect(w.ob.statements.filter((s) => /^\s*ALTER SYSTEM BACKUP/i.test(s))).toHaveLength(1);

      // Wed 02:00: b schedules the incremental.
      await advanceUntil(w, 'the Wednesday incremental', async () => (await scheduledRuns(w.b)).length > 1, 3600_000, 60);
      const runs = await scheduledRuns(w.b);
      expect(runs.map((r) => [r.scheduled_at, r.type])).toEqual([
        ['2025-03-03T02:00:00.000Z', 'full'],
        ['2025-03-05T02:00:00.000Z', 'incremental'],
      ]);
      expect(said(w.b, 'incremental backup due at')).toHaveLength(1);
    });

    it('a clean stop gives the lease up: a daemon started next takes it at once', async () => {
      const { dataDir, storeUrl } = w.b;
      await w.b.daemon.close();
      const c = await startTestDaemon(backend, { dataDir, storeUrl, logLevel: 'info', engine: { clock: w.clock, ops: false, lease: { ttlMs: TTL_MS, renewMs: RENEW_MS } } });
      try {
        expect(c.daemon.engine!.lease.leading).toBe(true);
        expect(c.daemon.engine!.scheduler.active).toBe(true);
      } finally {
        await c.daemon.close();
      }
    });
  });
}
