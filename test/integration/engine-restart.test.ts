// obbackupd as a real child process (bin/obbackupd.js) killed with SIGKILL in the middle of a backup run,
// then started again on the same data dir: the run is re-attached by asking the cluster, and obsim's job
// history shows the backup was started once. obsim runs in real time here (the daemon uses its real clock).
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

const backupStatements = () => ob.statements.filter((s) => /^\s*ALTER SYSTEM BACKUP/i.test(s));
const finished = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);

beforeAll(async () => {
  // 6 MiB at 512 KiB/s: a backup runs for a quarter of a minute
  ob = await startRecordingObSim({ obVersion: '4.2.1', tenants: ['app'], timeScale: 1, tunables: { tenantDataBytes: 6 * 1024 * 1024 } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-restart-data-'));
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-restart-storage-'));
  daemon = new RestartableDaemon(dataDir);
  await daemon.start();
  // paused: only "backup now" runs, whatever the wall clock says
  await registerPolicy(api, ob.sim, storageDir, { paused: true, schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] } });
}, 60_000);

afterAll(async () => {
  await daemon?.kill();
  await ob?.sim.stop();
  for (const dir of [dataDir, storageDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of obbackupd', () => {
  it('while the run waits for the log archive: after the restart it checks again and starts the backup once', async () => {
    const res = await api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const id = res.body.id as number;
    await waitFor(id, (r) => r.steps.some((s) => s.name === 'precheck:log_archive' && s.state === 'running'), 30_000);
    expect(backupStatements()).toEqual([]);
    await daemon.kill();

    await daemon.start();
    const run = await waitFor(id, finished);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.steps.map((s) => s.name)).toContain('restart');
    expect(backupStatements()).toHaveLength(1);
  }, 150_000);

  it('while the backup job runs: after the restart the run is re-attached, never started twice', async () => {
    const before = backupStatements().length;
    const res = await api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const id = res.body.id as number;
    const running = await waitFor(id, (r) => r.jobs.length > 0 && r.state === 'running', 60_000);
    const jobId = running.ob_job_id;
    await daemon.kill();
    const inFlight = await ob.sim.query("SELECT job_id, status FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE tenant_id != 1");
    expect(inFlight.map((j) => Number(j.JOB_ID ?? j.job_id))).toEqual([jobId]);

    await daemon.start();
    const run = await waitFor(id, finished);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.ob_job_id).toBe(jobId);
    expect(run.steps.find((s) => s.name === 'reattach')).toMatchObject({ state: 'succeeded', message: expect.stringContaining(`job ${jobId}`) });
    expect(backupStatements().length - before).toBe(1);
    const history = await ob.sim.query('SELECT job_id, status FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id != 1 ORDER BY job_id');
    expect(history.map((j) => [Number(j.JOB_ID ?? j.job_id), j.STATUS ?? j.status])).toEqual([
      [expect.any(Number), 'COMPLETED'],
      [jobId, 'COMPLETED'],
    ]);
  }, 150_000);
});
