// `obbackup demo --non-interactive` as CI runs it: a child process that starts the simulators and
// obbackupd, deploys the quickstart with cdktf, backs up, prints the status, stops everything and exits 0
// only when the backup succeeded; offline (in a network namespace with only loopback, where the machine
// allows one). Also: a refused work directory and a missing tool are one line and exit 1.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { offlinePrefix, REPO_ROOT } from '../support/example-app.js';
import { runCommand } from '../support/run.js';

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[], env: NodeJS.ProcessEnv = process.env, prefix: string[] = []): Promise<DemoRun> {
  const command = [...prefix, process.execPath, join(REPO_ROOT, 'bin', 'obbackup.js'), 'demo', ...args];
  return runCommand(command, { cwd: REPO_ROOT, env });
}

const STACK_FRAME = /^\s+at .+[:(]\d+/m;
const roots: string[] = [];
const tempRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'obbackup-demo-test-'));
  roots.push(root);
  return root;
};

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('obbackup demo --non-interactive', () => {
  it('deploys the quickstart, backs up, prints the status, stops everything and exits 0', async () => {
    const dir = join(tempRoot(), 'demo');
    const run = await runDemo(['--non-interactive', '--dir', dir], process.env, offlinePrefix());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\[1\/7\] Start obsim: OceanBase 4\.2\.1 with tenants shop, crm \.\.\. root@sys on 127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/\[3\/7\] Start obbackupd on its embedded SQLite store \.\.\. http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/\[5\/7\] cdktf deploy examples\/quickstart .* \.\.\. 3 added, 0 changed/);
    expect(run.stdout).toMatch(/backup succeeded in \d+\.\d s: backup sets shop #\d+, crm #\d+/);
    expect(run.stdout).toMatch(/schedule status\s+NORMAL/);
    expect(run.stdout).toMatch(/last data backup\s+\d{4}-\d\d-\d\dT/);
    expect(run.stdout).toContain(`token file    ${join(dir, 'obbackupd', 'token')}`);
    expect(run.stdout).toMatch(/OBBACKUP_ENDPOINT=http:\/\/127\.0\.0\.1:\d+ OBBACKUP_TOKEN="\$\(cat .*token\)" .*obbackup.* status/);
    expect(run.stdout).toContain('Stopped obbackupd, osssim, obsim.');
    expect(run.stdout).not.toMatch(STACK_FRAME);
    expect(run.stderr).not.toMatch(STACK_FRAME);

    // The token is pointed at, never printed; the daemon and the backup really happened.
    const token = readFileSync(join(dir, 'obbackupd', 'token'), 'utf8').trim();
    expect(token.length).toBeGreaterThan(16);
    expect(run.stdout + run.stderr).not.toContain(token);
    const daemonLog = readFileSync(join(dir, 'logs', 'obbackupd.log'), 'utf8').trim().split('\n');
    expect(JSON.parse(daemonLog[daemonLog.length - 1]!).msg).toBe('stopped');
    expect(existsSync(join(dir, 'backup'))).toBe(true);
    expect(readFileSync(join(dir, 'logs', 'cdktf-deploy.log'), 'utf8')).toContain('Apply complete!');
  }, 240_000);

  it('exits 1 with one line naming the step when the backup fails, and still stops everything', async () => {
    const dir = join(tempRoot(), 'demo');
    const run = await runDemo(['--non-interactive', '--fail-backup', '--dir', dir], process.env, offlinePrefix());
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/\[5\/7\] cdktf deploy examples\/quickstart .* \.\.\. 3 added/);
    expect(run.stderr).toMatch(
      /^obbackup demo: step 6\/7 "Backup now: full backup of quickstart-ob4 .*" failed: backup failed: .*OceanBase error 9070.* \(log: .*obbackupd\.log\)\n$/,
    );
    expect(run.stdout).not.toContain('backup succeeded');
    expect(run.stdout).not.toContain('schedule status');
    expect(run.stdout).toContain('Stopped obbackupd, osssim, obsim.');
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  }, 240_000);

  it('refuses a non-empty directory it did not make, in one line, and touches nothing', async () => {
    const dir = tempRoot();
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const run = await runDemo(['--non-interactive', '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`obbackup demo: start-up failed: ${dir} exists and was not made by the demo; pass --dir with a new or empty directory\n`);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);

  it('names the missing tool when terraform is not on PATH', async () => {
    const root = tempRoot();
    const bin = join(root, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const run = await runDemo(['--non-interactive', '--dir', join(root, 'demo')], { ...process.env, PATH: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^obbackup demo: start-up failed: terraform is not on PATH: .* \(log: .*demo\.log\)\n$/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);
});
