// Conformance of obsim's OceanBase 4.x against the reference (../shared/reference/oceanbase-backup-sql.md),
// driven through mysql2 exactly as a DBA would from obclient. Time is advanced by hand (time scale 0).
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';

let sim: ObSim;
let conn: mysql.Connection;
let dir: string;
const warnings: string[] = [];
const origError = console.error;

async function q<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const [rows] = await conn.query(sql);
  return rows as T[];
}

async function err(sql: string): Promise<{ errno: number; sqlState: string; message: string }> {
  try {
    await conn.query(sql);
  } catch (e) {
    const x = e as { errno: number; sqlState: string; message: string };
    return { errno: x.errno, sqlState: x.sqlState, message: x.message };
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

const dest = (kind: string, tenant: string) => `file://${dir}/${kind}/${tenant}`;

async function configure(tenant: string) {
  await q(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', tenant)} BINDING=Optional PIECE_SWITCH_INTERVAL=1d' TENANT = ${tenant}`);
  await q(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', tenant)}' TENANT = ${tenant}`);
}

async function archiveDoing(tenant: string) {
  await configure(tenant);
  await q(`ALTER SYSTEM ARCHIVELOG TENANT = ${tenant}`);
  await sim.advance(10_000);
}

/** runs simulated time until the tenant has no running backup job */
async function finishJobs() {
  for (let i = 0; i < 100; i++) {
    const running = await q('SELECT job_id FROM oceanbase.CDB_OB_BACKUP_JOBS');
    if (running.length === 0) return;
    await sim.advance(5_000);
  }
  throw new Error('backup jobs did not finish');
}

beforeAll(() => {
  // mysql2 reports protocol sequence problems with console.error; the suite asserts there are none
  console.error = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    origError(...args);
  };
});

afterAll(() => {
  console.error = origError;
  expect(warnings.filter((w) => /packets out of order/i.test(w))).toEqual([]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'obsim4-'));
  sim = await startObSim({ obVersion: '4.2.1', password: 'secret', tenants: ['t1', 't2'], timeScale: 0 });
  conn = await mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys', password: 'secret', database: 'oceanbase', multipleStatements: true });
});

