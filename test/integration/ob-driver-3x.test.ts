// The OceanBase driver against obsim 3.2.4 over a real MySQL-protocol connection: cluster-level backup,
// the compaction pre-check, cleanup by DELETE statements and backup of backups.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObDriver, compactionNeededReason, type JobRef } from '../../daemon/oceanbase/index.js';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { archiveUntil, caught, closedPort, finishJob, tempDir, until } from '../support/ob-driver.js';

const PASSWORD = 'Sys3-Pa55word';
let sim: ObSim;
let d: ObDriver;
let tmp: { dir: string; cleanup(): Promise<void> };
const uri = (...parts: string[]) => `file://${path.join(tmp.dir, ...parts)}`;
const cluster = () => ({ name: 'ob3', host: sim.host, port: sim.port, user: 'root@sys', password: PASSWORD });
const finish = (ref: JobRef) => finishJob(sim, d, ref);

/** a major freeze, merged everywhere */
async function compact(): Promise<void> {
  const before = (await d.getCompaction())[0];
  await sim.advance(1_000);
  await d.majorFreeze();
  await until(
    async () => {
      await sim.advance(5_000);
      return (await d.getCompaction())[0];
    },
    (c) => c.idle && c.frozenVersion !== before.frozenVersion,
  );
}

beforeAll(async () => {
  tmp = await tempDir('ob-driver-3x-');
  sim = await startObSim({ obVersion: '3.2.4', password: PASSWORD, tenants: ['app', 'crm'], timeScale: 0 });
  d = await ObDriver.open(cluster(), { connectTimeoutMs: 2_000, queryTimeoutMs: 5_000, findJobIntervalMs: 20 });
});

afterAll(async () => {
  await d?.close();
  await sim?.stop();
  await tmp?.cleanup();
});

