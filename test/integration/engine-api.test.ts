// The engine through the API on both stores (SQLite and MariaDB): cluster registration connects first,
// logical policies are refused, archive enforcement before a backup, a backup tracked to the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../daemon/engine/index.js';
import { BACKENDS } from '../support/daemon.js';
import { startHarness, SYS_PASSWORD, sysExec, waitApplied, type Harness } from '../support/engine.js';
import { acquireMariaDb, releaseMariaDb } from '../support/mariadb.js';
import { closedPort, silentServer } from '../support/ob-driver.js';

const done = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);

for (const backend of BACKENDS) {
  describe(`engine through the API on ${backend}`, () => {
    let h: Harness;

    beforeAll(async () => {
      const mariadb = backend === 'mariadb' ? await acquireMariaDb() : undefined;
      h = await startHarness({ obVersion: '4.2.1', tenants: ['app'], backend, mariadb });
    });

    afterAll(async () => {
      await h?.close();
      if (backend === 'mariadb') await releaseMariaDb();
    });


    describe('registering a cluster', () => {
      it('refuses a port nothing listens on, at once, naming host and port', async () => {
        const port = await closedPort();
        const started = Date.now();
        const res = await h.api('PUT', '/v1/clusters/gone', { host: '127.0.0.1', port, password: 'x' });
        expect(res.status, res.text).toBe(422);
        expect(res.body.error).toBe('precheck_failed');
        expect(res.body.message).toBe(`cluster "gone" cannot be registered: cluster "gone" at 127.0.0.1:${port}: cannot connect (connection refused: nothing listens on that port)`);
        expect(res.body.details).toEqual([{ path: 'host', message: expect.stringContaining('connection refused') }]);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect((await h.api('GET', '/v1/clusters/gone')).status).toBe(404);
      });

      it('refuses a server that never answers within the connect timeout, not a hang', async () => {
        const silent = await silentServer();
        try {
          const started = Date.now();
          const res = await h.api('PUT', '/v1/clusters/hung', { host: '127.0.0.1', port: silent.port, password: 'x' });
          expect(res.status, res.text).toBe(422);
          expect(res.body.message).toMatch(/cannot connect/);
          expect(Date.now() - started).toBeLessThan(8_000);
        } finally {
          await silent.close();
        }
      });

      it('refuses a wrong password without showing it', async () => {
        const res = await h.api('PUT', '/v1/clusters/badpw', { host: h.sim.host, port: h.sim.port, password: 'Not-The-Pa55' });
        expect(res.status, res.text).toBe(422);
        expect(res.body.details[0].path).toBe('password');
        expect(res.body.message).toMatch(/login refused/);
        expect(res.text).not.toContain('Not-The-Pa55');
      });

      it('refuses a tenant scope naming a tenant the cluster lacks', async () => {
        const res = await h.api('PUT', '/v1/clusters/scoped', { host: h.sim.host, port: h.sim.port, password: SYS_PASSWORD, tenants: ['app', 'ghost'] });
        expect(res.status, res.text).toBe(422);
        expect(res.body.details).toEqual([{ path: 'tenants', message: expect.stringContaining('"ghost"') }]);
      });

      it('registers a reachable cluster and records its detected version', async () => {
        const res = await h.api('PUT', '/v1/clusters/c1', { host: h.sim.host, port: h.sim.port, password: SYS_PASSWORD });
        expect(res.status, res.text).toBe(201);
        const seen = await h.d.daemon.engine!.clusters.observation('c1');
        expect(seen).toMatchObject({ reachable: true, ob_version: '4.2.1.0', major: 4, error: null });
      });
    });

    describe('policies', () => {
      it('refuses a logical policy with a 409 that says logical backup is not available yet', async () => {
        const res = await h.api('PUT', '/v1/storages/s1', { type: 'file', path: h.storageDir, capacity_alarm_threshold: 99 });
        expect(res.status, res.text).toBe(201);
        const logical = await h.api('PUT', '/v1/policies/p1', {
          cluster: 'c1',
          storage: 's1',
          mode: 'logical',
          schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] },
        });
        expect(logical.status, logical.text).toBe(409);
        expect(logical.body.message).toMatch(/logical backup is not available yet/);
        expect(logical.body.details).toEqual([{ path: 'mode', message: 'logical backup is not available yet' }]);
        expect((await h.api('GET', '/v1/policies/p1')).status).toBe(404);
        expect(h.statements.filter((s) => /^ALTER SYSTEM/i.test(s))).toEqual([]);
      });

      it('applies a physical policy', async () => {
        const res = await h.api('PUT', '/v1/policies/p1', {
          cluster: 'c1',
          storage: 's1',
          schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] },
        });
        expect(res.status, res.text).toBe(201);
        await waitApplied(h);
      });
    });

    describe('log archive enforcement', () => {
      it('starts a stopped archive and waits for DOING before backing up', async () => {
        await sysExec(h.sim, 'ALTER SYSTEM NOARCHIVELOG TENANT = app');
        for (let i = 0; i < 5; i++) await h.advance(1_000);
        const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
        expect(res.status, res.text).toBe(202);
        expect(res.body.steps.find((s: { name: string }) => s.name === 'precheck:log_archive')).toMatchObject({
          state: 'skipped',
          message: expect.stringMatching(/^log archive is not DOING \(tenant app STOP\); the run starts it and waits for DOING$/),
        });
        const run = await h.waitRun(res.body.id, done, { stepMs: 2_000 });
        expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
        const archiveSteps = run.steps.filter((s) => s.name === 'precheck:log_archive');
        expect(archiveSteps.at(-1)).toMatchObject({ state: 'succeeded', message: 'log archive is DOING' });
        const modes = await h.sim.query("SELECT log_mode FROM oceanbase.DBA_OB_TENANTS WHERE tenant_name = 'app'");
        expect(modes[0]?.LOG_MODE ?? modes[0]?.log_mode).toBe('ARCHIVELOG');
      });

      it('refuses while the archive is INTERRUPTED, saying an operator must act', async () => {
        await h.sim.faults.interruptArchive('app');
        const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
        expect(res.status, res.text).toBe(409);
        expect(res.body.message).toBe(
          'log archive is not DOING (tenant app INTERRUPTED); an interrupted archive needs an operator: fix the cause, then NOARCHIVELOG and ARCHIVELOG',
        );
      });
    });

    it('serves the runs it recorded from this store', async () => {
      const res = await h.api('GET', '/v1/runs?cluster=c1');
      expect(res.status).toBe(200);
      expect(res.body.items.map((r: Run) => [r.kind, r.type, r.state])).toEqual([['backup', 'full', 'succeeded']]);
    });
  });
}
