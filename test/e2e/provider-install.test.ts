// `obbackup provider install --mirror DIR` as a user runs it: the printed CLI configuration lets the real
// terraform binary init offline (inside a network namespace with only loopback where the machine allows
// one) and plan/apply against a real obbackupd; a changed build installed on top leaves the locked
// configuration working and `terraform init -upgrade` moves it to the new build.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProviderInstall } from '../../cli/provider-install.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { offlinePrefix } from '../support/example-app.js';
import { runCommand } from '../support/run.js';

const SOURCE = 'obbackup.local/oceanbase/obbackup';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

async function install(args: string[]): Promise<Captured> {
  const out = sink();
  const err = sink();
  const code = await runProviderInstall(args, out.stream, err.stream);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The CLI configuration the install printed: from `provider_installation {` to its closing brace. */
function printedConfig(stdout: string): string {
  const start = stdout.indexOf('provider_installation {');
  const end = stdout.indexOf('\n}\n', start);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return stdout.slice(start, end + 3);
}

function lockedVersion(workdir: string): string {
  const lock = readFileSync(join(workdir, '.terraform.lock.hcl'), 'utf8');
  const m = /provider "obbackup\.local\/oceanbase\/obbackup" \{\s*version\s*=\s*"([^"]+)"/.exec(lock);
  expect(m, lock).not.toBeNull();
  return m![1];
}

let root: string;
let mirror: string;
let buildDir: string;
let workdir: string;
let cliConfig: string;
let daemon: TestDaemon;

function terraform(args: string[], options: { offline?: boolean; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Captured> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    ...options.env,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    OBBACKUP_ENDPOINT: daemon.url,
    OBBACKUP_TOKEN: daemon.token,
  };
  delete env.TF_LOG;
  const command = [...(options.offline ? offlinePrefix() : []), 'terraform', args[0]!, '-no-color', ...args.slice(1)];
  return runCommand(command, { cwd: options.cwd ?? workdir, env });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'obbackup-provider-install-'));
  mirror = join(root, 'mirror');
  buildDir = join(root, 'build');
  workdir = join(root, 'work');
  cliConfig = join(root, 'terraform.rc');
  mkdirSync(workdir);
  mkdirSync(join(root, 'backup'));
  daemon = await startTestDaemon('sqlite');
  writeFileSync(
    join(workdir, 'main.tf'),
    `terraform {
  required_providers {
    obbackup = { source = "${SOURCE}", version = "~> 0.1.0" }
  }
}
provider "obbackup" {}
resource "obbackup_storage" "main" {
  name = "install_check"
  type = "file"
  path = "${join(root, 'backup')}"
}
`,
  );
}, 60_000);

afterAll(async () => {
  await daemon?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('obbackup provider install --mirror', () => {
  let first: string;

  it('installs into the mirror and prints a CLI configuration terraform uses offline', async () => {
    const run = await install(['--mirror', mirror, '--build-dir', buildDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    first = /Built terraform-provider-obbackup (\d+\.\d+\.\d+)/.exec(run.stdout)?.[1] ?? '';
    expect(first).toMatch(/^0\.1\.\d+$/);
    expect(run.stdout).toContain(join(mirror, 'obbackup.local', 'oceanbase', 'obbackup', first));
    expect(run.stdout).toMatch(/Terraform will run it with node v\d+\.\d+\.\d+ at \//);
    const config = printedConfig(run.stdout);
    expect(config).toContain(`path    = ${JSON.stringify(mirror)}`);
    expect(config).toContain('include = ["obbackup.local/*/*"]');
    expect(config).toContain('exclude = ["obbackup.local/*/*"]');
    writeFileSync(cliConfig, config);

    const init = await terraform(['init'], { offline: true });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`Installed ${SOURCE} v${first}`);
    expect(lockedVersion(workdir)).toBe(first);
  }, 120_000);

  it('plans and applies with the installed build', async () => {
    const apply = await terraform(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect((await daemon.api('GET', '/v1/storages/install_check')).status).toBe(200);
  }, 120_000);

  it('reuses an unchanged build under the same version', async () => {
    const run = await install(['--mirror', mirror, '--build-dir', buildDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Reused the current build of terraform-provider-obbackup ${first}`);
    expect(run.stdout).toContain('Already installed in');
  }, 120_000);

  it('installs a changed build under a new version; the locked configuration keeps working, -upgrade moves it', async () => {
    // What a source change does to the build: its recorded content no longer matches the new bundle.
    const infoPath = join(buildDir, 'build-info.json');
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as { version: string; content_hash: string };
    writeFileSync(infoPath, JSON.stringify({ ...info, content_hash: 'an-earlier-build' }));

    const run = await install(['--mirror', mirror, '--build-dir', buildDir]);
    expect(run.code).toBe(0);
    const second = /Built terraform-provider-obbackup (\d+\.\d+\.\d+)/.exec(run.stdout)?.[1] ?? '';
    expect(second).not.toBe(first);
    expect(Number(second.split('.')[2])).toBeGreaterThan(Number(first.split('.')[2]));
    expect(run.stdout).toContain(`Earlier builds kept: ${first}.`);
    expect(run.stdout).toContain('terraform init -upgrade');

    const init = await terraform(['init'], { offline: true });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(lockedVersion(workdir)).toBe(first);
    const plan = await terraform(['plan', '-detailed-exitcode']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);

    const upgrade = await terraform(['init', '-upgrade'], { offline: true });
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`Installed ${SOURCE} v${second}`);
    expect(lockedVersion(workdir)).toBe(second);
    const planAfter = await terraform(['plan', '-detailed-exitcode']);
    expect(planAfter.stderr).toBe('');
    expect(planAfter.code).toBe(0);
    expect(planAfter.stdout + planAfter.stderr).not.toMatch(/checksum/i);
  }, 180_000);

  it('without --mirror installs into ~/.terraform.d/plugins, where terraform finds it with no configuration', async () => {
    const home = join(root, 'home');
    const bare = join(root, 'bare');
    mkdirSync(home);
    mkdirSync(bare);
    writeFileSync(join(root, 'empty.rc'), '');
    writeFileSync(join(bare, 'main.tf'), `terraform {\n  required_providers {\n    obbackup = { source = "${SOURCE}" }\n  }\n}\n`);
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    let run: Captured;
    try {
      run = await install(['--build-dir', buildDir]);
    } finally {
      process.env.HOME = savedHome;
    }
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`into ${join(home, '.terraform.d', 'plugins', 'obbackup.local', 'oceanbase', 'obbackup')}`);
    expect(run.stdout).toContain('Terraform finds the provider here without configuration');
    expect(printedConfig(run.stdout)).toContain(`path    = ${JSON.stringify(join(home, '.terraform.d', 'plugins'))}`);

    const init = await terraform(['init'], { offline: true, cwd: bare, env: { HOME: home, TF_CLI_CONFIG_FILE: join(root, 'empty.rc') } });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/Installed obbackup\.local\/oceanbase\/obbackup v0\.1\.\d+ \(unauthenticated\)/);
  }, 120_000);

  it('rejects an unknown flag with a one-line usage error', async () => {
    const run = await install(['--mirorr', mirror]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain("obbackup provider install: Unknown option '--mirorr'");
  });
});
