// A TypeScript entry point as one esbuild bundle of our sources (packages stay imports from node_modules),
// built on demand and cached under node_modules/.cache/obbackup. Running the bundle under plain node spares
// the process tsx's loader, whose hooks run on a thread with a V8 heap of its own (bench/scheduler.ts:
// ~50 MB of RSS at 10,000 policies). Plain JavaScript: it runs before any TypeScript can be loaded.
//
// Cache: NAME-<sha256 of the bundle>.mjs next to NAME.json, which lists every file the bundle was built
// from (esbuild's metafile inputs, plus the build settings: this file, tsconfig.json, esbuild's version)
// with its mtime and size. A start stats those files and rebuilds when one differs or is gone, so an
// edit is picked up by the next start. Files are written under a temporary name and renamed into place,
// so daemons starting together never read a half-written file.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
export const ROOT = path.resolve(path.dirname(SELF), '..');
export const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'obbackup');
/** Bundles no longer current are removed once this old (a process that just read the old manifest may still be loading one). */
const PRUNE_AFTER_MS = 10 * 60_000;

/** esbuild settings shared by every bundle of ours (bin/obbackupd.js, bench/scheduler.ts). */
export const BUNDLE_OPTIONS = /** @type {const} */ ({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // node_modules stay imports: resolved from the cache dir, which lies inside node_modules
  packages: 'external',
  logLevel: 'silent',
});

/** Files that change what a build produces besides its inputs. */
function settingsFiles() {
  const files = [SELF, path.join(ROOT, 'tsconfig.json')];
  try {
    files.push(createRequire(SELF).resolve('esbuild/package.json'));
  } catch {
    // esbuild missing: the build below says so
  }
  return files.map((f) => path.relative(ROOT, f));
}

/** @param {string} rel */
function statOf(rel) {
  try {
    const s = fs.statSync(path.resolve(ROOT, rel));
    return [s.mtimeMs, s.size];
  } catch {
    return undefined;
  }
}

/** @param {string} file @param {string | Uint8Array} data */
function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * The bundle for `name` from `cacheDir` when every file it was built from is unchanged.
 * @param {string} name @param {string} cacheDir
 */
function cachedBundle(name, cacheDir) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
  const file = path.join(cacheDir, String(manifest.bundle));
  if (!Array.isArray(manifest.inputs) || !fs.existsSync(file)) return undefined;
  for (const [rel, mtimeMs, size] of manifest.inputs) {
    const now = statOf(rel);
    if (!now || now[0] !== mtimeMs || now[1] !== size) return undefined;
  }
  return file;
}

/** @param {{ errors?: { text: string, location?: { file: string, line: number, column: number } | null }[], message?: string }} err */
export function buildErrorLine(err) {
  const first = err.errors?.[0];
  if (first) {
    const at = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    return `${at}${first.text}`;
  }
  return String(err.message ?? err).split('\n')[0];
}

/**
 * The path of an up-to-date bundle of `entry` (a file of this repository), building it when needed.
 * Throws when esbuild fails or the cache dir cannot be written.
 * @param {{ entry: string, name: string, cacheDir?: string }} options
 * @returns {Promise<{ file: string, built: boolean }>}
 */
export async function ensureBundle({ entry, name, cacheDir = CACHE_DIR }) {
  const cached = cachedBundle(name, cacheDir);
  if (cached) return { file: cached, built: false };

  const esbuild = await import('esbuild');
  const started = Date.now();
  let result;
  try {
    result = await esbuild.build({
      ...BUNDLE_OPTIONS,
      entryPoints: [path.resolve(entry)],
      absWorkingDir: ROOT,
      outfile: path.join(cacheDir, `${name}.mjs`),
      write: false,
      metafile: true,
    });
  } finally {
    // the build service is a child process: no reason to keep it for the life of a daemon
    await esbuild.stop();
  }
  const code = result.outputFiles.find((o) => o.path.endsWith('.mjs'));
  if (!code) throw new Error('esbuild produced no bundle');
  const hash = createHash('sha256').update(code.contents).digest('hex').slice(0, 16);
  const bundleName = `${name}-${hash}.mjs`;
  const file = path.join(cacheDir, bundleName);
  fs.mkdirSync(cacheDir, { recursive: true });
  if (!fs.existsSync(file)) writeAtomically(file, code.contents);

  const finished = Date.now();
  const inputs = [...Object.keys(result.metafile.inputs), ...settingsFiles()].map((rel) => [rel, ...(statOf(rel) ?? [-1, -1])]);
  // a file saved during the build may be newer than what was bundled: keep this bundle for this run only
  const settled = inputs.every(([, mtimeMs]) => mtimeMs >= 0 && (mtimeMs < started || mtimeMs > finished));
  if (settled) writeAtomically(path.join(cacheDir, `${name}.json`), JSON.stringify({ bundle: bundleName, inputs }));
  prune(name, cacheDir, bundleName);
  return { file, built: true };
}

/** @param {string} name @param {string} cacheDir @param {string} current */
function prune(name, cacheDir, current) {
  try {
    for (const entry of fs.readdirSync(cacheDir)) {
      if (entry === current || !entry.startsWith(`${name}-`) || !/\.mjs(\.\d+\.[0-9a-f]+\.tmp)?$/.test(entry)) continue;
      const file = path.join(cacheDir, entry);
      if (Date.now() - fs.statSync(file).mtimeMs > PRUNE_AFTER_MS) fs.rmSync(file, { force: true });
    }
  } catch {
    // another process pruned first
  }
}
