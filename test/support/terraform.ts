// Runs the real terraform binary against the bundled provider installed in a temporary filesystem mirror.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProvider, cliConfigSnippet, installPackage } from '../../provider/build.js';
import type { ProviderPackage } from '../../provider/build.js';
import { startCommand, type CommandResult } from './run.js';

export type TerraformResult = CommandResult;

export interface TerraformWorkspace {
  root: string;
  workdir: string;
  pkg: ProviderPackage;
  env: NodeJS.ProcessEnv;
  write(mainTf: string): void;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<TerraformResult>;
  /** Starts terraform and hands back the child (for signals); resolves like run(). */
  start(args: string[], extraEnv?: NodeJS.ProcessEnv): { child: import('node:child_process').ChildProcess; done: Promise<TerraformResult> };
  cleanup(): void;
}

export async function createTerraformWorkspace(env: NodeJS.ProcessEnv = {}): Promise<TerraformWorkspace> {
  const root = mkdtempSync(join(tmpdir(), 'obbackup-tf-'));
  const pkg = await buildProvider(join(root, 'build'));
  const mirror = join(root, 'mirror');
  installPackage(pkg, mirror);
  const cliConfig = join(root, 'terraform.rc');
  writeFileSync(cliConfig, cliConfigSnippet(mirror));
  const workdir = join(root, 'work');
  mkdirSync(workdir);
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    ...env,
  };
  delete baseEnv.TF_LOG;
  const start = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    // -no-color goes after the (sub)command: `state rm -no-color ADDR`, `plan -no-color`.
    const at = ['state', 'providers', 'workspace'].includes(args[0]) ? 2 : 1;
    return startCommand(['terraform', ...args.slice(0, at), '-no-color', ...args.slice(at)], { cwd: workdir, env: { ...baseEnv, ...extraEnv } });
  };
  return {
    root,
    workdir,
    pkg,
    env: baseEnv,
    write: (mainTf: string) => writeFileSync(join(workdir, 'main.tf'), mainTf),
    run: (args, extraEnv) => start(args, extraEnv).done,
    start,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const providerBlock = `terraform {
  required_providers {
    obbackup = {
      source = "obbackup.local/oceanbase/obbackup"
    }
  }
}
`;