afterEach(async () => {
  await conn.end().catch(() => undefined);
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('§0 connection and identity', () => {
  it('§0 authenticates root@sys and the OBProxy form root@sys#cluster; 1045 on a wrong password', async () => {
    const proxied = await mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys#obcluster', password: 'secret' });
    const [rows] = await proxied.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await proxied.end();
    await expect(mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys', password: 'wrong' })).rejects.toMatchObject({
      errno: 1045,
      message: "Access denied for user 'root@sys'@'127.0.0.1' (using password: YES)",
    });
    await expect(mysql.createConnection({ host: sim.host, port: sim.port, user: 'admin@sys', password: 'secret' })).rejects.toMatchObject({ errno: 1045 });
  });

  it('§0 version(), ob_version(), version_comment and min_observer_version identify 4.2.1', async () => {
    const [v] = await q('SELECT version() AS v, ob_version() AS ob, @@version_comment AS c');
    expect(v.v).toMatch(/^5\.7\.25-OceanBase.*-v4\.2\.1\.0$/);
    expect(v.ob).toBe('4.2.1.0');
    expect(String(v.c).split(' ')[1]).toBe('4.2.1.0');
    const show = await q("SHOW VARIABLES LIKE 'version_comment'");
    expect(show).toEqual([{ Variable_name: 'version_comment', Value: v.c }]);
    const [stat] = await q("SELECT max(value) AS v FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name='min_observer_version'");
    expect(stat.v).toBe('4.2.1.0');
    const [gv] = await q("SELECT MIN(VALUE) AS v FROM GV$OB_PARAMETERS WHERE NAME='min_observer_version'");
    expect(gv.v).toBe('4.2.1.0');
  });

  it('§0 DBA_OB_TENANTS lists SYS, META and USER tenants with log_mode', async () => {
    const all = await q('SELECT tenant_id, tenant_name, tenant_type, status, log_mode FROM oceanbase.DBA_OB_TENANTS ORDER BY tenant_id');
    expect(all.map((t) => [t.tenant_id, t.tenant_type])).toEqual([[1, 'SYS'], [1001, 'META'], [1002, 'USER'], [1003, 'META'], [1004, 'USER']]);
    const users = await q("SELECT tenant_id, tenant_name, tenant_type, status, tenant_role, log_mode, compatibility_mode FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
    expect(users).toEqual([
      { tenant_id: 1002, tenant_name: 't1', tenant_type: 'USER', status: 'NORMAL', tenant_role: 'PRIMARY', log_mode: 'NOARCHIVELOG', compatibility_mode: 'MYSQL' },
      { tenant_id: 1004, tenant_name: 't2', tenant_type: 'USER', status: 'NORMAL', tenant_role: 'PRIMARY', log_mode: 'NOARCHIVELOG', compatibility_mode: 'MYSQL' },
    ]);
  });

  it('§10 session variables and SET ENCRYPTION are accepted; unknown ones are refused', async () => {
    await q('SET SESSION ob_query_timeout = 1000000000');
    expect(await q('SELECT @@ob_query_timeout AS t')).toEqual([{ t: 1000000000 }]);
    await q("SET ENCRYPTION ON IDENTIFIED BY 'pwd' ONLY");
    expect((await err('SET no_such_variable = 1')).errno).toBe(1193);
  });

  it('unknown SQL gets 1064 with SQL state 42000; unknown tables 1146; OB codes carry HY000', async () => {
    expect(await err('FROB THE CLUSTER')).toMatchObject({ errno: 1064, sqlState: '42000' });
    expect((await err('FROB THE CLUSTER')).message).toMatch(/^You have an error in your SQL syntax; .* near 'FROB THE CLUSTER' at line 1$/);
    expect(await err('SELECT * FROM CDB_NO_SUCH_VIEW')).toMatchObject({ errno: 1146, sqlState: '42S02' });
    expect(await err('ALTER SYSTEM NOARCHIVELOG TENANT = t1')).toMatchObject({ errno: 9092, sqlState: 'HY000' });
  });

  it('ad-hoc SELECT with WHERE, ORDER BY, LIMIT, aggregates and case-insensitive strings', async () => {
    const rows = await q("SELECT tenant_name FROM DBA_OB_TENANTS WHERE tenant_type = 'user' AND tenant_id IN (1002, 1004) ORDER BY tenant_id DESC LIMIT 1");
    expect(rows).toEqual([{ tenant_name: 't2' }]);
    expect(await q("SELECT count(*) AS n FROM DBA_OB_TENANTS WHERE tenant_name LIKE 'META%'")).toEqual([{ n: 2 }]);
    expect(await q('SELECT tenant_type, count(*) AS n FROM DBA_OB_TENANTS GROUP BY tenant_type ORDER BY tenant_type')).toEqual([
      { tenant_type: 'META', n: 2 }, { tenant_type: 'SYS', n: 1 }, { tenant_type: 'USER', n: 2 },
    ]);
  });
});

describe('§1 destinations', () => {
  it('§1 LOG_ARCHIVE_DEST and DATA_BACKUP_DEST show in CDB_OB_ARCHIVE_DEST / CDB_OB_BACKUP_PARAMETER and write format files', async () => {
    await configure('t1');
    const destRows = await q('SELECT name, value FROM CDB_OB_ARCHIVE_DEST WHERE tenant_id = 1002 ORDER BY name');
    expect(Object.fromEntries(destRows.map((r) => [r.name, r.value]))).toMatchObject({ path: dest('archive', 't1'), binding: 'OPTIONAL', piece_switch_interval: '1d', state: 'ENABLE' });
    expect(await q("SELECT tenant_id, value FROM CDB_OB_BACKUP_PARAMETER WHERE name = 'data_backup_dest'")).toEqual([{ tenant_id: 1002, value: dest('data', 't1') }]);
    expect(await files('data/t1')).toEqual(['format.obbak']);
    expect(await files('archive/t1')).toEqual(['format.obarc']);
  });

  it('§1 9080 for a non-empty directory without a format file, 9081 for another tenant\'s directory', async () => {
    await mkdir(join(dir, 'data', 'junk'), { recursive: true });
    await writeFile(join(dir, 'data', 'junk', 'something'), 'x');
    expect(await err(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 'junk')}' TENANT = t1`)).toMatchObject({ errno: 9080, message: 'the format file does not exist under the destination' });
    await q(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 't1')}' TENANT = t1`);
    expect(await err(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 't1')}' TENANT = t2`)).toMatchObject({ errno: 9081, message: 'the content of the format file at the destination does not match' });
    // the same tenant may set its own destination again
    await q(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 't1')}' TENANT = t1`);
  });

  it('§1 credentials in an oss:// URI are not shown back', async () => {
    // the endpoint is unreachable: the database answers 9070 and nothing is stored
    const e = await err("ALTER SYSTEM SET DATA_BACKUP_DEST = 'oss://bucket/dir?host=127.0.0.1:1&access_id=AK&access_key=SECRETKEY' TENANT = t1");
    expect(e.errno).toBe(9070);
    expect(e.message).not.toContain('SECRETKEY');
  });
});

