import { describe, expect, it } from 'vitest';
import {
  Dialect4x,
  archiveDestValue,
  parseArchiveStatus4x,
  parseBackupSets4x,
  parseCleanJobs4x,
  parseCompaction4x,
  parseDestinations4x,
  parseJobs4x,
  parseRetention4x,
  parseTenants4x,
} from '../../daemon/oceanbase/dialect-4x.js';
import type { DestinationState, RetentionState, TenantInfo } from '../../daemon/oceanbase/types.js';

const T1: TenantInfo = { id: 1002, name: 'app', type: 'USER', status: 'NORMAL', role: 'PRIMARY', logMode: 'ARCHIVELOG', compatibilityMode: 'MYSQL' };
const T2: TenantInfo = { ...T1, id: 1004, name: 'crm', logMode: 'NOARCHIVELOG' };
const scope = [T1, T2];
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

describe('4.x tenants and destinations', () => {
  it('keeps USER tenants only, with their log mode', () => {
    const t = parseTenants4x([
      { TENANT_ID: 1, TENANT_NAME: 'sys', TENANT_TYPE: 'SYS', STATUS: 'NORMAL' },
      { TENANT_ID: 1001, TENANT_NAME: 'META$1002', TENANT_TYPE: 'META', STATUS: 'NORMAL' },
      { TENANT_ID: 1002, TENANT_NAME: 'app', TENANT_TYPE: 'USER', STATUS: 'NORMAL', TENANT_ROLE: 'PRIMARY', LOG_MODE: 'ARCHIVELOG', COMPATIBILITY_MODE: 'MYSQL' },
    ]);
    expect(t).toEqual([T1]);
  });

  it('reads CDB_OB_ARCHIVE_DEST (dest_no 0) and data_backup_dest per tenant', () => {
    const d = parseDestinations4x(
      scope,
      [
        { tenant_id: 1002, dest_no: 0, name: 'path', value: 'file:///nfs/app/archive' },
        { tenant_id: 1002, dest_no: 0, name: 'binding', value: 'Optional' },
        { tenant_id: 1002, dest_no: 0, name: 'piece_switch_interval', value: '1d' },
        { tenant_id: 1002, dest_no: 0, name: 'state', value: 'enable' },
        { tenant_id: 1002, dest_no: 0, name: 'dest_id', value: '1001' },
      ],
      [{ tenant_id: 1002, name: 'data_backup_dest', value: 'file:///nfs/app/data' }],
    );
    expect(d[0]).toEqual({
      tenant: 'app',
      tenantId: 1002,
      dataDest: 'file:///nfs/app/data',
      archive: { location: 'file:///nfs/app/archive', binding: 'OPTIONAL', pieceSwitchSeconds: 86400, state: 'ENABLE' },
      options: {},
      secondaryDest: null,
    });
    expect(d[1]).toMatchObject({ tenant: 'crm', dataDest: null, archive: { location: null, binding: null, pieceSwitchSeconds: null } });
  });
});

describe('4.x archive status', () => {
  it('computes the lag from CHECKPOINT_SCN against the database clock', () => {
    const now = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
    const s = parseArchiveStatus4x(
      scope,
      [
        {
          TENANT_ID: 1002,
          DEST_NO: 0,
          ROUND_ID: 3,
          STATUS: 'DOING',
          START_SCN: ns(now.getTime() - 3_600_000),
          CHECKPOINT_SCN: ns(now.getTime() - 90_000),
          USED_PIECE_ID: 7,
          INPUT_BYTES: '1000',
          OUTPUT_BYTES: '400',
          COMMENT: '',
        },
      ],
      now,
    );
    expect(s[0]).toMatchObject({ tenant: 'app', state: 'DOING', doing: true, roundId: 3, pieceId: 7, lagSeconds: 90, inputBytes: 1000, outputBytes: 400, comment: null });
    expect(s[0].startedAt?.getTime()).toBe(now.getTime() - 3_600_000);
    // a tenant that never archived has no round: STOP
    expect(s[1]).toMatchObject({ tenant: 'crm', state: 'STOP', doing: false, lagSeconds: null });
  });
});

