// Hashing files off the event loop: sha256 runs at about 2 GB/s on one core, so checksumming a backup
// set on the main thread would stall the daemon (API, scheduler) and leave the other cores idle.
// A few worker threads each read a file with their own buffer and hash it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Plain JavaScript evaluated in the worker, so it runs the same under tsx and a bundled build.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
parentPort.on('message', ({ id, path, algorithm }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const hash = createHash(algorithm);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      size += n;
      hash.update(buffer.subarray(0, n));
    }
    parentPort.postMessage({ id, digest: hash.digest('hex'), size });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error.code, message: error.message } });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Job {
  id: number;
  path: string;
  algorithm: string;
  resolve: (result: { digest: string; size: number }) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

const slots: Slot[] = [];
const queue: Job[] = [];
let nextId = 1;
const poolSize = Math.max(1, Math.min(4, availableParallelism()));

function spawnSlot(): Slot {
  const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }) };
  slot.worker.unref(); // an idle pool never keeps the process alive
  slot.worker.on('message', (message: { id: number; digest?: string; size?: number; error?: { code?: string; message: string } }) => {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job && job.id === message.id) {
      if (message.error) {
        const error = new Error(message.error.message) as NodeJS.ErrnoException;
        if (message.error.code) error.code = message.error.code;
        job.reject(error);
      } else {
        job.resolve({ digest: message.digest!, size: message.size! });
      }
    }
    dispatch();
  });
  slot.worker.on('error', (error) => {
    // A worker that died takes its job with it; the next job gets a fresh worker.
    slot.job?.reject(error);
    slots.splice(slots.indexOf(slot), 1);
    dispatch();
  });
  slots.push(slot);
  return slot;
}

function dispatch(): void {
  while (queue.length > 0) {
    let slot = slots.find((s) => s.job === undefined);
    if (!slot) {
      if (slots.length >= poolSize) return;
      slot = spawnSlot();
    }
    const job = queue.shift()!;
    slot.job = job;
    slot.worker.ref(); // keep the process alive while a hash is being computed
    slot.worker.postMessage({ id: job.id, path: job.path, algorithm: job.algorithm });
  }
}

/** Hash (hex) and size of a file, computed by a worker thread. */
export function digestFile(path: string, algorithm: string): Promise<{ digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, path, algorithm, resolve, reject });
    dispatch();
  });
}