describe('connection and identity (reference §0)', () => {
  it('detects 3.x', async () => {
    expect(d.identity).toMatchObject({ major: 3, version: '3.2.4' });
    expect(d.identity.serverVersion).toMatch(/^3\.2\.4-OceanBase/);
    expect(await d.targets()).toEqual([null]);
    expect((await d.listTenants()).map((t) => t.name)).toEqual(['app', 'crm']);
  });

  it('refuses a wrong password and reports a closed port quickly', async () => {
    const auth = await caught(ObDriver.open({ ...cluster(), password: 'Wrong-Pa55' }));
    expect(auth.kind).toBe('auth');
    expect(auth.message).not.toContain('Wrong-Pa55');
    const t0 = Date.now();
    const down = await caught(ObDriver.open({ ...cluster(), port: await closedPort() }, { connectTimeoutMs: 2_000 }));
    expect(down.kind).toBe('unreachable');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('destinations (reference §1)', () => {
  it('sets backup_dest once and keeps other options when one changes', async () => {
    expect(await d.setDataDestination(uri('main'), null)).toBe(true);
    expect(await d.setDataDestination(uri('main'), null)).toBe(false);
    // same location for the archive on 3.x: only log pieces are turned on
    expect(await d.setArchiveDestination({ location: uri('main'), pieceSwitchInterval: '1d' }, null)).toBe(true);
    expect(await d.setArchiveDestination({ location: uri('main'), pieceSwitchInterval: '1d' }, null)).toBe(false);
    expect(await d.setDestOptions({ log_archive_checkpoint_interval: '60s' })).toBe(true);
    expect(await d.setDestOptions({ log_archive_checkpoint_interval: '1m' })).toBe(false);
    const dest = await d.getDestination(null);
    expect(dest).toMatchObject({ tenant: null, dataDest: uri('main'), archive: { location: uri('main'), pieceSwitchSeconds: 86400 } });
    expect(dest.options).toEqual({ log_archive_checkpoint_interval: '60s', log_archive_piece_switch_interval: '1d' });
    const rows = await sim.query("SELECT value FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name = 'backup_dest_option'");
    expect(rows[0].value).toBe('log_archive_checkpoint_interval=60s&log_archive_piece_switch_interval=1d');
  });
});

describe('log archive and the compaction pre-check (reference §2, §4)', () => {
  it('refuses a backup before the archive is DOING (9040)', async () => {
    const e = await caught(d.startBackup({ type: 'full' }));
    expect(e.kind).toBe('archive_not_doing');
    expect(e.message).toContain('log archive status : STOP');
  });

  it('starts archiving once and reaches DOING with a lag by the database clock', async () => {
    expect(await d.startArchive(null)).toBe(true);
    expect(await d.startArchive(null)).toBe(false);
    const cluster = await archiveUntil(sim, d, null, (a) => a.doing);
    expect(cluster.tenantId).toBe(1);
    const all = await d.getArchiveStatus();
    expect(all.map((a) => a.tenant)).toEqual([null, 'app', 'crm']);
    await sim.advance(30_000);
    const later = (await d.getArchiveStatus())[0];
    expect(later.lagSeconds).toBeCloseTo((later.observedAt.getTime() - later.checkpointAt!.getTime()) / 1000, 3);
    const e = await caught(d.connection.exec('ALTER SYSTEM ARCHIVELOG'));
    expect(e.code).toBe(9023);
  });

  it('needs a major compaction after the archive start before a full backup', async () => {
    const archive = (await d.getArchiveStatus())[0];
    const before = (await d.getCompaction())[0];
    expect(compactionNeededReason({ compaction: before, archiveStartedAt: archive.startedAt, lastBackupStartedAt: null })).toMatch(/log archive start/);
    const e = await caught(d.startBackup({ type: 'full' }));
    expect(e.kind).toBe('major_freeze_needed');
    expect(e.code).toBe(9040);
    await compact();
    const after = (await d.getCompaction())[0];
    expect(after.frozenAt!.getTime()).toBeGreaterThan(archive.startedAt!.getTime());
    expect(compactionNeededReason({ compaction: after, archiveStartedAt: archive.startedAt, lastBackupStartedAt: null })).toBeNull();
  });
});

describe('data backup (reference §3)', () => {
  let full: JobRef;

  it('starts a cluster full backup, follows it and lists the set', async () => {
    const started = await d.startBackup({ type: 'full' });
    expect(started.marks).toEqual({ '1': 0 });
    expect(started.jobs).toHaveLength(1);
    expect(started.jobs[0]).toMatchObject({ tenant: null, tenantId: 1, type: 'full', state: 'running' });
    full = started.jobs[0];
    expect((await d.runningJobs()).map((j) => j.jobId)).toEqual([full.jobId]);
    const done = await finish(full);
    expect(done).toMatchObject({ state: 'succeeded', backupSetId: full.jobId, progress: 1, errorCode: null });
    expect(done.outputBytes).toBeGreaterThan(0);
    const set = (await d.listBackupSets()).find((s) => s.id === full.jobId && s.copyId === 0)!;
    expect(set).toMatchObject({ type: 'full', status: 'success', fileStatus: 'AVAILABLE', path: uri('main') });
    expect(await d.runningJobs()).toEqual([]);
  });

  it('answers 9036 while a backup runs, and an incremental follows the full', async () => {
    const marks = await d.jobMarks();
    expect(marks).toEqual({ '1': full.jobId });
    await d.submitBackup({ type: 'incremental' });
    const e = await caught(d.submitBackup({ type: 'full' }));
    expect(e.kind).toBe('backup_in_progress');
    expect(e.code).toBe(9036);
    const [inc] = await d.findJobsAfter(marks);
    expect(inc).toMatchObject({ type: 'incremental', jobId: full.jobId + 1 });
    expect((await finish(inc)).state).toBe('succeeded');
  });

  it('keeps polling after the connection drops mid-poll', async () => {
    await compact();
    const { jobs } = await d.startBackup({ type: 'full', encryptionPassword: 'Enc3-Pa55' });
    const ref = jobs[0];
    sim.faults.dropConnections();
    expect((await d.getJob(ref))!.jobId).toBe(ref.jobId);
    sim.faults.addStatementFault({ kind: 'drop', match: 'CDB_OB_BACKUP_PROGRESS', times: 1 });
    expect((await d.getJob(ref))!.jobId).toBe(ref.jobId);
    expect((await finish(ref)).state).toBe('succeeded');
    // SET ENCRYPTION went on the same session as the backup
    const rows = await sim.query(`SELECT encryption_mode FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND bs_key = ${ref.jobId}`);
    expect(rows[0].encryption_mode ?? rows[0].ENCRYPTION_MODE).toBe('PASSWORD');
  });

  it('cancels a running backup, and says when nothing runs', async () => {
    await compact();
    const { jobs } = await d.startBackup({ type: 'full' });
    expect(await d.cancelBackup()).toBe(true);
    expect((await finish(jobs[0])).state).toBe('canceled');
    expect(await d.cancelBackup()).toBe(false);
  });

  it('reports a failed backup with the database error code', async () => {
    await compact();
    sim.faults.failNextBackup('app', 9082, 1_000);
    const { jobs } = await d.startBackup({ type: 'full' });
    const end = await finish(jobs[0]);
    expect(end).toMatchObject({ state: 'failed', errorCode: 9082 });
  });

  it('reads the upgrade mode', async () => {
    sim.faults.setUpgrading(true);
    expect(await d.isUpgrading()).toBe(true);
    sim.faults.setUpgrading(false);
    expect(await d.isUpgrading()).toBe(false);
  });
});

describe('cleanup (reference §5)', () => {
  it('refuses deleting a set out of order, deletes the oldest, and lists the clean job', async () => {
    const sets = (await d.listBackupSets()).filter((s) => s.copyId === 0 && s.status === 'success').sort((a, b) => a.id - b.id);
    expect(sets.length).toBeGreaterThanOrEqual(3);
    const newest = sets.at(-1)!;
    const e = await caught(d.deleteBackupSet(newest.id));
    expect(e.kind).toBe('not_allowed');
    expect(e.code).toBe(9045);
    await d.deleteBackupSet(sets[0].id);
    const jobs = await until(
      async () => {
        await sim.advance(5_000);
        return d.listCleanJobs();
      },
      (j) => j.length > 0 && j.every((x) => x.state !== 'running'),
    );
    expect(jobs.at(-1)).toMatchObject({ state: 'succeeded', errorText: null });
    const after = (await d.listBackupSets()).find((s) => s.id === sets[0].id && s.copyId === 0);
    expect(after === undefined || ['DELETED', 'DELETING'].includes(after.fileStatus ?? '')).toBe(true);
    expect((await caught(d.deleteBackupSet(999))).kind).toBe('invalid_backup_set');
  });

  it('sets the recovery window with auto delete once, keeping the other options', async () => {
    expect(await d.setRetention(7 * 86400, null)).toBe(true);
    expect(await d.setRetention(7 * 86400, null)).toBe(false);
    expect(await d.getRetention()).toEqual([{ tenant: null, tenantId: 1, recoveryWindowSeconds: 7 * 86400, autoDelete: true }]);
    expect((await d.getDestination(null)).options).toMatchObject({ log_archive_checkpoint_interval: '60s', log_archive_piece_switch_interval: '1d' });
    await sim.advance(60_000);
    // with auto delete on, a manual DELETE OBSOLETE either starts or meets the running one
    try {
      await d.deleteObsoleteBackup();
    } catch (e) {
      expect((e as { kind: string }).kind).toBe('delete_in_progress');
    }
    expect(await d.setRetention(null, null)).toBe(true);
    expect((await d.getRetention())[0]).toMatchObject({ recoveryWindowSeconds: null, autoDelete: false });
  });
});

describe('secondary backup (reference §6)', () => {
  it('copies backup sets to backup_backup_dest and reports nothing left to copy', async () => {
    expect(await d.setSecondaryDestination(uri('second'))).toBe(true);
    expect(await d.setSecondaryDestination(uri('second'))).toBe(false);
    expect(await d.startSecondaryBackup('backupset', { notBackedUpTimes: 1 })).toEqual({ started: true });
    const jobs = await until(
      async () => {
        await sim.advance(5_000);
        return d.listSecondaryJobs('backupset');
      },
      (j) => j.length > 0 && j.every((x) => x.state !== 'running'),
    );
    expect(jobs.at(-1)).toMatchObject({ kind: 'backupset', state: 'succeeded', dest: uri('second') });
    const copies = (await d.listBackupSets()).filter((s) => s.copyId > 0);
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.every((s) => s.path === uri('second'))).toBe(true);
    expect(existsSync(path.join(tmp.dir, 'second'))).toBe(true);
    const again = await d.startSecondaryBackup('backupset', { notBackedUpTimes: 1 });
    expect(again.started).toBe(false);
    if (!again.started) expect([9050, 9059, 9062]).toContain(again.code);
    expect(await d.cancelSecondaryBackup('backupset')).toBe(false);
  });

  it('copies frozen log pieces', async () => {
    // the 1d piece switch freezes the first piece after a simulated day
    await until(
      async () => {
        await sim.advance(3_600_000);
        return d.listArchivePieces();
      },
      (p) => p.some((x) => x.tenant === null && x.status === 'FROZEN'),
      40,
    );
    expect(await d.startSecondaryBackup('backuppiece')).toEqual({ started: true });
    const jobs = await until(
      async () => {
        await sim.advance(5_000);
        return d.listSecondaryJobs('backuppiece');
      },
      (j) => j.length > 0 && j.every((x) => x.state !== 'running'),
    );
    expect(jobs.at(-1)!.state).toBe('succeeded');
    expect((await d.listArchivePieces()).some((p) => p.copyId > 0)).toBe(true);
  });
});

describe('stopping the archive', () => {
  it('stops once and maps the redundant NOARCHIVELOG', async () => {
    expect(await d.stopArchive(null)).toBe(true);
    await archiveUntil(sim, d, null, (a) => a.state === 'STOP');
    expect(await d.stopArchive(null)).toBe(false);
    const e = await caught(d.connection.exec('ALTER SYSTEM NOARCHIVELOG'));
    expect(e.kind).toBe('archive_not_running');
    expect(e.code).toBe(9024);
  });
});
