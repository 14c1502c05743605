// The engine against obsim 4.2.1 on simulated time: applying a policy (idempotent), backup now with its
// pre-checks, job tracking to the end, 9036, a dropped connection mid-poll, removal of a policy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_BACKUP_NEEDED } from '../../daemon/engine/index.js';
import { startHarness, sysExec, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ obVersion: '4.2.1', tenants: ['app', 'crm'] });
  await h.setup();
});

afterAll(async () => {
  await h?.close();
});

const done = (r: { state: string }) => !['pending', 'waiting', 'running'].includes(r.state);

describe('applying a policy (4.x)', () => {
  it('sets both destinations per tenant, the delete policy off, and turns the archive on until DOING', async () => {
    await waitApplied(h);
    const dests = await h.sim.query("SELECT tenant_id, name, value FROM oceanbase.CDB_OB_ARCHIVE_DEST WHERE name = 'path'");
    expect(dests.map((r) => r.VALUE ?? r.value).sort()).toEqual([`file://${h.storageDir}/c1/app/archive`, `file://${h.storageDir}/c1/crm/archive`]);
    const data = await h.sim.query("SELECT tenant_id, value FROM oceanbase.CDB_OB_BACKUP_PARAMETER WHERE name = 'data_backup_dest'");
    expect(data.map((r) => r.VALUE ?? r.value).sort()).toEqual([`file://${h.storageDir}/c1/app/data`, `file://${h.storageDir}/c1/crm/data`]);
    const modes = await h.sim.query("SELECT tenant_name, log_mode FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
    expect(modes.map((r) => r.LOG_MODE ?? r.log_mode)).toEqual(['ARCHIVELOG', 'ARCHIVELOG']);
    const archive = await h.sim.query('SELECT tenant_id, status FROM oceanbase.CDB_OB_ARCHIVELOG');
    expect(archive.map((r) => r.STATUS ?? r.status)).toEqual(['DOING', 'DOING']);
  });

  it('sends no write when applied again', async () => {
    const before = h.statements.length;
    const changes = await h.d.daemon.engine!.applyNow('p1');
    expect(changes).toEqual([]);
    const sent = h.statements.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(writesIn(sent)).toEqual([]);
  });

  it('re-applies a changed retention with only the delete policy statements', async () => {
    let res = await h.api('GET', '/v1/policies/p1');
    const before = h.statements.length;
    res = await h.api('PUT', '/v1/policies/p1', { ...res.body, name: undefined, created_at: undefined, updated_at: undefined, cleanup: { enabled: true, retention_days: 9 } });
    expect(res.status, res.text).toBe(200);
    await waitApplied(h);
    const writes = writesIn(h.statements.slice(before));
    expect(writes).toEqual([
      "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '9d' TENANT = app",
      "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '9d' TENANT = crm",
    ]);
    const policies = await h.sim.query('SELECT tenant_id, policy_name, recovery_window FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY');
    expect(policies).toHaveLength(2);
  });
});

describe('backup now (4.x)', () => {
  it('refuses an incremental before any full with OCP\'s message, at once', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'incremental' });
    expect(res.status, res.text).toBe(409);
    expect(res.body).toMatchObject({ error: 'precheck_failed', message: FULL_BACKUP_NEEDED });
    expect(res.body.details[0].message).toMatch(/tenant app, tenant crm/);
  });

  it('answers 404 for an unknown cluster and 400 for a bad type', async () => {
    expect((await h.api('POST', '/v1/clusters/nope/backups', { type: 'full' })).status).toBe(404);
    const bad = await h.api('POST', '/v1/clusters/c1/backups', { type: 'differential' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('type');
  });

  let fullRun: number;
  it('starts a full backup (202 with the run) and tracks it to the end with job ids, set ids and sizes', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/runs/${res.body.id}`);
    expect(res.body).toMatchObject({ cluster: 'c1', policy: 'p1', kind: 'backup', type: 'full', trigger: 'immediate' });
    expect(res.body.steps.map((s: { name: string }) => s.name)).toEqual(['precheck:storage', 'precheck:log_archive', 'precheck:no_running_backup']);
    fullRun = res.body.id;

    // a second request while it runs is refused
    const again = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(new RegExp(`already running or queued \\(run ${fullRun}\\)`));

    const run = await h.waitRun(fullRun, done);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.progress).toBe(100);
    expect(run.jobs.map((j) => j.tenant).sort()).toEqual(['app', 'crm']);
    expect(run.ob_job_id).toBeGreaterThan(0);
    expect(run.backup_set_id).toBeGreaterThan(0);
    expect(run.output_bytes).toBeGreaterThan(0);
    expect(run.steps.map((s) => s.name)).toEqual(['precheck:storage', 'precheck:log_archive', 'precheck:no_running_backup', 'connect', 'start', 'track']);
    expect(run.steps.every((s) => s.state === 'succeeded')).toBe(true);

    const history = await h.sim.query("SELECT tenant_id, job_id, backup_type, status FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id != 1");
    expect(history.map((r) => `${r.BACKUP_TYPE ?? r.backup_type} ${r.STATUS ?? r.status}`)).toEqual(['FULL COMPLETED', 'FULL COMPLETED']);
  });

  it('then runs an incremental', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'incremental' });
    expect(res.status, res.text).toBe(202);
    const run = await h.waitRun(res.body.id, done);
    expect(run).toMatchObject({ state: 'succeeded', type: 'incremental' });
  });

  it('lists runs newest first with filters and paging', async () => {
    const all = await h.api('GET', '/v1/runs?cluster=c1&kind=backup');
    expect(all.status).toBe(200);
    const ids = all.body.items.map((r: { id: number }) => r.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(ids).toContain(fullRun);
    const page = await h.api('GET', '/v1/runs?limit=1');
    expect(page.body.items).toHaveLength(1);
    const next = await h.api('GET', `/v1/runs?limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body.items[0].id).toBeLessThan(page.body.items[0].id);
    const failed = await h.api('GET', '/v1/runs?state=failed,canceled&policy=p1');
    expect(failed.body.items).toEqual([]);
    expect((await h.api('GET', '/v1/runs?state=bogus')).status).toBe(400);
    expect((await h.api('GET', '/v1/runs/999999')).status).toBe(404);
  });

  it('refuses while a backup started outside obbackup runs, naming the job', async () => {
    await sysExec(h.sim, 'ALTER SYSTEM BACKUP TENANT = crm');
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/a data backup is already running on the cluster: tenant crm job \d+/);
    // let it finish
    for (let i = 0; i < 30; i++) await h.advance(5_000);
  });

  it('records OceanBase 9036 from the start statement as a failed run with a clear error', async () => {
    h.sim.faults.addStatementFault({ kind: 'error', match: '^ALTER SYSTEM BACKUP', code: 9036, message: 'Backup is in progress', times: 1 });
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const run = await h.waitRun(res.body.id, done);
    expect(run.state).toBe('failed');
    expect(run.error_code).toBe(9036);
    expect(run.error).toMatch(/already in progress \(error 9036\)/);
    expect(run.steps.find((s) => s.name === 'start')).toMatchObject({ state: 'failed' });
  });

  it('keeps tracking through a dropped connection', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    await h.waitRun(res.body.id, (r) => r.jobs.length > 0);
    // every read of the job views fails for a while: connections are dropped
    h.sim.faults.addStatementFault({ kind: 'drop', match: 'CDB_OB_BACKUP_JOB', times: 6 });
    h.sim.faults.dropConnections();
    const run = await h.waitRun(res.body.id, done);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.steps.map((s) => s.name)).toContain('reconnect');
    h.sim.faults.clearStatementFaults();
  });
});

