// Drives an example through `cdktf deploy` / `terraform plan` / `cdktf destroy` the way a user does, from a
// copy outside the repository, against the provider bundled into a filesystem mirror of this test run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProvider, installPackage } from '../../provider/build.js';
import { cdktfEnv, copyExample, runCdktf, type ExampleCopy, type ExampleName, type RunResult } from './example-app.js';
import { runCommand } from './run.js';

/** Fails with a clear message when terraform is not on PATH: these tests are never skipped. */
export function requireTerraform(): string {
  const probe = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `terraform is not runnable (${probe.error?.message ?? probe.stderr.trim()}): the cdktf deploy tests need terraform 1.11 on PATH`,
    );
  }
  return (JSON.parse(probe.stdout) as { terraform_version: string }).terraform_version;
}

export interface ProviderMirror {
  /** Filesystem mirror directory (obbackup.local/oceanbase/obbackup/<version>/<platform> below it). */
  dir: string;
  version: string;
  remove(): void;
}

let mirror: Promise<ProviderMirror> | undefined;

/** The provider of this checkout, bundled and installed into a temp mirror once per test process. */
export function providerMirror(): Promise<ProviderMirror> {
  mirror ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), 'obbackup-provider-mirror-'));
    const pkg = await buildProvider(join(root, 'build'));
    installPackage(pkg, join(root, 'mirror'));
    return { dir: join(root, 'mirror'), version: pkg.version, remove: () => rmSync(root, { recursive: true, force: true }) };
  })();
  return mirror;
}

export interface CommandResult extends RunResult {
  ms: number;
}

/** Everything a failed command printed, for an assertion message. */
export const output = (r: RunResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// Where cdktf (through terraform) would go if it tried to leave the machine: a closed local port, so an
// attempt fails at once instead of depending on this machine's network. Loopback stays direct.
const NO_NETWORK = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
};

export interface ExampleProject {
  name: ExampleName;
  dir: string;
  /** cdktf.out/stacks/<name>: where terraform runs for the stack. */
  stackDir: string;
  env: NodeJS.ProcessEnv;
  deploy(): Promise<CommandResult>;
  destroy(): Promise<CommandResult>;
  /** `terraform plan -detailed-exitcode` in the stack folder: 0 no changes, 2 changes, 1 error. */
  plan(): Promise<CommandResult>;
  /** Edits the copy's stack.ts as a user would; fails when `from` does not occur exactly once. */
  edit(from: string, to: string): void;
  remove(): void;
}

/**
 * A copy of examples/<name> set up for an offline deploy: telemetry and update checks off, providers from
 * `mirrorDir` only, `--skip-provider-lock` on every cdktf command, the examples' settings from `settings`.
 */
export function exampleProject(name: ExampleName, mirrorDir: string, settings: Record<string, string>): ExampleProject {
  const copy: ExampleCopy = copyExample(name);
  const env = cdktfEnv(copy.dir, { providerMirror: mirrorDir, extra: { ...NO_NETWORK, ...settings } });
  delete env.TF_LOG;
  const stackDir = join(copy.dir, 'cdktf.out', 'stacks', name);
  const timed = async (run: Promise<RunResult>): Promise<CommandResult> => {
    const started = performance.now();
    const result = await run;
    return { ...result, ms: Math.round(performance.now() - started) };
  };
  const cdktf = (args: string[]) => timed(runCdktf(copy.dir, [...args, '--skip-provider-lock', '--no-color'], env, [], 180_000));
  return {
    name,
    dir: copy.dir,
    stackDir,
    env,
    deploy: () => cdktf(['deploy', '--auto-approve']),
    destroy: () => cdktf(['destroy', '--auto-approve']),
    plan: () => timed(runTerraform(stackDir, ['plan', '-detailed-exitcode', '-input=false', '-no-color'], env)),
    edit(from, to) {
      const file = join(copy.dir, 'stack.ts');
      const source = readFileSync(file, 'utf8');
      const count = source.split(from).length - 1;
      if (count !== 1) throw new Error(`${name}/stack.ts: expected "${from}" exactly once, found it ${count} times`);
      writeFileSync(file, source.replace(from, to));
    },
    remove: copy.remove,
  };
}

function runTerraform(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runCommand(['terraform', ...args], { cwd, env: { ...env, TF_IN_AUTOMATION: '1' } });
}
