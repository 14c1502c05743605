#!/usr/bin/env node
// Runs the daemon from an esbuild bundle of its TypeScript, rebuilt on start when a source changed
// (bin/bundle.js): plain node keeps the daemon to one V8 heap, where tsx's loader adds a thread with its
// own. When the bundle cannot be built, the sources run through tsx as before.
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