describe('changing the destination (4.x)', () => {
  it('cancels the running backup and stops the archive before switching, then needs a new full', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-engine-storage2-'));
    try {
      let res = await h.api('PUT', '/v1/storages/s2', { type: 'file', path: otherDir, capacity_alarm_threshold: 99 });
      expect(res.status, res.text).toBe(201);
      const running = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(running.status, running.text).toBe(202);
      await h.waitRun(running.body.id, (r) => r.jobs.length === 2);

      const current = (await h.api('GET', '/v1/policies/p1')).body;
      const before = h.statements.length;
      res = await h.api('PUT', '/v1/policies/p1', { cluster: 'c1', storage: 's2', schedule: current.schedule, cleanup: current.cleanup });
      expect(res.status, res.text).toBe(200);
      await waitApplied(h);

      const app = writesIn(h.statements.slice(before))
        .filter((w) => /TENANT = app\b/.test(w))
        .map((w) => w.replace(/'[^']*'/g, "'…'"));
      expect(app).toEqual([
        'ALTER SYSTEM NOARCHIVELOG TENANT = app',
        "ALTER SYSTEM SET LOG_ARCHIVE_DEST = '…' TENANT = app",
        'ALTER SYSTEM CANCEL BACKUP TENANT = app',
        "ALTER SYSTEM SET DATA_BACKUP_DEST = '…' TENANT = app",
        'ALTER SYSTEM ARCHIVELOG TENANT = app',
      ]);
      const cancelled = await h.waitRun(running.body.id, done);
      expect(cancelled.state).toBe('canceled');

      const inc = await h.api('POST', '/v1/clusters/c1/backups', { type: 'incremental' });
      expect(inc.status, inc.text).toBe(409);
      expect(inc.body.message).toBe(FULL_BACKUP_NEEDED);
      const full = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(full.status, full.text).toBe(202);
      expect((await h.waitRun(full.body.id, done)).state).toBe('succeeded');
      expect(fs.readdirSync(path.join(otherDir, 'c1'))).toEqual(['app', 'crm']);
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });
});

describe('removing the policy', () => {
  it('turns the archive off and drops the delete policy it added', async () => {
    const before = h.statements.length;
    const res = await h.api('DELETE', '/v1/policies/p1');
    expect(res.status, res.text).toBe(204);
    await h.advance(1_000);
    await h.d.daemon.engine!.settled();
    const writes = writesIn(h.statements.slice(before));
    expect(writes).toEqual(
      expect.arrayContaining(['ALTER SYSTEM NOARCHIVELOG TENANT = app', "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = crm"]),
    );
    const modes = await h.sim.query("SELECT log_mode FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
    expect(modes.map((r) => r.LOG_MODE ?? r.log_mode)).toEqual(['NOARCHIVELOG', 'NOARCHIVELOG']);
  });
});
