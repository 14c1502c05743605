// Conformance of obsim's OceanBase 3.x (cluster-level backup) against the reference, driven through mysql2.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';

let sim: ObSim;
let conn: mysql.Connection;
let dir: string;

async function q<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const [rows] = await conn.query(sql);
  return rows as T[];
}

async function err(sql: string): Promise<{ errno: number; sqlState: string; message: string }> {
  try {
    await conn.query(sql);
  } catch (e) {
    return e as { errno: number; sqlState: string; message: string };
  }
  throw new Error(`expected an error from: ${sql}`);
}

async function files(sub: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string, rel: string) => {
    let entries;
    try {
      entries = await readdir(p, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(p, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(join(dir, sub), '');
  return out.sort();
}

const archiveStatus = async () => (await q<{ status: string }>('SELECT status FROM CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1'))[0].status;

async function archiveDoing(option = 'log_archive_checkpoint_interval=120s&recovery_window=0&auto_delete_obsolete_backup=false&log_archive_piece_switch_interval=0') {
  await q(`ALTER SYSTEM SET backup_dest = 'file://${dir}/primary'`);
  await q(`ALTER SYSTEM SET backup_dest_option = '${option}'`);
  await q('ALTER SYSTEM MINOR FREEZE');
  await q('ALTER SYSTEM ARCHIVELOG');
  await sim.advance(6_000);
}

async function mergeAfterArchive() {
  await q('ALTER SYSTEM MAJOR FREEZE');
  await sim.advance(31_000);
}

async function finishBackup() {
  for (let i = 0; i < 100; i++) {
    if ((await q("SELECT bs_key FROM CDB_OB_BACKUP_PROGRESS WHERE status = 'DOING'")).length === 0) return;
    await sim.advance(5_000);
  }
  throw new Error('backup did not finish');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'obsim3-'));
  sim = await startObSim({ obVersion: '3.2.4', password: 'pw3', tenants: ['t1', 't2'], timeScale: 0 });
  conn = await mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys#obcluster', password: 'pw3', database: 'oceanbase', multipleStatements: true });
});

