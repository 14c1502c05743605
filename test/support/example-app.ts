// Runs an example the way a user does, from a copy outside the repository: the copy gets a package.json
// and a node_modules/ whose entries point into this checkout (obbackup itself, cdktf, constructs, tsx
// and the .bin/ that `npx tsx` and `cdktf` come from).
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testing, type TerraformStack } from 'cdktf';
import * as fleet from '../../examples/fleet/stack.js';
import * as ossSecondary from '../../examples/oss-secondary/stack.js';
import * as quickstart from '../../examples/quickstart/stack.js';
import { cliConfigSnippet } from '../../provider/build.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const EXAMPLES = ['quickstart', 'oss-secondary', 'fleet'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

/** An example's stack built in-process (as its main.ts does) with settings read from `env`. */
export function exampleStack(name: ExampleName, env: NodeJS.ProcessEnv = {}): TerraformStack {
  switch (name) {
    case 'quickstart':
      return new quickstart.QuickstartStack(Testing.app(), name, quickstart.settingsFromEnv(env));
    case 'oss-secondary':
      return new ossSecondary.OssSecondaryStack(Testing.app(), name, ossSecondary.settingsFromEnv(env));
    case 'fleet':
      return new fleet.FleetStack(Testing.app(), name, fleet.settingsFromEnv(env));
  }
}

const LINKED_MODULES = ['cdktf', 'constructs', 'tsx', '.bin'];

export interface ExampleCopy {
  dir: string;
  remove(): void;
}

/** Copies examples/<name> (without build output) into a fresh temp directory, ready for `cdktf`. */
export function copyExample(name: ExampleName): ExampleCopy {
  const root = mkdtempSync(join(tmpdir(), `obbackup-example-${name}-`));
  const dir = join(root, name);
  cpSync(join(REPO_ROOT, 'examples', name), dir, {
    recursive: true,
    filter: (src) => !/(^|\/)(cdktf\.out|\.terraform)(\/|$)/.test(src),
  });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `obbackup-example-${name}`, private: true, type: 'module' }, null, 2));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  symlinkSync(REPO_ROOT, join(modules, 'obbackup'), 'dir');
  for (const m of LINKED_MODULES) symlinkSync(join(REPO_ROOT, 'node_modules', m), join(modules, m), 'dir');
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface CdktfEnvOptions {
  /** A filesystem mirror holding the obbackup provider (HOST/NAMESPACE/TYPE/VERSION/OS_ARCH below it). */
  providerMirror?: string;
  /** More variables (OBBACKUP_ENDPOINT, OBBACKUP_TOKEN, TF_VAR_*, the examples' settings). */
  extra?: Record<string, string>;
}

/**
 * Environment for cdktf/terraform without telemetry, update checks or prompts, with a CLI config of its
 * own (written into `dir`) that installs obbackup.local providers from `providerMirror` only.
 */
export function cdktfEnv(dir: string, options: CdktfEnvOptions = {}): NodeJS.ProcessEnv {
  const cliConfig = join(dir, 'terraformrc');
  const mirror = options.providerMirror ? cliConfigSnippet(options.providerMirror) : '';
  writeFileSync(cliConfig, mirror);
  return {
    ...process.env,
    CHECKPOINT_DISABLE: '1',
    DISABLE_VERSION_CHECK: '1',
    CI: 'true',
    TF_CLI_CONFIG_FILE: cliConfig,
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    ...options.extra,
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A command prefix that runs a program in a fresh network namespace with only loopback up, or [] where
 * the kernel does not let this user make one.
 */
export function offlinePrefix(): string[] {
  const probe = spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? ['unshare', '-n', 'sh', '-c', 'ip link set lo up 2>/dev/null; exec "$@"', 'sh'] : [];
}

/** Runs the checkout's cdktf CLI in `dir`, behind `prefix` (e.g. offlinePrefix()). */
export function runCdktf(dir: string, args: string[], env: NodeJS.ProcessEnv, prefix: string[] = [], timeoutMs = 120_000): Promise<RunResult> {
  const command = [...prefix, join(REPO_ROOT, 'node_modules', '.bin', 'cdktf'), ...args];
  return new Promise((resolvePromise) => {
    execFile(command[0]!, command.slice(1), { cwd: dir, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}
