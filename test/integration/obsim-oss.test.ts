// obsim writing backups through the OSS API (ali-oss) into osssim, with the credentials of the destination URI.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';

let oss: OssSim;
let sim: ObSim;
let conn: mysql.Connection;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'obsim-oss-'));
  oss = await startOssSim({ accessKeyId: 'ak', accessKeySecret: 'sk', buckets: ['backup'] });
  sim = await startObSim({ obVersion: '4.2.1', tenants: ['t1'], timeScale: 0 });
  conn = await mysql.createConnection({ host: sim.host, port: sim.port, user: 'root@sys', database: 'oceanbase' });
});

afterEach(async () => {
  await conn.end();
  await sim.stop();
  await oss.stop();
  await rm(dir, { recursive: true, force: true });
});

const host = () => oss.endpoint.replace(/^http:\/\//, '');

it('§1 an oss:// data destination gets the format file and the backup set objects', async () => {
  await conn.query(`ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=oss://backup/archive/t1?host=${host()}&access_id=ak&access_key=sk' TENANT = t1`);
  await conn.query(`ALTER SYSTEM SET DATA_BACKUP_DEST = 'oss://backup/data/t1?host=${host()}&access_id=ak&access_key=sk' TENANT = t1`);
  expect(oss.headObject('backup', 'data/t1/format.obbak')).toBeDefined();
  const [params] = await conn.query("SELECT value FROM CDB_OB_BACKUP_PARAMETER WHERE name = 'data_backup_dest'");
  expect(params).toEqual([{ value: `oss://backup/data/t1?host=${host()}` }]);
  await conn.query('ALTER SYSTEM ARCHIVELOG TENANT = t1');
  await sim.advance(10_000);
  await conn.query('ALTER SYSTEM BACKUP TENANT = t1');
  await sim.advance(60_000);
  const [hist] = await conn.query('SELECT status FROM CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id = 1002');
  expect(hist).toEqual([{ status: 'COMPLETED' }]);
  const keys = oss.listObjects('backup', 'data/t1/').map((o) => o.key);
  expect(keys.filter((k) => k.includes('backup_set_1_full/') && k.includes('macro_block_data'))).toHaveLength(16);
  expect(oss.listObjects('backup', 'archive/t1/').some((o) => o.key.includes('/logstream_1001/log/'))).toBe(true);
});

it('§4 wrong OSS credentials are refused with 9071 and the secret is not echoed', async () => {
  const e = await conn
    .query(`ALTER SYSTEM SET DATA_BACKUP_DEST = 'oss://backup/data/t1?host=${host()}&access_id=ak&access_key=WRONGSECRET' TENANT = t1`)
    .then(() => null, (x: { errno: number; message: string }) => x);
  expect(e?.errno).toBe(9071);
  expect(e?.message).not.toContain('WRONGSECRET');
  const [params] = await conn.query('SELECT * FROM CDB_OB_BACKUP_PARAMETER');
  expect(params).toEqual([]);
});
