import { describe, expect, it } from 'vitest';
import {
  Dialect3x,
  compactionNeededReason,
  mergeDestOptions,
  parseArchiveStatus3x,
  parseBackupSets3x,
  parseCleanJobs3x,
  parseCompaction3x,
  parseDestinations3x,
  parseJobs3x,
  parseRetention3x,
  parseSecondaryJobs3x,
  parseTenants3x,
} from '../../daemon/oceanbase/dialect-3x.js';
import { formatOptionString, parseOptionString } from '../../daemon/oceanbase/dialect.js';
import type { CompactionStatus } from '../../daemon/oceanbase/types.js';

const OSS = 'oss://bkt/ob?host=oss.example.com&access_id=ID1234&access_key=KEY5678';

describe('3.x tenants and destinations', () => {
  it('leaves the sys tenant out', () => {
    expect(parseTenants3x([{ tenant_id: 1, tenant_name: 'sys' }, { tenant_id: 1001, tenant_name: 'app' }]).map((t) => t.name)).toEqual(['app']);
  });

  it('reads backup_dest, backup_dest_option, backup_backup_dest and its option from the per-server rows', () => {
    const d = parseDestinations3x([
      { name: 'backup_dest', value: '' },
      { name: 'backup_dest', value: OSS },
      { name: 'backup_dest_option', value: 'log_archive_checkpoint_interval=120s&recovery_window=7d&auto_delete_obsolete_backup=true&log_archive_piece_switch_interval=1d' },
      { name: 'backup_backup_dest', value: 'file:///nfs/second' },
      { name: 'backup_backup_dest_option', value: 'recovery_window=14d&auto_delete_obsolete_backup=true' },
    ]);
    expect(d).toMatchObject({
      tenant: null,
      tenantId: 1,
      dataDest: OSS,
      archive: { location: OSS, pieceSwitchSeconds: 86400, binding: null, state: null },
      secondaryDest: 'file:///nfs/second',
    });
    expect(d.options.recovery_window).toBe('7d');
    expect(d.secondaryOptions).toEqual({ recovery_window: '14d', auto_delete_obsolete_backup: 'true' });
    expect(parseRetention3x(d)).toEqual({ tenant: null, tenantId: 1, recoveryWindowSeconds: 604800, autoDelete: true });
    const empty = parseDestinations3x([]);
    expect(empty).toMatchObject({ dataDest: null, secondaryDest: null, archive: { pieceSwitchSeconds: 0 } });
    expect(parseRetention3x(empty)).toMatchObject({ recoveryWindowSeconds: null, autoDelete: false });
  });

  it('merges backup_dest_option changes and sees defaults as equal', () => {
    expect(parseOptionString('a=1&b=x=y')).toEqual({ a: '1', b: 'x=y' });
    expect(formatOptionString({ zz: '1', recovery_window: '7d', log_archive_checkpoint_interval: '120s' })).toBe(
      'log_archive_checkpoint_interval=120s&recovery_window=7d&zz=1',
    );
    expect(mergeDestOptions({}, { recovery_window: '0', auto_delete_obsolete_backup: 'false' })).toBeNull();
    expect(mergeDestOptions({ recovery_window: '168h' }, { recovery_window: '7d' })).toBeNull();
    expect(mergeDestOptions({ log_archive_checkpoint_interval: '60s' }, { recovery_window: '7d' })).toEqual({
      log_archive_checkpoint_interval: '60s',
      recovery_window: '7d',
    });
  });
});

