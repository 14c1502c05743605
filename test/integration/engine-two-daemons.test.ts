// Two obbackupd on one store (the same SQLite file, then one MariaDB database), one obsim 4.2.1, one
// simulated clock: the store is what both go by. A policy deleted (or replaced) through one daemon stops the
// apply the other runs; a deleted one is undone on the cluster once, also when the daemon holding its work
// stops; a data backup running through one daemon keeps the other from starting a second one of the same
// cluster (backup now: the same 409 as on one daemon; a scheduled run: waits for it).
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../daemon/engine/index.js';
import { BACKENDS, type TestDaemon } from '../support/daemon.js';
import { DEFAULT_START, startHarness, sysExec, waitApplied, writesIn, type Harness, type HarnessOptions } from '../support/engine.js';
import { acquireMariaDb, releaseMariaDb } from '../support/mariadb.js';

const active = (r: Run) => ['pending', 'waiting', 'running'].includes(r.state);
/** A policy with a retention, so applying it adds a delete policy per tenant. */
const POLICY = { cleanup: { enabled: true, retention_days: 7, time: '04:00' } };

for (const backend of BACKENDS) {
  describe(`two daemons on one ${backend} store`, () => {
    let h: Harness | undefined;
    let mariadbHeld = false;

    /** Daemon a (h.d) starts first and holds the scheduling lease; b serves the API beside it. */
    async function start(options: Omit<HarnessOptions, 'backend' | 'mariadb'>): Promise<{ a: TestDaemon; b: TestDaemon }> {
      const mariadb = backend === 'mariadb' ? await acquireMariaDb() : undefined;
      mariadbHeld = mariadb !== undefined;
      h = await startHarness({ ...options, backend, mariadb });
      const b = await h.addDaemon();
      expect(h.d.daemon.engine!.lease.leading).toBe(true);
      expect(b.daemon.engine!.lease.leading).toBe(false);
      return { a: h.d, b };
    }

    /**
     * b applies POLICY half-way: crm archives elsewhere with an operator's delete policy, so b's apply stops
     * that archive and waits for it (obsim's time stands still), crm's destination, retention and archive
     * still to come.
     */
    async function bApplyingHalfWay(engine?: HarnessOptions['engine']) {
      const daemons = await start({ obVersion: '4.2.1', tenants: ['app', 'crm'], engine });
      const harness = h!;
      await sysExec(harness.sim, `ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=file://${harness.storageDir}/operator/crm' TENANT = crm`);
      await sysExec(harness.sim, 'ALTER SYSTEM ARCHIVELOG TENANT = crm');
      await sysExec(harness.sim, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '3d' TENANT = crm");
      await harness.setup(POLICY, daemons.b);
      await expect(daemons.b.daemon.engine!.policyStates.get('p1')).resolves.toMatchObject({ apply_state: 'applying' });
      return { ...daemons, harness };
    }

    afterEach(async () => {
      await h?.close();
      h = undefined;
      if (mariadbHeld) await releaseMariaDb();
      mariadbHeld = false;
    });

    it('a policy deleted through a stops the apply b runs; the cluster is left as before, undone once', async () => {
      const { a, harness } = await bApplyingHalfWay();
      expect(writesIn(harness.statements)).toContain('ALTER SYSTEM NOARCHIVELOG TENANT = crm');

      const from = harness.statements.length;
      const res = await a.api('DELETE', '/v1/policies/p1');
      expect(res.status, res.text).toBe(204);
      // Long enough for b's waits (archive stop, then DOING: 10 min here) to have ended had it gone on.
      for (let i = 0; i < 15; i++) await harness.advance(60_000);

      const after = writesIn(harness.statements.slice(from));
      // b went no further: nothing more for crm; what it had started on app undone once.
      expect(after.filter((w) => /TENANT = crm/.test(w))).toEqual([]);
      expect(after.sort()).toEqual(["ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = app", 'ALTER SYSTEM NOARCHIVELOG TENANT = app']);
      const tenants = await harness.sim.query("SELECT tenant_id AS id, tenant_name AS t, log_mode AS m FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
      expect(tenants.map((r) => `${r.T ?? r.t}=${r.M ?? r.m}`).sort()).toEqual(['app=NOARCHIVELOG', 'crm=NOARCHIVELOG']);
      const nameOf = new Map(tenants.map((r) => [String(r.ID ?? r.id), String(r.T ?? r.t)]));
      const windows = await harness.sim.query('SELECT tenant_id AS id, recovery_window AS w FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY');
      expect(windows.map((r) => `${nameOf.get(String(r.ID ?? r.id))}=${r.W ?? r.w}`)).toEqual(['crm=3d']);
      expect(await a.daemon.engine!.policyStates.get('p1')).toBeUndefined();
    }, 120_000);

    it('a policy replaced through a while b applies it: b stops that apply and the new version is what the cluster gets', async () => {
      const { a, harness } = await bApplyingHalfWay();

      const from = harness.statements.length;
      const current = (await a.api('GET', '/v1/policies/p1')).body;
      const res = await a.api('PUT', '/v1/policies/p1', { ...current, name: undefined, created_at: undefined, updated_at: undefined, cleanup: { enabled: true, retention_days: 9 } });
      expect(res.status, res.text).toBe(200);
      await waitApplied(harness, 'p1', 'applied', 300);

      const after = writesIn(harness.statements.slice(from));
      // The 7 days of the replaced version were not set on crm; both tenants end with the new 9 days.
      expect(after.filter((w) => /RECOVERY_WINDOW '7d'/.test(w))).toEqual([]);
      expect(after.filter((w) => /RECOVERY_WINDOW '9d'/.test(w)).sort()).toEqual([
        "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '9d' TENANT = app",
        "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '9d' TENANT = crm",
      ]);
      expect(await a.daemon.engine!.policyStates.get('p1')).toMatchObject({ apply_state: 'applied', applied_version: res.body.version });
      const modes = await harness.sim.query("SELECT log_mode AS m FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
      expect(modes.map((r) => r.M ?? r.m)).toEqual(['ARCHIVELOG', 'ARCHIVELOG']);
    }, 120_000);

    it('b stopped while it held the apply of a policy deleted through a: a undoes the policy once b is gone', async () => {
      const { a, b, harness } = await bApplyingHalfWay({ lease: { ttlMs: 90_000, renewMs: 30_000 } });

      const from = harness.statements.length;
      const res = await a.api('DELETE', '/v1/policies/p1');
      expect(res.status, res.text).toBe(204);
      // b holds the work: a asked it to go again and left it; b stops before it looked at the store again.
      expect(writesIn(harness.statements.slice(from))).toEqual([]);
      await b.daemon.engine!.stop({ releaseLease: false });
      await b.daemon.close();
      for (let i = 0; i < 8; i++) await harness.advance(30_000);

      expect(writesIn(harness.statements.slice(from)).sort()).toEqual([
        "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = app",
        'ALTER SYSTEM NOARCHIVELOG TENANT = app',
      ]);
      expect(await a.daemon.engine!.policyStates.get('p1')).toBeUndefined();
    }, 120_000);

    it('backup now through a, then through b while it runs: the same 409, naming the running run', async () => {
      const { a, b } = await start({ obVersion: '4.2.1', tenants: ['app'] });
      await h!.setup({}, a);
      await waitApplied(h!);
      const first = await a.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(first.status, first.text).toBe(202);
      const again = await a.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(again.status, again.text).toBe(409);
      const other = await b.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(other.status, other.text).toBe(409);
      expect(other.body).toEqual(again.body);
      expect(other.body.message).toContain(`(run ${first.body.id})`);
      const run = await h!.waitRun(first.body.id, (r) => !active(r));
      expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    }, 120_000);

    it('a backup now running through b: the run a schedules meanwhile waits for it, then runs', async () => {
      const { b } = await start({
        obVersion: '4.2.1',
        tenants: ['app'],
        // a full takes about 17 simulated minutes; a's renewals (which follow b's run) every 30 s
        obsim: { tunables: { backupBytesPerSecond: 4096 } },
        engine: { lease: { ttlMs: 90_000, renewMs: 30_000 } },
      });
      const harness = h!;
      await harness.setup({ schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] } }, b);
      await waitApplied(harness);
      // 01:59: b starts a full now; a's Monday 02:00 full falls due while it runs.
      await harness.advance(DEFAULT_START.getTime() + 119 * 60_000 - harness.clock.now().getTime());
      const now = await b.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(now.status, now.text).toBe(202);
      let scheduled: Run | undefined;
      for (let i = 0; i < 60 && !scheduled; i++) {
        await harness.advance(5_000);
        scheduled = ((await b.api('GET', '/v1/runs?kind=backup&trigger=scheduled')).body.items as Run[])[0];
      }
      expect(scheduled, 'the Monday full was not scheduled').toBeDefined();
      const first = await harness.run(now.body.id);
      expect(first.state).toBe('running');
      expect(scheduled).toMatchObject({ state: 'waiting', reason: `waiting for run ${now.body.id}, a data backup of the same cluster, to finish` });

      const ended = await harness.waitRun(now.body.id, (r) => !active(r), { stepMs: 30_000 });
      expect(ended.state, JSON.stringify(ended.steps)).toBe('succeeded');
      const second = await harness.waitRun(scheduled!.id, (r) => !active(r), { stepMs: 30_000 });
      expect(second.state, JSON.stringify(second.steps)).toBe('succeeded');
      expect(new Date(second.started_at!).getTime()).toBeGreaterThanOrEqual(new Date(ended.finished_at!).getTime());
      expect(harness.statements.filter((s) => /^\s*ALTER SYSTEM BACKUP/i.test(s))).toHaveLength(2);
    }, 120_000);
  });
}
