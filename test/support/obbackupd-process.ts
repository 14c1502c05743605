/** The real obbackupd executable as a child process (bin/obbackupd.js), for restart and CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Run } from '../../daemon/engine/index.js';
import { request, type ApiResponse } from './daemon.js';

export const OBBACKUPD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/obbackupd.js');

/** The caller's environment without any OBBACKUP_* setting, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OBBACKUP_')));
  return { ...env, ...extra };
}

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function launch(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [OBBACKUPD, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts obbackupd and waits for its "listening" log line; throws with its output if it exits first. */
export async function startDaemonProcess(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = 30_000): Promise<DaemonProcess> {
  const p = launch(args, env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`obbackupd did not report listening within ${timeoutMs} ms:\n${p.stdout()}\n${p.stderr()}`));
    }, timeoutMs);
    const check = () => {
      for (const line of p.stdout().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg?.startsWith('obbackupd listening on') && entry.url) {
          clearTimeout(timer);
          p.child.stdout!.off('data', check);
          return resolve(entry.url);
        }
      }
    };
    p.child.stdout!.on('data', check);
    void p.exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`obbackupd exited (${code}) before listening:\n${p.stdout()}\n${p.stderr()}`));
    });
  });
  return { child: p.child, url, stdout: p.stdout, stderr: p.stderr, exited: p.exited };
}

/** Runs obbackupd expecting it to finish on its own (help, bad flags, start-up errors). */
export async function runDaemonProcess(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = 30_000): Promise<Finished> {
  const p = launch(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * The real obbackupd on a data dir, to SIGKILL and start again on the same dir: its API with the token of
 * that dir, and a poll of a run in real time.
 */
export class RestartableDaemon {
  process: DaemonProcess | undefined;
  private token = '';

  constructor(readonly dataDir: string) {}

  async start(): Promise<void> {
    this.process = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--log-level', 'info'], cleanEnv());
    this.token = fs.readFileSync(path.join(this.dataDir, 'token'), 'utf8').trim();
  }

  /** SIGKILL, as a crash or the OOM killer would; resolves once the process is gone. */
  async kill(): Promise<void> {
    const running = this.process;
    if (!running) return;
    running.child.kill('SIGKILL');
    const { signal } = await running.exited;
    if (signal !== 'SIGKILL') throw new Error(`obbackupd ended with ${signal} instead of SIGKILL`);
    this.process = undefined;
  }

  api(method: string, url: string, body?: unknown): Promise<ApiResponse> {
    if (!this.process) throw new Error('obbackupd is not running');
    return request(this.process.url, this.token, method, url, body);
  }

  /** Polls the run in real time until `check` holds. */
  async waitFor(id: number, check: (r: Run) => boolean, timeoutMs = 90_000): Promise<Run> {
    const deadline = Date.now() + timeoutMs;
    let last: Run | undefined;
    while (Date.now() < deadline) {
      const res = await this.api('GET', `/v1/runs/${id}`);
      if (res.status === 200) {
        last = res.body as Run;
        if (check(last)) return last;
      }
      await delay(200);
    }
    throw new Error(`run ${id} never got there; last: ${JSON.stringify(last, null, 1)}`);
  }
}