describe('4.x jobs', () => {
  const job = (o: Record<string, unknown>) => ({
    TENANT_ID: 1002,
    JOB_ID: 5,
    INCARNATION: 1,
    BACKUP_SET_ID: 3,
    BACKUP_TYPE: 'FULL',
    JOB_LEVEL: 'USER_TENANT',
    START_TIMESTAMP: new Date('2024-01-01T00:00:00Z'),
    END_TIMESTAMP: null,
    STATUS: 'DOING',
    RESULT: 0,
    COMMENT: '',
    PATH: 'file:///nfs/app/data',
    ...o,
  });

  it('leaves out the tenant-1 parent row and computes progress from the tasks', () => {
    const jobs = parseJobs4x(
      scope,
      [job({}), job({ TENANT_ID: 1, JOB_LEVEL: 'CLUSTER', BACKUP_SET_ID: 0 })],
      [],
      [{ tenant_id: 1002, job_id: 5, backup_set_id: 3, macro_block_count: 200, finish_macro_block_count: 50, input_bytes: 10, output_bytes: 4 }],
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ tenant: 'app', jobId: 5, type: 'full', state: 'running', progress: 0.25, backupSetId: 3, inputBytes: 10, outputBytes: 4 });
  });

  it('reads finished jobs from history with their error code and text', () => {
    const jobs = parseJobs4x(
      scope,
      [],
      [
        job({ JOB_ID: 6, BACKUP_TYPE: 'INC', STATUS: 'FAILED', RESULT: -9070, COMMENT: 'can not connect to backup destination oss://b/p?host=h&access_key=K3Y' }),
        job({ JOB_ID: 7, STATUS: 'CANCELED', RESULT: -4072 }),
        job({ JOB_ID: 8, STATUS: 'COMPLETED', BACKUP_TYPE: 'D' }),
      ],
      [],
    );
    expect(jobs.map((j) => [j.jobId, j.type, j.state, j.errorCode])).toEqual([
      [6, 'incremental', 'failed', 9070],
      [7, 'full', 'canceled', 4072],
      [8, 'full', 'succeeded', null],
    ]);
    expect(jobs[0].errorText).toContain('access_key=***');
    expect(jobs[0].errorText).not.toContain('K3Y');
  });

  it('reads backup sets with both type spellings (reference §12 #1)', () => {
    const sets = parseBackupSets4x(scope, [
      { tenant_id: 1002, backup_set_id: 1, backup_type: 'FULL', status: 'SUCCESS', file_status: 'AVAILABLE', output_bytes: '100', path: 'file:///x', min_restore_scn: ns(1_700_000_000_000) },
      { tenant_id: 1002, backup_set_id: 2, backup_type: 'I', status: 'FAILED', prev_full_backup_set_id: 1, path: 'oss://b/x?host=h&access_id=a&access_key=b' },
    ]);
    expect(sets[0]).toMatchObject({ id: 1, type: 'full', status: 'success', fileStatus: 'AVAILABLE', sizeBytes: 100, copyId: 0 });
    expect(sets[0].minRestoreAt?.getTime()).toBe(1_700_000_000_000);
    expect(sets[1]).toMatchObject({ id: 2, type: 'incremental', status: 'failed', prevFullId: 1, path: 'oss://b/x?host=h' });
  });
});

describe('4.x compaction, retention, clean jobs', () => {
  it('is idle only when the last freeze is merged without error', () => {
    const base = { tenant_id: 1002, frozen_scn: '100', last_scn: '100', status: 'IDLE', is_error: 'NO', frozen_time: new Date('2024-01-01T00:00:00Z') };
    expect(parseCompaction4x(scope, [base])[0]).toMatchObject({ idle: true, error: false, frozenVersion: '100' });
    expect(parseCompaction4x(scope, [{ ...base, last_scn: '90', status: 'COMPACTING' }])[0].idle).toBe(false);
    expect(parseCompaction4x(scope, [{ ...base, is_error: 'YES' }])[0]).toMatchObject({ idle: false, error: true });
  });

  it('reads the default delete policy', () => {
    const r = parseRetention4x(scope, [{ tenant_id: 1002, policy_name: 'default', recovery_window: '7d' }]);
    expect(r).toEqual([
      { tenant: 'app', tenantId: 1002, recoveryWindowSeconds: 604800, autoDelete: true },
      { tenant: 'crm', tenantId: 1004, recoveryWindowSeconds: null, autoDelete: false },
    ]);
  });

  it('merges running and finished delete jobs', () => {
    const jobs = parseCleanJobs4x(
      scope,
      [{ tenant_id: 1002, job_id: 3, type: 'DELETE OBSOLETE BACKUP', status: 'DOING', result: 0 }],
      [
        { tenant_id: 1002, job_id: 2, type: 'DELETE OBSOLETE BACKUP', status: 'COMPLETED', result: 0 },
        { tenant_id: 1004, job_id: 1, type: 'DELETE OBSOLETE BACKUP', status: 'FAILED', result: -9070, comment: 'can not connect' },
      ],
    );
    expect(jobs.map((j) => [j.tenant, j.jobId, j.state, j.errorCode])).toEqual([
      ['app', 2, 'succeeded', null],
      ['app', 3, 'running', null],
      ['crm', 1, 'failed', 9070],
    ]);
  });
});

