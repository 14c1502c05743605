// `npm run bench`: runs every bench/*.ts (but this file) in name order, one at a time, each through its
// exported run(); each prints its own figures and ratios.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'index.ts')
  .sort();

let failed = 0;
for (const file of files) {
  const bench = (await import(pathToFileURL(path.join(dir, file)).href)) as { run?: () => Promise<unknown> };
  if (typeof bench.run !== 'function') {
    console.log(`== ${file}: no run() exported, skipped`);
    continue;
  }
  console.log(`== ${file}`);
  const started = performance.now();
  try {
    await bench.run();
    console.log(`== ${file}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    failed++;
    console.error(`== ${file}: failed: ${(err as Error).message}\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
