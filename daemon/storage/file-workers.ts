// Hashing and copying files off the event loop: reading a backup set through a checksum on the main thread
// would stall the daemon (API, scheduler) and leave the other cores idle. A few worker threads each read
// files through their own buffer and hash them (xxh3 natively, or sha256/md5 with node:crypto), or copy a
// file while hashing what they read, so the source is read once for both.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { xxhashModulePath } from './checksum.js';
import type { DigestAlgorithm } from './types.js';

// Plain JavaScript evaluated in the worker, so it runs the same under tsx and in a bundled build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { xxh3 } = require(workerData.xxhashPath);
// 128 KiB: measured here, reads into a buffer of 256 KiB or more cost the kernel 3-4x the time per byte
// (1 GiB from the page cache: 0.17 s at 128 KiB, 0.6 s at 1 MiB), and smaller ones pay more syscalls.
const buffer = Buffer.allocUnsafe(128 * 1024);

function digest({ path, algorithm }) {
  const fd = fs.openSync(path, 'r');
  try {
    const fast = algorithm === 'xxh3';
    const hash = fast ? xxh3.Xxh3.withSeed() : createHash(algorithm);
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      size += n;
      hash.update(buffer.subarray(0, n));
    }
    return { digest: fast ? hash.digest().toString(16).padStart(16, '0') : hash.digest('hex'), size };
  } finally {
    fs.closeSync(fd);
  }
}

// Copies 'from' to 'to' (created or truncated) through the buffer, hashing the bytes as they pass (xxh3).
// The caller reads 'to' back to verify it. Errors say which side failed.
function copy({ from, to }) {
  const side = (name, fn) => {
    try {
      return fn();
    } catch (error) {
      error.side = name;
      throw error;
    }
  };
  const input = side('source', () => fs.openSync(from, 'r'));
  let output;
  try {
    output = side('target', () => fs.openSync(to, 'w'));
    const hash = xxh3.Xxh3.withSeed();
    let size = 0;
    for (;;) {
      const n = side('source', () => fs.readSync(input, buffer, 0, buffer.length, null));
      if (n === 0) break;
      size += n;
      hash.update(buffer.subarray(0, n));
      for (let offset = 0; offset < n; ) offset += side('target', () => fs.writeSync(output, buffer, offset, n - offset));
    }
    return { digest: hash.digest().toString(16).padStart(16, '0'), size };
  } finally {
    fs.closeSync(input);
    if (output !== undefined) side('target', () => fs.closeSync(output));
  }
}

parentPort.on('message', ({ id, job }) => {
  try {
    parentPort.postMessage({ id, result: job.kind === 'copy' ? copy(job) : digest(job) });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error.code, message: error.message, path: error.path, side: error.side } });
  }
});
`;

export interface DigestJob {
  kind: 'digest';
  path: string;
  algorithm: DigestAlgorithm;
}

export interface CopyJob {
  kind: 'copy';
  from: string;
  to: string;
}

export interface DigestResult {
  digest: string;
  size: number;
}

/** An error of a copy job: `side` says whether reading the source or writing the target failed. */
export type CopyJobError = Error & { code?: string; path?: string; side?: 'source' | 'target' };

interface Pending {
  id: number;
  job: DigestJob | CopyJob;
  resolve: (result: never) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending?: Pending;
}

const slots: Slot[] = [];
const queue: Pending[] = [];
let nextId = 1;
const poolSize = Math.max(2, Math.min(4, availableParallelism()));
let xxhashPath: string | undefined;

function spawnSlot(): Slot {
  const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { xxhashPath: (xxhashPath ??= xxhashModulePath()) } }) };
  slot.worker.unref(); // an idle pool never keeps the process alive
  slot.worker.on('message', (message: { id: number; result?: never; error?: { code?: string; message: string; path?: string; side?: string } }) => {
    const pending = slot.pending;
    slot.pending = undefined;
    slot.worker.unref();
    if (pending && pending.id === message.id) {
      if (message.error) {
        const error = Object.assign(new Error(message.error.message), { code: message.error.code, path: message.error.path, side: message.error.side });
        pending.reject(error);
      } else {
        pending.resolve(message.result!);
      }
    }
    dispatch();
  });
  slot.worker.on('error', (error) => {
    // A worker that died takes its job with it; the next job gets a fresh worker.
    slot.pending?.reject(error);
    slots.splice(slots.indexOf(slot), 1);
    dispatch();
  });
  slots.push(slot);
  return slot;
}

function dispatch(): void {
  while (queue.length > 0) {
    let slot = slots.find((s) => s.pending === undefined);
    if (!slot) {
      if (slots.length >= poolSize) return;
      slot = spawnSlot();
    }
    const pending = queue.shift()!;
    slot.pending = pending;
    slot.worker.ref(); // keep the process alive while work is under way
    slot.worker.postMessage({ id: pending.id, job: pending.job });
  }
}

function submit<T>(job: DigestJob | CopyJob): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push({ id: nextId++, job, resolve: resolve as (result: never) => void, reject });
    dispatch();
  });
}

/** Hash (hex) and size of a file, computed by a worker thread. */
export function digestFile(path: string, algorithm: DigestAlgorithm): Promise<DigestResult> {
  return submit({ kind: 'digest', path, algorithm });
}

/**
 * Copies a file in a worker thread, hashing (xxh3) the bytes as they are read: the source's digest and
 * size. The target is not synced; read it back with digestFile to verify it. Fails with a CopyJobError.
 */
export function copyFileHashed(from: string, to: string): Promise<DigestResult> {
  return submit({ kind: 'copy', from, to });
}
