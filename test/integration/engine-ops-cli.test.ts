// The obbackup CLI as a child process (bin/obbackup.js) against an in-process obbackupd with its engine
// on the system clock and obsim 4.2.1 running time 30x faster.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../daemon/app.js';
import { createLogger } from '../../daemon/log.js';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/obbackup.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let sim: ObSim;
let daemon: RunningDaemon;
let dataDir: string;
let storageDir: string;

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OBBACKUP_')));
  const merged: Record<string, string | undefined> = { ...base, OBBACKUP_ENDPOINT: daemon.url, OBBACKUP_TOKEN: daemon.token, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: merged as NodeJS.ProcessEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

async function api(method: string, url: string, body?: unknown) {
  const res = await fetch(`${daemon.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${daemon.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const noStack = (r: Result) => expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+/);

beforeAll(async () => {
  sim = await startObSim({ obVersion: '4.2.1', tenants: ['t1'], timeScale: 30, tunables: { tenantDataBytes: 2 * 1024 * 1024, dataFileBytes: 256 * 1024, backupBytesPerSecond: 128 * 1024 } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-cli-'));
  storageDir = path.join(dataDir, 'backups');
  fs.mkdirSync(storageDir);
  daemon = await startDaemon({
    listen: '127.0.0.1:0',
    dataDir,
    env: {},
    logger: createLogger({ level: 'silent' }),
    engine: { backup: { pollMinMs: 200, pollMaxMs: 500 }, archiveWaitMs: 60_000 },
  });
  expect((await api('PUT', '/v1/clusters/c1', { host: sim.host, port: sim.port, password: '' })).status).toBe(201);
  expect((await api('PUT', '/v1/storages/nfs', { type: 'file', path: storageDir })).status).toBe(201);
  const policy = await api('PUT', '/v1/policies/p1', {
    cluster: 'c1',
    storage: 'nfs',
    schedule: { period: 'weekly', time: '02:00', timezone: 'Asia/Shanghai', days: [{ day: 1, type: 'full' }, { day: 4, type: 'incremental' }] },
  });
  expect(policy.status).toBe(201);
  // the engine applies the policy: archive on until DOING
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await api('GET', '/v1/clusters/c1/status');
    if (s.status === 200 && s.body.log_archive.length > 0 && s.body.log_archive.every((a: { state: string }) => a.state === 'DOING')) break;
    if (Date.now() > deadline) throw new Error(`the policy was not applied in time: ${JSON.stringify(s.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  await sim?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('obbackup CLI', () => {
  it('--help lists every command and the connection settings', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const text of ['status [CLUSTER]', 'backup now CLUSTER --type full|incremental [--wait]', 'runs', 'alarms', 'provider install', 'demo', 'OBBACKUP_ENDPOINT', 'OBBACKUP_TOKEN', '--token-file']) {
      expect(r.stdout).toContain(text);
    }
  });

  it('status before any backup: a table with the cluster WAITING for its first backup', async () => {
    const r = await cli(['status']);
    expect(r.code, r.stderr).toBe(0);
    const [header, row] = r.stdout.split('\n');
    expect(header).toMatch(/^CLUSTER\s+POLICY\s+STATUS\s+LAST BACKUP \(UTC\)\s+LOG DELAY\s+SIZE\s+RUNNING\s+NEXT RUN \(UTC\)\s+ALARMS$/);
    expect(row).toMatch(/^c1\s+p1\s+WAITING\s+-\s+(\d+[smhd]( \d+[smhd])?|-)\s+0 B\s+-\s+\d\d-\d\d \d\d:\d\d (full|incremental)\s+-$/);
  });

  it('backup now refuses an incremental before any full with the OCP message, exit 1', async () => {
    const r = await cli(['backup', 'now', 'c1', '--type', 'incremental']);
    expect(r.code).toBe(1);
    const [first, ...details] = r.stderr.trim().split('\n');
    expect(first).toBe('obbackup: backup of c1 refused: full data backup needed before incremental data backup.');
    expect(details.map((d) => d.trim())).toEqual(['precheck.full_before_incremental: no successful full backup at the current destination for tenant t1']);
    noStack(r);
  });

  it('backup now --wait shows progress until the end and exits 0 when the run succeeded', async () => {
    const r = await cli(['backup', 'now', 'c1', '--type', 'full', '--wait', '--interval', '0.2']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^run \d+: full backup of c1$/);
    const bars = lines.filter((l) => /^\[[#-]{24}\]/.test(l));
    expect(bars.length).toBeGreaterThan(1);
    // progress only moves forward
    const pcts = bars.map((l) => /(\d+\.\d)%/.exec(l)?.[1]).filter(Boolean).map(Number);
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
    expect(lines[lines.length - 1]).toMatch(/^run \d+ succeeded: full backup of c1 \(t1: backup set 1\), 2\.0 MiB in \d+/);
  });

  it('status CLUSTER: the OCP overview for a person, NORMAL after the backup', async () => {
    const r = await cli(['status', 'c1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Cluster\s+c1 \(OceanBase 4\.2\.1\.0\)$/m);
    expect(r.stdout).toMatch(/^Schedule status\s+NORMAL — backups run on schedule$/m);
    expect(r.stdout).toMatch(/^Last data backup\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \((now|.+ ago|in .+)\) \(run \d+, full\)$/m);
    expect(r.stdout).toMatch(/^Backup size\s+2\.0 MiB$/m);
    expect(r.stdout).toMatch(/^Log archive\s+t1 DOING$/m);
    expect(r.stdout).toMatch(/^Running\s+nothing$/m);
    expect(r.stdout.match(/UTC \(in .+\) (full|incremental)$/gm)).toHaveLength(5);
    expect(r.stdout).toMatch(/^Alarms\s+none$/m);
    const json = await cli(['--json', 'status', 'c1']);
    expect(JSON.parse(json.stdout)).toMatchObject({ cluster: 'c1', schedule_status: 'NORMAL', backup_size_bytes: 2 * 1024 * 1024, running: null });
  });

  it('status shows a running backup with a progress bar', async () => {
    // real time for the database while this backup runs, so it runs long enough to be looked at
    sim.setTimeScale(1);
    const started = await cli(['backup', 'now', 'c1', '--type', 'incremental']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^run (\d+) started: incremental backup of c1\./);
    const id = Number(/^run (\d+)/.exec(started.stdout)![1]);
    let seen: string | undefined;
    for (let i = 0; i < 100 && !seen; i++) {
      const r = await cli(['status', 'c1']);
      const line = r.stdout.split('\n').find((l) => l.startsWith('Running'));
      if (line && /run \d+ backup incremental running\s+\[[#-]{24}\]\s+\d+\.\d%/.test(line)) seen = line;
      else if (line?.includes('nothing') && i > 0) break;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(seen, 'a status line with the running backup and its bar').toBeDefined();
    expect(seen).toContain(`run ${id} backup incremental running`);
    // let it end before the next tests
    sim.setTimeScale(30);
    for (let i = 0; i < 300; i++) {
      const run = await api('GET', `/v1/runs/${id}`);
      if (['succeeded', 'failed'].includes(run.body.state)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  it('runs: a table of recent runs, newest first', async () => {
    const r = await cli(['runs']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KIND\s+TYPE\s+CLUSTER\s+TRIGGER\s+STATE\s+PROGRESS\s+SCHEDULED \(UTC\)\s+FINISHED\s+NOTE$/);
    expect(lines[1]).toMatch(/^\d+\s+backup\s+incremental\s+c1\s+immediate\s+succeeded\s+100%/);
    expect(lines[2]).toMatch(/^\d+\s+backup\s+full\s+c1\s+immediate\s+succeeded\s+100%/);
    const filtered = await cli(['runs', '--kind', 'cleanup']);
    expect(filtered.stdout.trim()).toBe('No runs yet.');
  });

  it('alarms: none active', async () => {
    const r = await cli(['alarms']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('No active alarms.');
  });

  it('finds the token in the daemon data dir when none is given', async () => {
    const r = await cli(['alarms'], { OBBACKUP_TOKEN: undefined, OBBACKUP_DATA_DIR: dataDir });
    expect(r.code, r.stderr).toBe(0);
    const file = await cli(['alarms', '--token-file', path.join(dataDir, 'token')], { OBBACKUP_TOKEN: undefined });
    expect(file.code, file.stderr).toBe(0);
  });

  it('one clear line, no stack, when the daemon is down, the token is wrong or the command is wrong', async () => {
    const closed = await freePort();
    const down = await cli(['status'], { OBBACKUP_ENDPOINT: `http://127.0.0.1:${closed}` });
    expect(down.code).toBe(3);
    expect(down.stderr.trim()).toBe(`obbackup: cannot reach obbackupd at http://127.0.0.1:${closed} (connection refused); is it running? Set OBBACKUP_ENDPOINT or --endpoint to where it listens`);
    expect(down.stdout).toBe('');
    noStack(down);

    const wrong = await cli(['runs'], { OBBACKUP_TOKEN: 'not-the-token-at-all' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('refused the API token from env OBBACKUP_TOKEN');
    expect(wrong.stderr).not.toContain('not-the-token-at-all');

    const missing = await cli(['status', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('obbackup: cluster "nope" does not exist');

    for (const [args, message] of [
      [['backup', 'now', 'c1'], '--type full or --type incremental is required'],
      [['backup', 'now', 'c1', '--type', 'diff'], '--type must be full or incremental, got "diff"'],
      [['frobnicate'], 'unknown command "frobnicate"'],
      [['runs', '--bogus'], 'unknown flag --bogus'],
      [['alarms', '--type', 'full'], 'flag --type does not apply to "alarms"'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(`obbackup: ${message} (see obbackup --help)`);
    }
  });
});
