// Runs a command as a child process and collects its output: the one way test code starts terraform,
// the demo and other executables. `start` hands back the child too, for tests that send it signals.
import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandResult {
  /** Exit code, or -1 when the process ended by a signal. */
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function startCommand(command: string[], options: CommandOptions = {}): { child: ChildProcess; done: Promise<CommandResult> } {
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - started }));
  });
  return { child, done };
}

export function runCommand(command: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return startCommand(command, options).done;
}