afterEach(async () => {
  await conn.end().catch(() => undefined);
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('§0 identity', () => {
  it('§0 version() is the OceanBase version, ob_version() is absent, tenants come from __all_tenant', async () => {
    const [v] = await q('SELECT version() AS v');
    expect(v.v).toMatch(/^3\.2\.4-OceanBase/);
    expect((await err('SELECT ob_version()')).errno).toBe(1305);
    const [stat] = await q("SELECT max(value) AS v FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name='min_observer_version'");
    expect(stat.v).toBe('3.2.4');
    expect(await q('SELECT tenant_id, tenant_name FROM oceanbase.__all_tenant ORDER BY tenant_id')).toEqual([
      { tenant_id: 1, tenant_name: 'sys' },
      { tenant_id: 1002, tenant_name: 't1' },
      { tenant_id: 1004, tenant_name: 't2' },
    ]);
    expect((await err('SELECT * FROM DBA_OB_TENANTS')).errno).toBe(1146);
  });
});

describe('§1 parameters', () => {
  it('§1 backup_dest and backup_dest_option (all four keys) read back through SHOW PARAMETERS and the parameter table', async () => {
    await q(`ALTER SYSTEM SET backup_dest = 'file://${dir}/primary'`);
    await q("ALTER SYSTEM SET backup_dest_option = 'log_archive_checkpoint_interval=60s&recovery_window=7d&auto_delete_obsolete_backup=true&log_archive_piece_switch_interval=1d'");
    const show = await q("SHOW PARAMETERS LIKE 'backup_dest'");
    expect(show).toHaveLength(1);
    expect(show[0]).toMatchObject({ name: 'backup_dest', value: `file://${dir}/primary`, zone: 'zone1' });
    expect(await q("SELECT value FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name = 'backup_dest_option'")).toEqual([
      { value: 'log_archive_checkpoint_interval=60s&recovery_window=7d&auto_delete_obsolete_backup=true&log_archive_piece_switch_interval=1d' },
    ]);
    expect((await err("ALTER SYSTEM SET backup_dest_option = 'log_archive_piece_switch_interval=12h'")).errno).toBe(4147);
    expect((await err("ALTER SYSTEM SET backup_dest_option = 'no_such_key=1'")).errno).toBe(4147);
    await q(`ALTER SYSTEM SET backup_backup_dest = 'file://${dir}/secondary'`);
    expect(await q("SELECT value FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name = 'backup_backup_dest'")).toEqual([{ value: `file://${dir}/secondary` }]);
  });
});

describe('§2 log archive', () => {
  it('§2 ARCHIVELOG: STOP -> BEGINNING -> DOING, MAX_NEXT_TIME advances so lag can be computed; NOARCHIVELOG -> STOPPING -> STOP', async () => {
    expect(await archiveStatus()).toBe('STOP');
    expect((await err('ALTER SYSTEM ARCHIVELOG')).errno).toBe(9023);
    await q(`ALTER SYSTEM SET backup_dest = 'file://${dir}/primary'`);
    await q('ALTER SYSTEM ARCHIVELOG');
    expect(await archiveStatus()).toBe('BEGINNING');
    await sim.advance(6_000);
    expect(await archiveStatus()).toBe('DOING');
    const rows = await q('SELECT tenant_id, status FROM CDB_OB_BACKUP_ARCHIVELOG ORDER BY tenant_id');
    expect(rows.map((r) => r.tenant_id)).toEqual([1, 1002, 1004]);
    const t0 = (await q<{ t: Date }>('SELECT max_next_time AS t FROM CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1002'))[0].t;
    await sim.advance(600_000);
    const t1 = (await q<{ t: Date }>('SELECT max_next_time AS t FROM CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1002'))[0].t;
    expect(t1.getTime() - t0.getTime()).toBeGreaterThanOrEqual(480_000);
    const [lag] = await q<{ delay: number }>('SELECT timestampdiff(SECOND, max_next_time, now()) AS delay FROM CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1002');
    expect(lag.delay).toBeLessThan(120);
    await q('ALTER SYSTEM NOARCHIVELOG');
    expect(await archiveStatus()).toBe('STOPPING');
    await sim.advance(3_000);
    expect(await archiveStatus()).toBe('STOP');
    expect((await err('ALTER SYSTEM NOARCHIVELOG')).errno).toBe(9024);
    expect((await files('primary')).some((f) => f.includes('/clog/1/'))).toBe(true);
  });

  it('§6 log_archive_piece_switch_interval=1d cuts pieces in CDB_OB_BACKUP_PIECE_FILES', async () => {
    await archiveDoing('log_archive_piece_switch_interval=1d');
    await sim.advance(86_400_000 + 600_000);
    const pieces = await q('SELECT DISTINCT backup_piece_id, status FROM CDB_OB_BACKUP_PIECE_FILES WHERE tenant_id = 1002 AND copy_id = 0 ORDER BY backup_piece_id');
    expect(pieces).toEqual([
      { backup_piece_id: 1, status: 'FROZEN' },
      { backup_piece_id: 2, status: 'ACTIVE' },
    ]);
  });
});

describe('§3 data backup and §4 rules', () => {
  it('§4 9040 when the archive is not DOING, with the status in the text', async () => {
    expect(await err('ALTER SYSTEM BACKUP DATABASE')).toMatchObject({ errno: 9040, sqlState: 'HY000', message: 'backup can not start, because log archive is not doing. log archive status : STOP.' });
  });

  it('§4 need major freeze first when the archive started after the last freeze; __all_zone shows the merge', async () => {
    await archiveDoing();
    const e = await err('ALTER SYSTEM BACKUP DATABASE');
    expect(e.errno).toBe(9040);
    expect(e.message).toMatch(/^backup can not start, because log archive start timestamp is bigger than frozen timestamp, need major freeze first\. start timestamp : \d+, frozen timestamp : \d+ \.$/);
    await q('ALTER SYSTEM MAJOR FREEZE');
    expect(await q("SELECT info FROM __all_zone WHERE name = 'merge_status' AND zone = 'zone1'")).toEqual([{ info: 'MERGING' }]);
    await sim.advance(31_000);
    const zone = await q("SELECT name, value FROM __all_zone WHERE zone = '' AND name IN ('frozen_version', 'last_merged_version') ORDER BY name");
    expect(zone).toEqual([{ name: 'frozen_version', value: 2 }, { name: 'last_merged_version', value: 2 }]);
    expect(await q("SELECT info FROM __all_zone WHERE name = 'merge_status' AND zone = 'zone1'")).toEqual([{ info: 'IDLE' }]);
    await q('ALTER SYSTEM BACKUP DATABASE');
  });

  it('§3 BACKUP DATABASE: progress while DOING, history in SET_DETAILS/SET_FILES (D, COPY_ID 0), files per tenant, pinned to the frozen version', async () => {
    await archiveDoing();
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await sim.advance(5_000);
    const progress = await q('SELECT tenant_id, bs_key, backup_type, status, macro_block_count, finish_macro_block_count FROM CDB_OB_BACKUP_PROGRESS ORDER BY tenant_id');
    expect(progress.map((p) => [p.tenant_id, p.bs_key, p.backup_type, p.status])).toEqual([[1, 1, 'D', 'DOING'], [1002, 1, 'D', 'DOING'], [1004, 1, 'D', 'DOING']]);
    expect(await err('ALTER SYSTEM BACKUP DATABASE')).toMatchObject({ errno: 9036, message: 'Backup is in progress' });
    await finishBackup();
    const sets = await q('SELECT tenant_id, bs_key, copy_id, backup_type, status, file_status, backup_data_version FROM CDB_OB_BACKUP_SET_FILES ORDER BY tenant_id');
    expect(sets).toEqual([
      { tenant_id: 1, bs_key: 1, copy_id: 0, backup_type: 'D', status: 'SUCCESS', file_status: 'AVAILABLE', backup_data_version: 2 },
      { tenant_id: 1002, bs_key: 1, copy_id: 0, backup_type: 'D', status: 'SUCCESS', file_status: 'AVAILABLE', backup_data_version: 2 },
      { tenant_id: 1004, bs_key: 1, copy_id: 0, backup_type: 'D', status: 'SUCCESS', file_status: 'AVAILABLE', backup_data_version: 2 },
    ]);
    expect(await q('SELECT DISTINCT status FROM CDB_OB_BACKUP_SET_DETAILS')).toEqual([{ status: 'COMPLETED' }]);
    const latest = await q("SELECT bs_key FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id=1002 AND backup_type='D' ORDER BY bs_key DESC LIMIT 1");
    expect(latest).toEqual([{ bs_key: 1 }]);
    const written = await files('primary');
    expect(written.filter((f) => /\/1002\/data\/backup_set_1\/data\/macro_block_\d+$/.test(f))).toHaveLength(16);
    expect(written.filter((f) => /\/1004\/data\/backup_set_1\/data\/macro_block_\d+$/.test(f))).toHaveLength(16);
  });

  it('§4 BACKUP INCREMENTAL DATABASE without a full silently runs as D; then as I', async () => {
    await archiveDoing();
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP INCREMENTAL DATABASE');
    await finishBackup();
    await q('ALTER SYSTEM BACKUP INCREMENTAL DATABASE');
    await finishBackup();
    expect(await q('SELECT bs_key, backup_type, prev_full_bs_key FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 ORDER BY bs_key')).toEqual([
      { bs_key: 1, backup_type: 'D', prev_full_bs_key: 0 },
      { bs_key: 2, backup_type: 'I', prev_full_bs_key: 1 },
    ]);
  });

  it('§3 CANCEL BACKUP fails the running set; 9049 when nothing runs', async () => {
    expect(await err('ALTER SYSTEM CANCEL BACKUP')).toMatchObject({ errno: 9049, message: 'backup status is stopped, can not cancel' });
    await archiveDoing();
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await sim.advance(4_000);
    await q('ALTER SYSTEM CANCEL BACKUP');
    expect(await q('SELECT DISTINCT status, file_status FROM CDB_OB_BACKUP_SET_FILES')).toEqual([{ status: 'FAILED', file_status: 'INCOMPLETE' }]);
  });

  it('§7 a backup failing with a given code keeps RESULT in the history', async () => {
    await archiveDoing();
    await mergeAfterArchive();
    sim.faults.failNextBackup('t1', 9082, 3_000);
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    expect(await q('SELECT DISTINCT status, result FROM CDB_OB_BACKUP_SET_FILES')).toEqual([{ status: 'FAILED', result: -9082 }]);
  });

  it('§2 an INTERRUPTED archive (fault) blocks backups until NOARCHIVELOG then ARCHIVELOG', async () => {
    await archiveDoing();
    await sim.faults.interruptArchive('t1');
    expect(await archiveStatus()).toBe('INTERRUPTED');
    expect((await err('ALTER SYSTEM BACKUP DATABASE')).message).toBe('backup can not start, because log archive is not doing. log archive status : INTERRUPTED.');
    await q('ALTER SYSTEM NOARCHIVELOG');
    await sim.advance(3_000);
    await q('ALTER SYSTEM ARCHIVELOG');
    await sim.advance(6_000);
    expect(await archiveStatus()).toBe('DOING');
  });
});

describe('§5 cleanup', () => {
  async function twoFullsDaysApart() {
    await archiveDoing('recovery_window=1d&log_archive_piece_switch_interval=1d');
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await sim.advance(2 * 86_400_000);
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
  }

  it('§5 DELETE OBSOLETE BACKUP removes sets older than the newest full past the recovery window, with their files', async () => {
    await twoFullsDaysApart();
    await q('ALTER SYSTEM DELETE OBSOLETE BACKUP');
    await sim.advance(10_000);
    // set 2 is not yet a window old: nothing is obsolete
    expect(await q('SELECT DISTINCT bs_key, file_status FROM CDB_OB_BACKUP_SET_FILES ORDER BY bs_key')).toEqual([
      { bs_key: 1, file_status: 'AVAILABLE' },
      { bs_key: 2, file_status: 'AVAILABLE' },
    ]);
    await sim.advance(86_400_000);
    expect(await q('SELECT DISTINCT bs_key FROM CDB_OB_BACKUP_SET_OBSOLETE')).toEqual([{ bs_key: 1 }]);
    await q('ALTER SYSTEM DELETE OBSOLETE BACKUP');
    expect(await q("SELECT status FROM __all_virtual_backup_clean_info WHERE tenant_id = 1")).toEqual([{ status: 'PREPARE' }]);
    expect(await err('ALTER SYSTEM DELETE OBSOLETE BACKUP')).toMatchObject({ errno: 9044, message: 'delete backup data is in progress' });
    await sim.advance(10_000);
    expect(await q('SELECT DISTINCT bs_key, file_status FROM CDB_OB_BACKUP_SET_FILES ORDER BY bs_key')).toEqual([
      { bs_key: 1, file_status: 'DELETED' },
      { bs_key: 2, file_status: 'AVAILABLE' },
    ]);
    const history = await q("SELECT type, status, error_msg FROM CDB_OB_BACKUP_CLEAN_HISTORY WHERE tenant_id = 1 AND type = 'DELETE OBSOLETE BACKUP' ORDER BY end_time DESC LIMIT 1");
    expect(history).toEqual([{ type: 'DELETE OBSOLETE BACKUP', status: 'STOP', error_msg: '' }]);
    const left = await files('primary');
    expect(left.some((f) => f.includes('/data/backup_set_1/'))).toBe(false);
    expect(left.some((f) => f.includes('/data/backup_set_2/'))).toBe(true);
  });

  it('§5 DELETE BACKUPSET: oldest first, never the last valid one (9045)', async () => {
    await twoFullsDaysApart();
    expect(await err('ALTER SYSTEM DELETE BACKUPSET 2')).toMatchObject({ errno: 9045, message: 'delete backup set do not allow' });
    expect((await err('ALTER SYSTEM DELETE BACKUPSET 99')).errno).toBe(9046);
    await q('ALTER SYSTEM DELETE BACKUPSET 1');
    await sim.advance(10_000);
    expect(await q('SELECT DISTINCT bs_key, file_status FROM CDB_OB_BACKUP_SET_FILES ORDER BY bs_key')).toEqual([
      { bs_key: 1, file_status: 'DELETED' },
      { bs_key: 2, file_status: 'AVAILABLE' },
    ]);
    expect((await err('ALTER SYSTEM DELETE BACKUPSET 2')).errno).toBe(9045);
  });

  it('§5 auto delete with recovery_window + auto_delete_obsolete_backup runs by itself', async () => {
    await archiveDoing('recovery_window=1d&auto_delete_obsolete_backup=true');
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await sim.advance(2 * 86_400_000);
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await sim.advance(2 * 86_400_000);
    expect(await q('SELECT DISTINCT bs_key, file_status FROM CDB_OB_BACKUP_SET_FILES ORDER BY bs_key')).toEqual([
      { bs_key: 1, file_status: 'DELETED' },
      { bs_key: 2, file_status: 'AVAILABLE' },
    ]);
    expect((await q("SELECT comment FROM CDB_OB_BACKUP_CLEAN_HISTORY WHERE tenant_id = 1")).length).toBeGreaterThan(0);
  });
});

describe('§6 backup of backup', () => {
  it('§6 BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES copies sets (COPY_ID 1) and their files; 9062 when nothing is left', async () => {
    await archiveDoing('log_archive_piece_switch_interval=1d');
    await mergeAfterArchive();
    expect(await err('ALTER SYSTEM BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES')).toMatchObject({ errno: 9050, message: 'no backup data to be backuped up' });
    await q(`ALTER SYSTEM SET backup_backup_dest = 'file://${dir}/secondary'`);
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await q('ALTER SYSTEM BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES');
    expect(await q('SELECT backup_set_id, status FROM CDB_OB_BACKUP_BACKUPSET_JOB')).toEqual([{ backup_set_id: 1, status: 'SCHEDULE' }]);
    await sim.advance(30_000);
    expect(await q('SELECT backup_set_id, status, result FROM CDB_OB_BACKUP_BACKUPSET_JOB_HISTORY')).toEqual([{ backup_set_id: 1, status: 'FINISH', result: 0 }]);
    expect(await q('SELECT DISTINCT bs_key, copy_id, backup_dest FROM CDB_OB_BACKUP_SET_FILES WHERE copy_id > 0')).toEqual([{ bs_key: 1, copy_id: 1, backup_dest: `file://${dir}/secondary` }]);
    const primary = (await files('primary')).filter((f) => f.includes('/data/backup_set_1/'));
    expect(await files('secondary')).toEqual(primary);
    expect(await err('ALTER SYSTEM BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES')).toMatchObject({ errno: 9062, message: 'reach backup backup copy limit' });
  });

  it('§1/§5 backup_backup_dest_option recovery_window + auto_delete_obsolete_backup expires the copies past the window, not the primary', async () => {
    await archiveDoing('log_archive_checkpoint_interval=1h&log_archive_piece_switch_interval=1d');
    await q(`ALTER SYSTEM SET backup_backup_dest = 'file://${dir}/secondary'`);
    await q("ALTER SYSTEM SET backup_backup_dest_option = 'recovery_window=1d&auto_delete_obsolete_backup=true'");
    const copyAll = async (what: 'BACKUPSET' | 'BACKUPPIECE') => {
      await q(`ALTER SYSTEM BACKUP ${what} ALL NOT BACKED UP 1 TIMES`);
      await sim.advance(30_000);
    };
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await copyAll('BACKUPSET');
    await sim.advance(2 * 86_400_000);
    await copyAll('BACKUPPIECE');
    // set 1 is the newest copied full a window old: nothing before it to expire yet
    expect(await q('SELECT DISTINCT bs_key, file_status FROM CDB_OB_BACKUP_SET_FILES WHERE copy_id = 1 ORDER BY bs_key')).toEqual([{ bs_key: 1, file_status: 'AVAILABLE' }]);
    await mergeAfterArchive();
    await q('ALTER SYSTEM BACKUP DATABASE');
    await finishBackup();
    await copyAll('BACKUPSET');
    expect((await files('secondary')).some((f) => f.includes('/data/backup_set_1/'))).toBe(true);

    await sim.advance(2 * 86_400_000);
    expect(await q('SELECT DISTINCT bs_key, copy_id, file_status FROM CDB_OB_BACKUP_SET_FILES ORDER BY bs_key, copy_id')).toEqual([
      { bs_key: 1, copy_id: 0, file_status: 'AVAILABLE' },
      { bs_key: 1, copy_id: 1, file_status: 'DELETED' },
      { bs_key: 2, copy_id: 0, file_status: 'AVAILABLE' },
      { bs_key: 2, copy_id: 1, file_status: 'AVAILABLE' },
    ]);
    expect(await q('SELECT DISTINCT file_status FROM CDB_OB_BACKUP_PIECE_FILES WHERE backup_piece_id = 1 AND copy_id = 1')).toEqual([{ file_status: 'DELETED' }]);
    expect(await q('SELECT DISTINCT file_status FROM CDB_OB_BACKUP_PIECE_FILES WHERE backup_piece_id = 1 AND copy_id = 0')).toEqual([{ file_status: 'AVAILABLE' }]);
    const secondary = await files('secondary');
    expect(secondary.some((f) => f.includes('/data/backup_set_1/'))).toBe(false);
    expect(secondary.some((f) => f.includes('/clog/1/piece_1/'))).toBe(false);
    expect(secondary.some((f) => f.includes('/data/backup_set_2/'))).toBe(true);
    expect((await files('primary')).some((f) => f.includes('/data/backup_set_1/'))).toBe(true);
    const cleans = await q("SELECT DISTINCT copy_id, status, error_msg FROM CDB_OB_BACKUP_CLEAN_HISTORY WHERE tenant_id = 1 AND type = 'DELETE OBSOLETE BACKUP BACKUP'");
    expect(cleans).toEqual([{ copy_id: 1, status: 'STOP', error_msg: '' }]);

    // recovery_window=0 turns it off: later copies stay
    await q("ALTER SYSTEM SET backup_backup_dest_option = 'recovery_window=0&auto_delete_obsolete_backup=false'");
    await sim.advance(4 * 86_400_000);
    expect(await q('SELECT DISTINCT file_status FROM CDB_OB_BACKUP_SET_FILES WHERE bs_key = 2 AND copy_id = 1')).toEqual([{ file_status: 'AVAILABLE' }]);
  });

  it('§6 BACKUP BACKUPPIECE copies frozen pieces to BACKUP_BACKUP_DEST', async () => {
    await archiveDoing('log_archive_piece_switch_interval=1d');
    await sim.advance(86_400_000 + 600_000);
    await q(`ALTER SYSTEM BACKUP BACKUPPIECE ALL NOT BACKED UP 1 TIMES BACKUP_BACKUP_DEST = 'file://${dir}/secondary'`);
    await sim.advance(30_000);
    expect(await q('SELECT backup_piece_id, status FROM CDB_OB_BACKUP_BACKUPPIECE_JOB_HISTORY')).toEqual([{ backup_piece_id: 1, status: 'FINISH' }]);
    expect(await q('SELECT DISTINCT backup_piece_id, copy_id FROM CDB_OB_BACKUP_PIECE_FILES WHERE copy_id > 0')).toEqual([{ backup_piece_id: 1, copy_id: 1 }]);
    expect((await files('secondary')).some((f) => f.includes('/clog/1/piece_1/'))).toBe(true);
  });
});