describe('4.x statements', () => {
  const d = new Dialect4x();
  const dest = (o: Partial<DestinationState['archive']> = {}): DestinationState => ({
    tenant: 'app',
    tenantId: 1002,
    dataDest: null,
    archive: { location: null, binding: null, pieceSwitchSeconds: null, state: null, ...o },
    options: {},
    secondaryDest: null,
  });

  it('always sends LOCATION, BINDING and PIECE_SWITCH_INTERVAL together', () => {
    expect(archiveDestValue('file:///a', 'OPTIONAL', '1d')).toBe('LOCATION=file:///a BINDING=OPTIONAL PIECE_SWITCH_INTERVAL=1d');
    expect(d.setArchiveDest({ location: 'file:///a' }, 'app', dest(), false)).toEqual([
      "ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=file:///a BINDING=OPTIONAL PIECE_SWITCH_INTERVAL=1d' TENANT = app",
    ]);
    // a changed attribute resends everything, keeping what was there
    expect(d.setArchiveDest({ location: 'file:///a', pieceSwitchInterval: '2d' }, 'app', dest({ location: 'file:///a', binding: 'MANDATORY', pieceSwitchSeconds: 86400 }), false)).toEqual([
      "ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=file:///a BINDING=MANDATORY PIECE_SWITCH_INTERVAL=2d' TENANT = app",
    ]);
  });

  it('sends nothing when the archive destination already matches', () => {
    const current = dest({ location: 'oss://b/p?host=h', binding: 'OPTIONAL', pieceSwitchSeconds: 86400, state: 'ENABLE' });
    expect(d.setArchiveDest({ location: 'oss://b/p?host=h&access_id=i&access_key=k', pieceSwitchInterval: '1d' }, 'app', current, false)).toEqual([]);
    expect(d.setArchiveDest({ location: 'oss://b/p?host=h&access_id=i&access_key=k', pieceSwitchInterval: '1d' }, 'app', current, true)).toHaveLength(1);
  });

  it('builds backup, archive, cancel and freeze statements per tenant', () => {
    expect(d.startBackup('full', ['app', 'crm'])).toBe('ALTER SYSTEM BACKUP TENANT = app, crm');
    expect(d.startBackup('incremental', ['app'], "nightly 'inc'")).toBe("ALTER SYSTEM BACKUP INCREMENTAL TENANT = app DESCRIPTION 'nightly \\'inc\\''");
    expect(d.startBackup('full', null)).toBe('ALTER SYSTEM BACKUP DATABASE');
    expect(d.startArchive(['app'])).toBe('ALTER SYSTEM ARCHIVELOG TENANT = app');
    expect(d.stopArchive(['app'])).toBe('ALTER SYSTEM NOARCHIVELOG TENANT = app');
    expect(d.cancelBackup(['app'])).toBe('ALTER SYSTEM CANCEL BACKUP TENANT = app');
    expect(d.majorFreeze(null)).toBe('ALTER SYSTEM MAJOR FREEZE TENANT = all_user');
    expect(d.setDataDest('file:///d', 'app')).toEqual(["ALTER SYSTEM SET DATA_BACKUP_DEST = 'file:///d' TENANT = app"]);
    expect(d.encryption("p'w")).toBe("SET ENCRYPTION ON IDENTIFIED BY 'p\\'w' ONLY");
    expect(() => d.startArchive(null)).toThrow(/tenant name is required/);
    expect(() => d.deleteObsoleteBackup()).toThrow(/not available on OceanBase 4.x/);
  });

  it('adds, replaces or drops the default delete policy only when it differs', () => {
    const none: RetentionState = { tenant: 'app', tenantId: 1002, recoveryWindowSeconds: null, autoDelete: false };
    const week: RetentionState = { ...none, recoveryWindowSeconds: 604800, autoDelete: true };
    const add = "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '7d' TENANT = app";
    const drop = "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = app";
    expect(d.setRetention(604800, 'app', none)).toEqual([add]);
    expect(d.setRetention(604800, 'app', week)).toEqual([]);
    expect(d.setRetention(86400 * 3, 'app', week)).toEqual([drop, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '3d' TENANT = app"]);
    expect(d.setRetention(null, 'app', week)).toEqual([drop]);
    expect(d.setRetention(null, 'app', none)).toEqual([]);
  });
});