describe('3.x archive and jobs', () => {
  it('puts the cluster record first and computes lag from MAX_NEXT_TIME', () => {
    const now = new Date('2024-03-01T10:00:00Z');
    const s = parseArchiveStatus3x(
      [{ id: 1001, name: 'app', type: 'USER', status: null, role: null, logMode: null, compatibilityMode: null }],
      [
        { TENANT_ID: 1, STATUS: 'DOING', LOG_ARCHIVE_ROUND: 2, BACKUP_PIECE_ID: 0, MIN_FIRST_TIME: new Date('2024-03-01T09:00:00Z'), MAX_NEXT_TIME: new Date('2024-03-01T09:58:00Z') },
        { TENANT_ID: 1001, STATUS: 'DOING', MAX_NEXT_TIME: new Date('2024-03-01T09:59:00Z') },
      ],
      now,
    );
    expect(s.map((x) => [x.tenant, x.state, x.lagSeconds])).toEqual([
      [null, 'DOING', 120],
      ['app', 'DOING', 60],
    ]);
    expect(s[0].startedAt?.toISOString()).toBe('2024-03-01T09:00:00.000Z');
    expect(parseArchiveStatus3x([], [], now)[0]).toMatchObject({ state: 'STOP', doing: false, lagSeconds: null });
  });

  it('tracks a backup set from progress rows to its set file', () => {
    const running = parseJobs3x(
      [
        { tenant_id: 1, bs_key: 4, backup_type: 'D', macro_block_count: 10, finish_macro_block_count: 5, status: 'RUNNING', start_time: new Date('2024-03-01T00:00:00Z') },
        { tenant_id: 1001, bs_key: 4, backup_type: 'D', macro_block_count: 30, finish_macro_block_count: 5, status: 'DOING' },
      ],
      [],
    );
    expect(running[0]).toMatchObject({ jobId: 4, backupSetId: 4, type: 'full', state: 'running', progress: 0.25, tenant: null, tenantId: 1 });
    // the set row is written at the start with status DOING: still running
    const both = parseJobs3x(
      [{ tenant_id: 1, bs_key: 4, backup_type: 'D', macro_block_count: 4, finish_macro_block_count: 1, status: 'DOING' }],
      [{ TENANT_ID: 1, BS_KEY: 4, COPY_ID: 0, BACKUP_TYPE: 'D', STATUS: 'DOING', BACKUP_DEST: 'file:///nfs/ob' }],
    );
    expect(both[0]).toMatchObject({ state: 'running', progress: 0.25, endedAt: null, path: 'file:///nfs/ob' });
    expect(parseJobs3x([], [{ TENANT_ID: 1, BS_KEY: 4, COPY_ID: 0, BACKUP_TYPE: 'D', STATUS: 'DOING' }])[0].state).toBe('running');
    const done = parseJobs3x([], [
      { TENANT_ID: 1, BS_KEY: 4, COPY_ID: 0, BACKUP_TYPE: 'I', STATUS: 'SUCCESS', FILE_STATUS: 'AVAILABLE', OUTPUT_BYTES: '2048', START_TIME: new Date(), COMPLETION_TIME: new Date() },
      { TENANT_ID: 1, BS_KEY: 4, COPY_ID: 1, STATUS: 'SUCCESS' },
      { TENANT_ID: 1, BS_KEY: 5, COPY_ID: 0, BACKUP_TYPE: 'D', STATUS: 'FAILED', RESULT: -9082 },
    ]);
    expect(done.map((j) => [j.jobId, j.type, j.state, j.progress, j.outputBytes, j.errorCode])).toEqual([
      [4, 'incremental', 'succeeded', 1, 2048, null],
      [5, 'full', 'failed', null, null, 9082],
    ]);
  });

  it('lists the cluster backup sets with their copies', () => {
    const sets = parseBackupSets3x([
      { TENANT_ID: 1, BS_KEY: 1, COPY_ID: 0, BACKUP_TYPE: 'D', STATUS: 'SUCCESS', FILE_STATUS: 'AVAILABLE', OUTPUT_BYTES: 10, BACKUP_DEST: OSS },
      { TENANT_ID: 1, BS_KEY: 1, COPY_ID: 1, BACKUP_TYPE: 'D', STATUS: 'SUCCESS', FILE_STATUS: 'AVAILABLE' },
      { TENANT_ID: 1001, BS_KEY: 1, COPY_ID: 0, BACKUP_TYPE: 'D', STATUS: 'SUCCESS' },
    ]);
    expect(sets.map((s) => [s.id, s.copyId, s.type, s.status])).toEqual([
      [1, 0, 'full', 'success'],
      [1, 1, 'full', 'success'],
    ]);
    expect(sets[0].path).toBe('oss://bkt/ob?host=oss.example.com');
  });
});

describe('3.x compaction pre-check', () => {
  const us = (iso: string) => String(Date.parse(iso) * 1000);
  const zoneRows = (mergeStatusInInfo: boolean, merged = '5') => [
    { zone: '', name: 'frozen_version', value: '5', info: '' },
    { zone: '', name: 'frozen_time', value: us('2024-03-02T00:00:00Z'), info: '' },
    { zone: '', name: 'global_broadcast_version', value: '5', info: '' },
    { zone: '', name: 'last_merged_version', value: merged, info: '' },
    { zone: '', name: 'is_merge_error', value: '0', info: '' },
    { zone: 'z1', name: 'merge_status', value: mergeStatusInInfo ? '0' : 'IDLE', info: mergeStatusInInfo ? 'IDLE' : '' },
    { zone: 'z1', name: 'last_merged_version', value: merged, info: '' },
    { zone: 'z1', name: 'last_merged_time', value: us('2024-03-02T00:10:00Z'), info: '' },
  ];

  it('reads merge_status from value or info (reference §12 #7)', () => {
    for (const inInfo of [true, false]) {
      const c = parseCompaction3x(zoneRows(inInfo));
      expect(c).toMatchObject({ frozenVersion: '5', lastMergedVersion: '5', idle: true, error: false, status: 'IDLE' });
      expect(c.frozenAt?.toISOString()).toBe('2024-03-02T00:00:00.000Z');
      expect(c.lastFinishedAt?.toISOString()).toBe('2024-03-02T00:10:00.000Z');
    }
    const merging = parseCompaction3x(zoneRows(false, '4').map((r) => (r.name === 'merge_status' ? { ...r, value: 'MERGING' } : r)));
    expect(merging).toMatchObject({ idle: false, status: 'MERGING' });
  });

  it('asks for a compaction newer than the archive start and the last backup', () => {
    const c: CompactionStatus = parseCompaction3x(zoneRows(true));
    const before = new Date('2024-03-01T00:00:00Z');
    const after = new Date('2024-03-03T00:00:00Z');
    expect(compactionNeededReason({ compaction: c, archiveStartedAt: before, lastBackupStartedAt: before })).toBeNull();
    expect(compactionNeededReason({ compaction: c, archiveStartedAt: after, lastBackupStartedAt: null })).toMatch(/older than the log archive start/);
    expect(compactionNeededReason({ compaction: c, archiveStartedAt: before, lastBackupStartedAt: after })).toMatch(/older than the last backup/);
    expect(compactionNeededReason({ compaction: { ...c, idle: false }, archiveStartedAt: null, lastBackupStartedAt: null })).toMatch(/still running/);
    expect(compactionNeededReason({ compaction: { ...c, frozenAt: null }, archiveStartedAt: null, lastBackupStartedAt: null })).toMatch(/no major compaction/);
  });
});

