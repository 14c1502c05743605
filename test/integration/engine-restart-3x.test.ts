// The SIGKILL case of engine-restart.test.ts on OceanBase 3.2.4, whose backup jobs the daemon finds in
// other views (CDB_OB_BACKUP_PROGRESS, CDB_OB_BACKUP_SET_DETAILS): obbackupd as a real child process
// killed while the backup runs, started again on the same data dir: the run is re-attached by asking the
// cluster and the backup was started once. obsim runs in real time here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../daemon/engine/index.js';
import { registerPolicy, startRecordingObSim, type ObSimHandle } from '../support/engine.js';
import { RestartableDaemon } from '../support/obbackupd-process.js';

let ob: ObSimHandle;
let dataDir: string;
let storageDir: string;
let daemon: RestartableDaemon;

const api = (method: string, url: string, body?: unknown) => daemon.api(method, url, body);
const waitFor = (id: number, check: (r: Run) => boolean, timeoutMs?: number) => daemon.waitFor(id, check, timeoutMs);

const backupStatements = () => ob.statements.filter((s) => /^\s*ALTER SYSTEM BACKUP DATABASE/i.test(s));
const finished = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);

beforeAll(async () => {
  // 6 MiB at 512 KiB/s: a backup runs for a quarter of a minute; a major compaction takes a second
  ob = await startRecordingObSim({ obVersion: '3.2.4', tenants: ['app'], timeScale: 1, tunables: { tenantDataBytes: 6 * 1024 * 1024, mergeDurationMs: 1_000 } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-restart3-data-'));
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-restart3-storage-'));
  daemon = new RestartableDaemon(dataDir);
  await daemon.start();
  // paused: only "backup now" runs, whatever the wall clock says
  await registerPolicy(api, ob.sim, storageDir, { paused: true, compaction_before_full: 'trigger', schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] } });
}, 60_000);

afterAll(async () => {
  await daemon?.kill();
  await ob?.sim.stop();
  for (const dir of [dataDir, storageDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of obbackupd on OceanBase 3.2.4', () => {
  it('while the backup job runs: after the restart the run is re-attached, never started twice', async () => {
    const res = await api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const id = res.body.id as number;
    const running = await waitFor(id, (r) => r.jobs.length > 0 && r.state === 'running', 90_000);
    await daemon.kill();
    const doing = await ob.sim.query("SELECT bs_key FROM oceanbase.CDB_OB_BACKUP_PROGRESS WHERE status = 'DOING'");
    expect(doing.length).toBeGreaterThan(0);

    await daemon.start();
    const run = await waitFor(id, finished);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.ob_job_id).toBe(running.ob_job_id);
    expect(run.steps.find((s) => s.name === 'reattach')).toMatchObject({ state: 'succeeded' });
    expect(backupStatements()).toHaveLength(1);
    const sets = await ob.sim.query('SELECT DISTINCT bs_key, status FROM oceanbase.CDB_OB_BACKUP_SET_DETAILS');
    expect(sets.map((s) => [Number(s.bs_key ?? s.BS_KEY), s.status ?? s.STATUS])).toEqual([[1, 'COMPLETED']]);
  }, 180_000);
});
