// The engine against obsim 3.2.4 on simulated time: cluster-level apply (backup_dest, backup_dest_option,
// backup_backup_dest with piece switching for secondary backup), OCP's compaction and full-before-incremental
// pre-checks, cluster-level backups tracked to the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPACTION_NEEDED, FULL_BACKUP_NEEDED } from '../../daemon/engine/index.js';
import { startHarness, sysExec, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness;
let secondaryDir: string;


const param = async (name: string) => {
  const rows = await h.sim.query(`SHOW PARAMETERS LIKE '${name}'`);
  return String(rows[0]?.value ?? rows[0]?.VALUE ?? '');
};

const done = (r: { state: string }) => !['pending', 'waiting', 'running'].includes(r.state);

beforeAll(async () => {
  h = await startHarness({ obVersion: '3.2.4', tenants: ['app', 'crm'] });
  secondaryDir = `${h.storageDir}-dr`;
  await (await import('node:fs/promises')).mkdir(secondaryDir, { recursive: true });
  await h.setup({ cleanup: { enabled: true, retention_days: 14 } });
  const res = await h.api('PUT', '/v1/storages/s2', { type: 'file', path: secondaryDir, capacity_alarm_threshold: 99 });
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await h?.close();
  if (secondaryDir) await (await import('node:fs/promises')).rm(secondaryDir, { recursive: true, force: true });
});

describe('applying a policy (3.x)', () => {
  it('sets backup_dest and backup_dest_option once and turns the cluster archive on until DOING', async () => {
    await waitApplied(h);
    expect(await param('backup_dest')).toBe(`file://${h.storageDir}/c1`);
    const options = await param('backup_dest_option');
    expect(options).toContain('recovery_window=14d');
    expect(options).toContain('auto_delete_obsolete_backup=false');
    expect(options).toContain('log_archive_piece_switch_interval=0');
    const archive = await h.sim.query('SELECT tenant_id, status FROM oceanbase.CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1');
    expect(archive[0]?.STATUS ?? archive[0]?.status).toBe('DOING');
  });

  it('sends no write when applied again', async () => {
    const before = h.statements.length;
    expect(await h.d.daemon.engine!.applyNow('p1')).toEqual([]);
    expect(writesIn(h.statements.slice(before))).toEqual([]);
  });

  it('with secondary backup on: backup_backup_dest, its retention and log piece switching, nothing else', async () => {
    const current = (await h.api('GET', '/v1/policies/p1')).body;
    const before = h.statements.length;
    const res = await h.api('PUT', '/v1/policies/p1', {
      cluster: 'c1',
      storage: 's1',
      schedule: current.schedule,
      cleanup: current.cleanup,
      log_archive: { enabled: true, piece_switch_interval: '2d' },
      secondary: { enabled: true, storage: 's2', retention_days: 7, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
    });
    expect(res.status, res.text).toBe(200);
    await waitApplied(h);
    expect(await param('backup_backup_dest')).toBe(`file://${secondaryDir}/c1`);
    expect(await param('backup_dest_option')).toContain('log_archive_piece_switch_interval=2d');
    expect(await param('backup_backup_dest_option')).toBe('recovery_window=7d&auto_delete_obsolete_backup=true');
    const writes = writesIn(h.statements.slice(before));
    expect(writes).toHaveLength(3);
    expect(writes.filter((w) => /SET backup_dest_option/.test(w))).toHaveLength(1);
    expect(writes.filter((w) => /SET backup_backup_dest =/.test(w))).toHaveLength(1);
    expect(writes.filter((w) => /SET backup_backup_dest_option/.test(w))).toHaveLength(1);
  });
});

describe('pre-checks and backups (3.x)', () => {
  it('refuses an incremental before any full with OCP\'s message', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'incremental' });
    expect(res.status, res.text).toBe(409);
    expect(res.body.message).toBe(FULL_BACKUP_NEEDED);
  });

  it('refuses a full until a major compaction newer than the archive start, with OCP\'s message', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(409);
    expect(res.body).toMatchObject({ error: 'precheck_failed', message: COMPACTION_NEEDED });
    expect(res.body.details[0]).toMatchObject({ path: 'precheck.compaction' });
  });

  let fullRun: number;
  it('backs up the cluster after a major compaction and records the backup set', async () => {
    await sysExec(h.sim, 'ALTER SYSTEM MAJOR FREEZE');
    for (let i = 0; i < 20; i++) await h.advance(5_000);
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    fullRun = res.body.id;
    const run = await h.waitRun(fullRun, done);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.jobs).toHaveLength(1);
    expect(run.jobs[0]!.tenant).toBeUndefined();
    expect(run.backup_set_id).toBe(run.ob_job_id);
    expect(run.ob_version).toBe('3.2.4');
    expect(run.steps.map((s) => s.name)).toContain('precheck:compaction');
  });

  it('needs a new compaction for the next full (the last one is older than the last backup)', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe(COMPACTION_NEEDED);
    expect(res.body.details[0].message).toMatch(/older than the last backup/);
  });

  it('runs an incremental on top of the full', async () => {
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'incremental' });
    expect(res.status, res.text).toBe(202);
    const run = await h.waitRun(res.body.id, done);
    expect(run).toMatchObject({ state: 'succeeded', type: 'incremental' });
    const sets = await h.sim.query('SELECT bs_key, backup_type, status FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id = 0');
    expect(sets.map((s) => s.BACKUP_TYPE ?? s.backup_type)).toEqual(['D', 'I']);
  });
});