describe('§2 log archive', () => {
  it('§2 ARCHIVELOG goes PREPARE -> BEGINNING -> DOING with CHECKPOINT_SCN advancing in ns', async () => {
    await configure('t1');
    await q('ALTER SYSTEM ARCHIVELOG TENANT = t1');
    expect(await q("SELECT log_mode FROM DBA_OB_TENANTS WHERE tenant_name = 't1'")).toEqual([{ log_mode: 'ARCHIVELOG' }]);
    const status = async () => (await q<{ STATUS: string }>('SELECT STATUS FROM CDB_OB_ARCHIVELOG WHERE TENANT_ID = 1002'))[0]?.STATUS;
    expect(await status()).toBe('PREPARE');
    await sim.advance(2_000);
    expect(await status()).toBe('BEGINNING');
    await sim.advance(5_000);
    expect(await status()).toBe('DOING');
    const scn = async () => BigInt((await q<{ s: string }>('SELECT CAST(checkpoint_scn AS CHAR) AS s FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002'))[0].s);
    const first = await scn();
    await sim.advance(300_000);
    const second = await scn();
    expect(second - first).toBeGreaterThanOrEqual(240_000_000_000n);
    // the lag query of the user manual works and stays below archive_lag_target
    const [lag] = await q<{ delay: number }>('SELECT (time_to_usec(now(6)) - checkpoint_scn/1000)/1000000 AS delay FROM cdb_ob_archivelog_summary WHERE tenant_id = 1002 ORDER BY round_id DESC LIMIT 1');
    expect(lag.delay).toBeGreaterThanOrEqual(0);
    expect(lag.delay).toBeLessThan(120);
    expect((await files('archive/t1')).some((f) => /^piece_d\d+r1p1\/logstream_1001\/log\/\d+\.obarc$/.test(f))).toBe(true);
  });

  it('§2 9091 / 9092 for redundant ARCHIVELOG / NOARCHIVELOG; NOARCHIVELOG goes STOPPING -> STOP', async () => {
    await archiveDoing('t1');
    expect(await err('ALTER SYSTEM ARCHIVELOG TENANT = t1')).toMatchObject({ errno: 9091, message: 'Already in ARCHIVELOG mode' });
    await q('ALTER SYSTEM NOARCHIVELOG TENANT = t1');
    expect(await q('SELECT status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002')).toEqual([{ status: 'STOPPING' }]);
    await sim.advance(3_000);
    expect(await q('SELECT status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002')).toEqual([{ status: 'STOP' }]);
    expect(await err('ALTER SYSTEM NOARCHIVELOG TENANT = t1')).toMatchObject({ errno: 9092, message: 'Already in NOARCHIVELOG mode' });
    // a new ARCHIVELOG opens round 2
    await q('ALTER SYSTEM ARCHIVELOG TENANT = t1');
    await sim.advance(10_000);
    expect(await q('SELECT round_id, status FROM CDB_OB_ARCHIVELOG_SUMMARY WHERE tenant_id = 1002 ORDER BY round_id')).toEqual([
      { round_id: 1, status: 'STOP' },
      { round_id: 2, status: 'DOING' },
    ]);
  });

  it('§2 archiving waits for a destination: ARCHIVELOG without one starts when it is set', async () => {
    await q('ALTER SYSTEM ARCHIVELOG TENANT = t2');
    expect(await q('SELECT * FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1004')).toEqual([]);
    await q(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', 't2')}' TENANT = t2`);
    await sim.advance(10_000);
    expect(await q('SELECT status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1004')).toEqual([{ status: 'DOING' }]);
  });

  it('§2 DEFER suspends (SUSPENDING -> SUSPEND), ENABLE resumes DOING', async () => {
    await archiveDoing('t1');
    await q("ALTER SYSTEM SET LOG_ARCHIVE_DEST_STATE = 'DEFER' TENANT = t1");
    await sim.advance(3_000);
    expect(await q('SELECT status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002')).toEqual([{ status: 'SUSPEND' }]);
    expect(await q("SELECT value FROM CDB_OB_ARCHIVE_DEST WHERE tenant_id = 1002 AND name = 'state'")).toEqual([{ value: 'DEFER' }]);
    await q("ALTER SYSTEM SET LOG_ARCHIVE_DEST_STATE = 'ENABLE' TENANT = t1");
    expect(await q('SELECT status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002')).toEqual([{ status: 'DOING' }]);
  });

  it('§2 INTERRUPTED (fault) stops the checkpoint; fixed by NOARCHIVELOG then ARCHIVELOG', async () => {
    await archiveDoing('t1');
    await sim.faults.interruptArchive('t1');
    const before = await q('SELECT status, checkpoint_scn FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002');
    await sim.advance(600_000);
    const after = await q('SELECT status, checkpoint_scn FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002');
    expect(after).toEqual(before);
    expect(after[0].status).toBe('INTERRUPTED');
    await q('ALTER SYSTEM NOARCHIVELOG TENANT = t1');
    await sim.advance(3_000);
    await q('ALTER SYSTEM ARCHIVELOG TENANT = t1');
    await sim.advance(10_000);
    expect(await q('SELECT round_id, status FROM CDB_OB_ARCHIVELOG WHERE tenant_id = 1002')).toEqual([{ round_id: 2, status: 'DOING' }]);
  });

  it('§2 pieces switch at PIECE_SWITCH_INTERVAL and show in CDB_OB_ARCHIVELOG_PIECE_FILES', async () => {
    await archiveDoing('t1');
    await sim.advance(86_400_000 + 300_000);
    const pieces = await q('SELECT piece_id, status, file_status FROM CDB_OB_ARCHIVELOG_PIECE_FILES WHERE tenant_id = 1002 ORDER BY piece_id');
    expect(pieces).toEqual([
      { piece_id: 1, status: 'FROZEN', file_status: 'AVAILABLE' },
      { piece_id: 2, status: 'ACTIVE', file_status: 'AVAILABLE' },
    ]);
    expect(await files('archive/t1')).toContain('piece_d1001r1p1/single_piece_info.obarc');
  });
});

describe('§3 data backup', () => {
  it('§3 BACKUP TENANT runs INIT -> DOING -> COMPLETED, with a tenant-1 parent row, tasks, set files and real files', async () => {
    await archiveDoing('t1');
    await q("ALTER SYSTEM BACKUP TENANT = t1 DESCRIPTION 'nightly'");
    const jobs = await q('SELECT tenant_id, job_id, backup_set_id, backup_type, job_level, status, initiator_tenant_id, executor_tenant_id, description FROM CDB_OB_BACKUP_JOBS ORDER BY tenant_id');
    expect(jobs).toEqual([
      { tenant_id: 1, job_id: 1, backup_set_id: 0, backup_type: 'FULL', job_level: 'CLUSTER', status: 'INIT', initiator_tenant_id: 1, executor_tenant_id: '1002', description: 'nightly' },
      { tenant_id: 1002, job_id: 1, backup_set_id: 1, backup_type: 'FULL', job_level: 'USER_TENANT', status: 'INIT', initiator_tenant_id: 1, executor_tenant_id: '1002', description: 'nightly' },
    ]);
    await sim.advance(3_000);
    expect(await q('SELECT status FROM CDB_OB_BACKUP_JOBS WHERE tenant_id != 1')).toEqual([{ status: 'DOING' }]);
    const [task] = await q('SELECT status, macro_block_count, finish_macro_block_count FROM CDB_OB_BACKUP_TASKS WHERE tenant_id = 1002');
    expect(task.macro_block_count).toBeGreaterThan(0);
    await sim.advance(6_000);
    const [mid] = await q('SELECT status, finish_macro_block_count FROM CDB_OB_BACKUP_TASKS WHERE tenant_id = 1002');
    expect(String(mid.status)).toMatch(/^BACKUP_DATA_/);
    expect(mid.finish_macro_block_count).toBeGreaterThan(0);
    await finishJobs();
    const history = await q('SELECT tenant_id, status, result, backup_type, end_timestamp FROM CDB_OB_BACKUP_JOB_HISTORY ORDER BY tenant_id');
    expect(history.map((h) => [h.tenant_id, h.status, h.result, h.backup_type])).toEqual([[1, 'COMPLETED', 0, 'FULL'], [1002, 'COMPLETED', 0, 'FULL']]);
    expect(history[1].end_timestamp).toBeInstanceOf(Date);
    expect(await q('SELECT status FROM CDB_OB_BACKUP_TASK_HISTORY WHERE tenant_id = 1002')).toEqual([{ status: 'COMPLETED' }]);
    const [set] = await q('SELECT backup_set_id, backup_type, status, file_status, output_bytes, path FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002');
    expect(set).toMatchObject({ backup_set_id: 1, backup_type: 'FULL', status: 'SUCCESS', file_status: 'AVAILABLE', output_bytes: 4 * 1024 * 1024, path: dest('data', 't1') });
    const written = await files('data/t1');
    expect(written).toContain('backup_sets/backup_set_1_full_start.obbak');
    expect(written.some((f) => /^backup_sets\/backup_set_1_full_end_success_\d{8}T\d{6}\.obbak$/.test(f))).toBe(true);
    expect(written.filter((f) => f.includes('macro_block_data')).length).toBe(16);
  });

  it('§3 a backup of N bytes takes N / backupBytesPerSecond of simulated time', async () => {
    await archiveDoing('t1');
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await finishJobs();
    const [set] = await q<{ elapsed: number }>('SELECT timestampdiff(SECOND, start_timestamp, end_timestamp) AS elapsed FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002');
    // 4 MiB at 512 KiB/s = 8 s of data plus a few seconds of metadata phases
    expect(set.elapsed).toBeGreaterThanOrEqual(8);
    expect(set.elapsed).toBeLessThan(20);
  });

  it('§4 an incremental with no prior full at that path silently runs as FULL; the next one is INC', async () => {
    await archiveDoing('t1');
    await q('ALTER SYSTEM BACKUP INCREMENTAL TENANT = t1');
    expect(await q('SELECT backup_type FROM CDB_OB_BACKUP_JOBS WHERE tenant_id = 1002')).toEqual([{ backup_type: 'FULL' }]);
    await finishJobs();
    await q('ALTER SYSTEM BACKUP INCREMENTAL TENANT = t1');
    await finishJobs();
    const sets = await q('SELECT backup_set_id, backup_type, prev_full_backup_set_id FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002 ORDER BY backup_set_id');
    expect(sets).toEqual([
      { backup_set_id: 1, backup_type: 'FULL', prev_full_backup_set_id: 0 },
      { backup_set_id: 2, backup_type: 'INC', prev_full_backup_set_id: 1 },
    ]);
    expect((await files('data/t1')).some((f) => f.startsWith('backup_set_2_inc/'))).toBe(true);
  });

  it('§4 9036 when a backup is in progress', async () => {
    await archiveDoing('t1');
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    expect(await err('ALTER SYSTEM BACKUP TENANT = t1')).toMatchObject({ errno: 9036, sqlState: 'HY000', message: 'Backup is in progress' });
  });

  it('§4 9040 texts: archive not doing, dest not set, tenant not normal, cluster upgrading, no tenant qualifies', async () => {
    expect(await err('ALTER SYSTEM BACKUP TENANT = t1')).toMatchObject({ errno: 9040, message: 'backup can not start, because log archive status is not doing.' });
    await q(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', 't1')}' TENANT = t1`);
    await q('ALTER SYSTEM ARCHIVELOG TENANT = t1');
    await sim.advance(10_000);
    expect(await err('ALTER SYSTEM BACKUP TENANT = t1')).toMatchObject({ errno: 9040, message: 'backup can not start, because backup dest is not set.' });
    expect(await err('ALTER SYSTEM BACKUP DATABASE')).toMatchObject({
      errno: 9040,
      message: 'backup can not start, because no tenant meets the backup condition, please check the tenant status, log archive status, backup data dest, and backup status for each tenant',
    });
    sim.faults.setTenantStatus('t1', 'RESTORE');
    expect(await err('ALTER SYSTEM BACKUP TENANT = t1')).toMatchObject({ errno: 9040, message: 'backup can not start, because tenant status is not normal.' });
    sim.faults.setTenantStatus('t1', 'NORMAL');
    sim.faults.setUpgrading(true);
    expect(await err('ALTER SYSTEM BACKUP TENANT = t1')).toMatchObject({ errno: 9040, message: 'backup can not start, because cluster upgrading' });
  });

  it('§3 BACKUP DATABASE from sys backs up every eligible user tenant and skips the others', async () => {
    await archiveDoing('t1');
    await archiveDoing('t2');
    await q('ALTER SYSTEM NOARCHIVELOG TENANT = t2');
    await sim.advance(3_000);
    await q('ALTER SYSTEM BACKUP DATABASE');
    expect(await q('SELECT tenant_id FROM CDB_OB_BACKUP_JOBS ORDER BY tenant_id')).toEqual([{ tenant_id: 1 }, { tenant_id: 1002 }]);
  });

  it('§3 CANCEL BACKUP: CANCELING -> CANCELED, the set stays incomplete', async () => {
    await archiveDoing('t1');
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await sim.advance(4_000);
    await q('ALTER SYSTEM CANCEL BACKUP TENANT = t1');
    expect(await q('SELECT status FROM CDB_OB_BACKUP_JOBS WHERE tenant_id = 1002')).toEqual([{ status: 'CANCELING' }]);
    await sim.advance(2_000);
    expect(await q('SELECT tenant_id, status FROM CDB_OB_BACKUP_JOB_HISTORY ORDER BY tenant_id')).toEqual([{ tenant_id: 1, status: 'CANCELED' }, { tenant_id: 1002, status: 'CANCELED' }]);
    expect(await q('SELECT status, file_status FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002')).toEqual([{ status: 'FAILED', file_status: 'INCOMPLETE' }]);
  });

  it('§3 SET ENCRYPTION in the same multi-statement marks the job PASSWORD', async () => {
    await archiveDoing('t1');
    await q("SET ENCRYPTION ON IDENTIFIED BY 'pwd' ONLY; ALTER SYSTEM BACKUP TENANT = t1");
    const [job] = await q('SELECT encryption_mode, passwd FROM CDB_OB_BACKUP_JOBS WHERE tenant_id = 1002');
    expect(job.encryption_mode).toBe('PASSWORD');
    expect(job.passwd).not.toBe('pwd');
  });

  it('§7 a job FAILED with a given code shows RESULT and COMMENT in the history', async () => {
    await archiveDoing('t1');
    sim.faults.failNextBackup('t1', 9070, 4_000);
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await finishJobs();
    expect(await q('SELECT tenant_id, status, result, comment FROM CDB_OB_BACKUP_JOB_HISTORY ORDER BY tenant_id')).toEqual([
      { tenant_id: 1, status: 'FAILED', result: -9070, comment: 'can not connect to backup destination' },
      { tenant_id: 1002, status: 'FAILED', result: -9070, comment: 'can not connect to backup destination' },
    ]);
    // failing a running job now
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await sim.advance(3_000);
    expect(await sim.faults.failRunningBackups(9082, 't1')).toBe(1);
    expect(await q('SELECT result, comment FROM CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id = 1002 AND job_id = 2')).toEqual([{ result: -9082, comment: 'backup device out of space' }]);
  });

  it('§3 DATA_BACKUP_DEST cannot change while a job runs (9036)', async () => {
    await archiveDoing('t1');
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    expect((await err(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 'other')}' TENANT = t1`)).errno).toBe(9036);
  });
});

describe('§4 compaction and §5 cleanup', () => {
  it('§4 MAJOR FREEZE TENANT = t shows COMPACTING then IDLE in CDB_OB_MAJOR_COMPACTION', async () => {
    await q('ALTER SYSTEM MAJOR FREEZE TENANT = t1');
    const [c] = await q('SELECT status, is_error, frozen_scn, last_scn FROM CDB_OB_MAJOR_COMPACTION WHERE tenant_id = 1002');
    expect(c.status).toBe('COMPACTING');
    expect(c.is_error).toBe('NO');
    await sim.advance(31_000);
    const [done] = await q('SELECT status, CAST(frozen_scn AS CHAR) AS f, CAST(last_scn AS CHAR) AS l FROM CDB_OB_MAJOR_COMPACTION WHERE tenant_id = 1002');
    expect(done.status).toBe('IDLE');
    expect(done.l).toBe(done.f);
  });

  it('§5 ADD/DROP DELETE BACKUP POLICY shows in CDB_OB_BACKUP_DELETE_POLICY; only one per tenant', async () => {
    await q("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '7d' TENANT = t1");
    expect(await q('SELECT tenant_id, policy_name, recovery_window FROM CDB_OB_BACKUP_DELETE_POLICY')).toEqual([{ tenant_id: 1002, policy_name: 'default', recovery_window: '7d' }]);
    expect((await err("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '7d' TENANT = t1")).errno).toBe(4017);
    await q("ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = t1");
    expect(await q('SELECT * FROM CDB_OB_BACKUP_DELETE_POLICY')).toEqual([]);
  });

  it('§5 the hourly delete job removes sets older than the recovery window and their files', async () => {
    await archiveDoing('t1');
    await q("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '1d' TENANT = t1");
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await finishJobs();
    await sim.advance(2 * 86_400_000);
    await q('ALTER SYSTEM BACKUP TENANT = t1');
    await finishJobs();
    await sim.advance(3_600_000 + 60_000);
    const hist = await q("SELECT type, status FROM CDB_OB_BACKUP_DELETE_JOB_HISTORY WHERE tenant_id = 1002 AND status = 'COMPLETED'");
    expect(hist.length).toBeGreaterThan(0);
    expect(hist[0].type).toBe('DELETE OBSOLETE BACKUP');
    // set 1 is kept: set 2 is the newest full but is not yet a window old
    expect(await q('SELECT backup_set_id, file_status FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002 ORDER BY backup_set_id')).toEqual([
      { backup_set_id: 1, file_status: 'AVAILABLE' },
      { backup_set_id: 2, file_status: 'AVAILABLE' },
    ]);
    await sim.advance(86_400_000 + 3_600_000);
    expect(await q('SELECT backup_set_id, file_status FROM CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1002 ORDER BY backup_set_id')).toEqual([
      { backup_set_id: 1, file_status: 'DELETED' },
      { backup_set_id: 2, file_status: 'AVAILABLE' },
    ]);
    const left = await files('data/t1');
    expect(left.some((f) => f.startsWith('backup_set_1_full/'))).toBe(false);
    expect(left.some((f) => f.startsWith('backup_set_2_full/'))).toBe(true);
    // archive pieces older than the kept full's replay start are gone too
    expect(await q("SELECT piece_id FROM CDB_OB_ARCHIVELOG_PIECE_FILES WHERE tenant_id = 1002 AND file_status = 'DELETED' AND piece_id = 1")).toEqual([{ piece_id: 1 }]);
  });

  it('§5 CANCEL DELETE BACKUP cancels a running delete job', async () => {
    await archiveDoing('t1');
    await q("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '1d' TENANT = t1");
    await sim.advance(3_600_000);
    expect(await q('SELECT status FROM CDB_OB_BACKUP_DELETE_JOBS WHERE tenant_id = 1002')).toEqual([{ status: 'INIT' }]);
    await q('ALTER SYSTEM CANCEL DELETE BACKUP TENANT = t1');
    await sim.advance(2_000);
    expect(await q('SELECT status FROM CDB_OB_BACKUP_DELETE_JOB_HISTORY WHERE tenant_id = 1002')).toEqual([{ status: 'CANCELED' }]);
  });
});

describe('§6 faults and §10 client behaviour', () => {
  it('statement timeout 4012 quotes ob_query_timeout', async () => {
    sim.faults.addStatementFault({ kind: 'timeout', match: 'LOG_ARCHIVE_DEST', times: 1 });
    const e = await err(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', 't1')}' TENANT = t1`);
    expect(e).toMatchObject({ errno: 4012, sqlState: 'HY000' });
    expect(e.message).toContain('maximum query timeout: 10000000(us)');
    // only once: the retry succeeds
    await q(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', 't1')}' TENANT = t1`);
  });

  it('a dropped connection surfaces as a closed socket to the client', async () => {
    sim.faults.addStatementFault({ kind: 'drop', match: '^SELECT 42', times: 1 });
    await expect(conn.query('SELECT 42')).rejects.toMatchObject({ code: expect.stringMatching(/PROTOCOL_CONNECTION_LOST|ECONNRESET/) });
  });

  it('slow responses delay the answer', async () => {
    sim.faults.addStatementFault({ kind: 'slow', match: '^SELECT 7', delayMs: 300, times: 1 });
    const t0 = Date.now();
    expect(await q('SELECT 7 AS x')).toEqual([{ x: 7 }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });
});

describe('persistence', () => {
  it('a restarted obsim with --data-dir keeps tenants, destinations and job history', async () => {
    const stateDir = join(dir, 'state');
    const a = await startObSim({ obVersion: '4.2.1', tenants: ['t1'], timeScale: 0, dataDir: stateDir });
    const c1 = await mysql.createConnection({ host: a.host, port: a.port, user: 'root@sys', database: 'oceanbase' });
    await c1.query(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=${dest('archive', 'p1')}' TENANT = t1`);
    await c1.query(`ALTER SYSTEM SET DATA_BACKUP_DEST = '${dest('data', 'p1')}' TENANT = t1`);
    await c1.query('ALTER SYSTEM ARCHIVELOG TENANT = t1');
    await a.advance(10_000);
    await c1.query('ALTER SYSTEM BACKUP TENANT = t1');
    await a.advance(60_000);
    await c1.end();
    await a.stop();
    const b = await startObSim({ obVersion: '4.2.1', tenants: ['ignored'], timeScale: 0, dataDir: stateDir });
    const c2 = await mysql.createConnection({ host: b.host, port: b.port, user: 'root@sys', database: 'oceanbase' });
    const [rows] = await c2.query('SELECT tenant_id, status FROM CDB_OB_BACKUP_JOB_HISTORY ORDER BY tenant_id');
    expect(rows).toEqual([{ tenant_id: 1, status: 'COMPLETED' }, { tenant_id: 1002, status: 'COMPLETED' }]);
    const [arch] = await c2.query('SELECT status FROM CDB_OB_ARCHIVELOG');
    expect(arch).toEqual([{ status: 'DOING' }]);
    await c2.end();
    await b.stop();
  });
});
