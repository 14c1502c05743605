#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// Runs the daemon from an esbuild bundle of its TypeScript, rebuilt on start when a source changed
// (bin/bundle.js): plain node keeps the daemon to one V8 heap, where tsx's loader adds a thread with its
// own. When the bundle cannot be built, the sources run through tsx as before.
// The node flags above are DAEMON_V8_FLAGS (daemon/heap.ts): V8 sizes its young generation when the
// process starts, so tuneHeap() at run time cannot shrink it (bench/scheduler.ts: ~25 MB of RSS at
// 10,000 policies). They apply when obbackupd is run as an executable, as npm links it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildErrorLine, ensureBundle } from './bundle.js';

const ENTRY = new URL('../daemon/main.ts', import.meta.url);

let bundle;
try {
  bundle = (await ensureBundle({ entry: fileURLToPath(ENTRY), name: 'obbackupd' })).file;
} catch (err) {
  process.stderr.write(`obbackupd: warning: running through tsx, the bundle could not be built: ${buildErrorLine(err)}\n`);
}
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(ENTRY.href);
}
