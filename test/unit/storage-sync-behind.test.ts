// File→file copies start each copied file's fsync behind the copy; `flush` must wait for those syncs and
// report one that failed (a disk error at writeback), never call the copy durable without them.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Lets a test make fsync fail (EIO) or hold it, for files whose path ends with a given name.
const faults = vi.hoisted(() => ({
  failSync: '',
  holdSync: '',
  release: () => {},
  syncs: [] as string[],
  // when set, every fsync waits for it; inFlight/maxInFlight count the fsyncs under way meanwhile
  gate: undefined as Promise<void> | undefined,
  inFlight: 0,
  maxInFlight: 0,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof actual.open = async (path, ...rest) => {
    const handle = await actual.open(path, ...rest);
    const name = String(path);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      faults.syncs.push(name);
      if (faults.gate) {
        faults.maxInFlight = Math.max(faults.maxInFlight, ++faults.inFlight);
        await faults.gate;
        faults.inFlight--;
      }
      if (faults.holdSync && name.endsWith(faults.holdSync)) await new Promise<void>((resolve) => (faults.release = resolve));
      if (faults.failSync && name.endsWith(faults.failSync)) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      return sync();
    };
    return handle;
  };
  return { ...actual, open, default: { ...actual, open } };
});

const { FileStorage, StorageError, copyTree } = await import('../../daemon/storage/index.js');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'obbackup-sync-behind-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function sourceWith(dir: string, names: string[]): Promise<InstanceType<typeof FileStorage>> {
  await mkdir(join(dir, 'set'), { recursive: true });
  for (const name of names) await writeFile(join(dir, 'set', name), randomBytes(50_000));
  return new FileStorage(dir);
}

describe('syncing copied files behind the copy', () => {
  it('a failed fsync of a copied file fails the copy at its flush, naming the file', async () => {
    const source = await sourceWith(join(work, 'a', 'src'), ['one', 'two', 'three']);
    await mkdir(join(work, 'a', 'dst'));
    const target = new FileStorage(join(work, 'a', 'dst'));
    faults.failSync = '/set/two';
    const error = await copyTree(source, target).then(
      () => undefined,
      (e: unknown) => e,
    );
    faults.failSync = '';
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/^flush "set\/two" on file:\/\/.*a\/dst failed: .*EIO/);
  });

  it('flush does not return before a sync started behind the copy has finished', async () => {
    const source = await sourceWith(join(work, 'b', 'src'), ['held']);
    await mkdir(join(work, 'b', 'dst'));
    const target = new FileStorage(join(work, 'b', 'dst'));
    faults.holdSync = '/set/held';
    faults.syncs = [];
    await target.copyFrom(source, 'set/held', 'set/held', 50_000);
    let flushed = false;
    const flushing = target.flush(['set/held']).then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(flushed).toBe(false);
    faults.holdSync = '';
    faults.release();
    await flushing;
    expect(flushed).toBe(true);
    // The file was synced once (behind the copy), then its directory by the flush.
    expect(faults.syncs.filter((p) => p.endsWith('/set/held'))).toHaveLength(1);
    expect(faults.syncs.some((p) => p.endsWith(join('b', 'dst', 'set')))).toBe(true);
  });

  it('keeps two fsyncs under way behind a copy of many files, whatever the copy concurrency', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    const source = await sourceWith(join(work, 'c', 'src'), names);
    await mkdir(join(work, 'c', 'dst'));
    const target = new FileStorage(join(work, 'c', 'dst'));
    let open!: () => void;
    faults.gate = new Promise<void>((resolve) => (open = resolve));
    faults.inFlight = 0;
    faults.maxInFlight = 0;
    faults.syncs = [];
    const copying = copyTree(source, target, { concurrency: 6 });
    // All 12 files get copied while the first two syncs are held; the others wait their turn.
    await vi.waitFor(() => expect(faults.syncs.length).toBe(2), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(faults.maxInFlight).toBe(2);
    faults.gate = undefined;
    open();
    const report = await copying;
    expect(report.copied_objects).toBe(12);
    expect(faults.maxInFlight).toBe(2);
    // Each file synced once, behind the copy; the flush synced only the directory.
    for (const name of names) expect(faults.syncs.filter((p) => p.endsWith(`/set/${name}`))).toHaveLength(1);
  });
});