describe('3.x cleanup and secondary backup', () => {
  it('reads clean history (empty ERROR_MSG = success) and the live clean', () => {
    const jobs = parseCleanJobs3x(
      [
        { tenant_id: 1, bs_key: 1, type: 'DELETE OBSOLETE BACKUP', status: 'STOP', error_msg: '' },
        { tenant_id: 1, bs_key: 2, type: 'DELETE BACKUP SET', status: 'STOP', error_msg: 'delete backup set do not allow' },
      ],
      [{ tenant_id: 1, job_id: 3, type: 'DELETE OBSOLETE BACKUP', status: 'DOING' }],
    );
    expect(jobs.map((j) => [j.jobId, j.state, j.errorText])).toEqual([
      [1, 'succeeded', null],
      [2, 'failed', 'delete backup set do not allow'],
      [3, 'running', null],
    ]);
  });

  it('reads backup-backup jobs, live and finished', () => {
    const jobs = parseSecondaryJobs3x(
      'backupset',
      [],
      [{ JOB_ID: 2, TENANT_ID: 1, BACKUP_SET_ID: 0, STATUS: 'DOING', MAX_BACKUP_TIMES: 1, BACKUP_DEST: OSS, RESULT: 0 }],
      [{ JOB_ID: 1, TENANT_ID: 1, BACKUP_SET_ID: 3, STATUS: 'FINISH', MAX_BACKUP_TIMES: 1, RESULT: 0 }],
    );
    expect(jobs.map((j) => [j.jobId, j.state, j.objectId])).toEqual([
      [1, 'succeeded', 3],
      [2, 'running', 0],
    ]);
    expect(jobs[1].dest).toBe('oss://bkt/ob?host=oss.example.com');
  });

  it('builds the 3.x statements', () => {
    const d = new Dialect3x();
    expect(d.startBackup('full')).toBe('ALTER SYSTEM BACKUP DATABASE');
    expect(d.startBackup('incremental')).toBe('ALTER SYSTEM BACKUP INCREMENTAL DATABASE');
    expect(d.startArchive()).toBe('ALTER SYSTEM ARCHIVELOG');
    expect(d.deleteBackupSet(7)).toBe('ALTER SYSTEM DELETE BACKUPSET 7');
    expect(d.startSecondary('backupset', {})).toBe('ALTER SYSTEM BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES');
    expect(d.startSecondary('backuppiece', { notBackedUpTimes: 2, dest: 'file:///s' })).toBe(
      "ALTER SYSTEM BACKUP BACKUPPIECE ALL NOT BACKED UP 2 TIMES BACKUP_BACKUP_DEST = 'file:///s'",
    );
    expect(d.startSecondary('backupset', { objectId: 3, tenant: 'app' })).toBe("ALTER SYSTEM BACKUP BACKUPSET = 3 TENANT_NAME = 'app'");
    expect(d.cancelSecondary('backuppiece')).toBe('ALTER SYSTEM CANCEL BACKUP BACKUPPIECE');
    const current = parseDestinations3x([{ name: 'backup_dest', value: 'file:///nfs/ob' }]);
    // same location, pieces turned on: only the option string is sent
    expect(d.setArchiveDest({ location: 'file:///nfs/ob', pieceSwitchInterval: '1d' }, null, current, false)).toEqual([
      "ALTER SYSTEM SET backup_dest_option = 'log_archive_piece_switch_interval=1d'",
    ]);
    expect(d.setArchiveDest({ location: 'file:///nfs/ob', pieceSwitchInterval: '0' }, null, current, false)).toEqual([]);
    expect(d.setRetention(7 * 86400, null, parseRetention3x(current), current)).toEqual([
      "ALTER SYSTEM SET backup_dest_option = 'recovery_window=7d&auto_delete_obsolete_backup=true'",
    ]);
    expect(d.setSecondaryDestOptions({ auto_delete_obsolete_backup: 'true', recovery_window: '7d' })).toEqual([
      "ALTER SYSTEM SET backup_backup_dest_option = 'recovery_window=7d&auto_delete_obsolete_backup=true'",
    ]);
    expect(() => d.setArchiveDestState()).toThrow(/not available on OceanBase 3.x/);
  });
});
