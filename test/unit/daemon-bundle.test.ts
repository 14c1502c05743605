// bin/bundle.js: the cached esbuild bundle obbackupd runs from, rebuilt when a source it includes changes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildErrorLine, ensureBundle } from '../../bin/bundle.js';

let dir: string;
let cacheDir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-bundle-'));
  cacheDir = path.join(dir, 'cache');
  fs.writeFileSync(path.join(dir, 'entry.ts'), "import { value } from './value.js';\nexport const answer: string = value;\n");
  fs.writeFileSync(path.join(dir, 'value.ts'), "export const value = 'first';\n");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function answerOf(file: string): Promise<string> {
  // a query string: a fresh module instance even when the same file is imported again
  return ((await import(`${pathToFileURL(file).href}?${Math.random()}`)) as { answer: string }).answer;
}

/** Rewrites a file with an mtime surely unlike the one it had (written moments ago, in the same tick). */
function edit(file: string, text: string) {
  fs.writeFileSync(file, text);
  const earlier = new Date(Date.now() - 60_000);
  fs.utimesSync(file, earlier, earlier);
}

describe('ensureBundle', () => {
  it('builds once, then serves the cached bundle while the sources are unchanged', async () => {
    const first = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    expect(first.built).toBe(true);
    expect(path.dirname(first.file)).toBe(cacheDir);
    expect(path.basename(first.file)).toMatch(/^app-[0-9a-f]{16}\.mjs$/);
    expect(await answerOf(first.file)).toBe('first');
    // every bundled source is listed with its mtime and size
    const manifest = JSON.parse(fs.readFileSync(path.join(cacheDir, 'app.json'), 'utf8')) as { bundle: string; inputs: [string, number, number][] };
    expect(manifest.bundle).toBe(path.basename(first.file));
    expect(manifest.inputs.map(([rel]) => path.basename(rel))).toEqual(expect.arrayContaining(['entry.ts', 'value.ts', 'bundle.js']));

    const again = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    expect(again).toEqual({ file: first.file, built: false });
    // no temporary file left behind
    expect(fs.readdirSync(cacheDir).sort()).toEqual(['app.json', path.basename(first.file)].sort());
  });

  it('rebuilds when an imported source changes, under a name from the new content', async () => {
    const first = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    edit(path.join(dir, 'value.ts'), "export const value = 'second';\n");
    const second = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    expect(second.built).toBe(true);
    expect(second.file).not.toBe(first.file);
    expect(await answerOf(second.file)).toBe('second');
    expect((await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir })).built).toBe(false);
  });

  it('rebuilds when a source it was built from is gone', async () => {
    fs.writeFileSync(path.join(dir, 'entry.ts'), "import { value } from './value.js';\nimport './extra.js';\nexport const answer: string = value;\n");
    fs.writeFileSync(path.join(dir, 'extra.ts'), 'export {};\n');
    await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    fs.rmSync(path.join(dir, 'extra.ts'));
    edit(path.join(dir, 'entry.ts'), "import { value } from './value.js';\nexport const answer: string = value + '!';\n");
    const rebuilt = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir });
    expect(rebuilt.built).toBe(true);
    expect(await answerOf(rebuilt.file)).toBe('first!');
  });

  it('fails on a syntax error with one line naming the file, line and column', async () => {
    fs.writeFileSync(path.join(dir, 'value.ts'), 'export const value = ;\n');
    const error = await ensureBundle({ entry: path.join(dir, 'entry.ts'), name: 'app', cacheDir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    const line = buildErrorLine(error);
    expect(line).toMatch(/value\.ts:1:21: Unexpected ";"$/);
    expect(line).not.toContain('\n');
    expect(fs.existsSync(path.join(cacheDir, 'app.json'))).toBe(false);
  });
});

describe('bin/obbackupd.js', () => {
  it('starts node with the V8 settings of daemon/heap.ts (they only take effect on the command line)', async () => {
    const { DAEMON_V8_FLAGS } = await import('../../daemon/heap.js');
    const shebang = fs.readFileSync(new URL('../../bin/obbackupd.js', import.meta.url), 'utf8').split('\n')[0]!;
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    expect(shebang.split(' ').filter((word) => word.startsWith('--'))).toEqual(DAEMON_V8_FLAGS);
  });
});
