// Helpers for the OceanBase driver suites: a closed port, a port that never answers, polling with simulated time.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObError, type ArchiveStatus, type BackupJob, type JobRef, type ObDriver } from '../../daemon/oceanbase/index.js';
import type { ObSim } from '../../simulator/ob/index.js';

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A TCP server that accepts connections and never sends a byte (a hung server as a client sees it). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/**
 * Calls `step` (which may advance simulated time) until `check` returns a value, at most `tries` times.
 * Throws with the last value seen, so a failing test says where it stopped.
 */
export async function until<T>(step: () => Promise<T>, check: (v: T) => boolean, tries = 200): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await step();
    if (check(last)) return last;
  }
  throw new Error(`condition not met after ${tries} tries; last value: ${JSON.stringify(last)}`);
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The ObError a promise rejects with (fails the test when it resolves or throws something else). */
export async function caught(p: Promise<unknown>): Promise<ObError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ObError) return e;
    throw new Error(`expected an ObError, got ${String(e)}`);
  }
  throw new Error('expected an ObError, but the call succeeded');
}

/** Advances simulated time in `stepMs` steps until the job leaves the running state. */
export async function finishJob(sim: ObSim, driver: ObDriver, ref: JobRef, stepMs = 5_000): Promise<BackupJob> {
  return until(
    async () => {
      await sim.advance(stepMs);
      return (await driver.getJob(ref))!;
    },
    (j) => j !== null && j.state !== 'running',
  );
}

/** Advances simulated time until the archive record of `tenant` (null: the 3.x cluster record) satisfies `check`. */
export async function archiveUntil(sim: ObSim, driver: ObDriver, tenant: string | null, check: (a: ArchiveStatus) => boolean, stepMs = 1_000): Promise<ArchiveStatus> {
  return until(
    async () => {
      await sim.advance(stepMs);
      return (await driver.getArchiveStatus()).find((a) => a.tenant === tenant)!;
    },
    check,
  );
}
