// Checksums used to verify copies: known vectors, the worker threads agreeing with the in-process path,
// and a file→file copy whose written bytes do not match the source refused without leaving a file.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Lets a test corrupt what the read-back of a written file reports, as a bad disk or a buggy copy would.
const corruption = vi.hoisted(() => ({ partial: false }));
vi.mock('../../daemon/storage/file-workers.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../daemon/storage/file-workers.js')>();
  return {
    ...actual,
    digestFile: async (path: string, algorithm: Parameters<typeof actual.digestFile>[1]) => {
      const result = await actual.digestFile(path, algorithm);
      return corruption.partial && path.endsWith('.obbackup-partial') ? { ...result, digest: result.digest.replace(/^./, (c) => (c === '0' ? '1' : '0')) } : result;
    },
  };
});

const { createChecksum } = await import('../../daemon/storage/checksum.js');
const { digestFile } = await import('../../daemon/storage/file-workers.js');
const { FileStorage, StorageError } = await import('../../daemon/storage/index.js');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'obbackup-checksum-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const hex = (algorithm: 'xxh3' | 'sha256' | 'md5', ...chunks: Buffer[]) => {
  const sum = createChecksum(algorithm);
  for (const chunk of chunks) sum.update(chunk);
  return sum.digest();
};

describe('checksums', () => {
  it('match the published vectors of xxh3-64 (seed 0), sha256 and md5', () => {
    expect(hex('xxh3')).toBe('2d06800538d394c2');
    expect(hex('sha256', Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex('md5', Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('do not depend on how the bytes are cut into chunks', () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    expect(hex('xxh3', data.subarray(0, 1), data.subarray(1, 70_001), data.subarray(70_001))).toBe(hex('xxh3', data));
  });

  it('computed by the worker threads equal the in-process ones, zero-padded to 16 digits', async () => {
    const files = await Promise.all(
      [0, 1, 240, 1024 * 1024, 2 * 1024 * 1024 + 5].map(async (size, i) => {
        const path = join(work, `f${i}`);
        const data = randomBytes(size);
        await writeFile(path, data);
        return { path, data };
      }),
    );
    for (const { path, data } of files) {
      const result = await digestFile(path, 'xxh3');
      expect(result).toEqual({ digest: hex('xxh3', data), size: data.length });
      expect(result.digest).toMatch(/^[0-9a-f]{16}$/);
      expect((await digestFile(path, 'sha256')).digest).toBe(hex('sha256', data));
    }
  });
});

describe('file → file copy', () => {
  it('refuses a copy whose written bytes differ from the source, leaving neither the file nor a partial', async () => {
    await mkdir(join(work, 'src', 'set'), { recursive: true });
    await mkdir(join(work, 'dst'), { recursive: true });
    const data = randomBytes(500_000);
    await writeFile(join(work, 'src', 'set', 'block'), data);
    const source = new FileStorage(join(work, 'src'));
    const target = new FileStorage(join(work, 'dst'));

    corruption.partial = true;
    const error = await target.copyFrom(source, 'set/block', 'set/block', data.length).then(
      () => undefined,
      (e: unknown) => e,
    );
    corruption.partial = false;
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/^write "set\/block" on file:\/\/.*dst failed: the bytes written differ from the source \(checksum mismatch\)$/);
    expect(await readdir(join(work, 'dst', 'set'))).toEqual([]);

    const receipt = await target.copyFrom(source, 'set/block', 'set/block', data.length);
    expect(receipt).toEqual({ size: data.length, xxh3: hex('xxh3', data) });
    await target.flush(['set/block']);
    expect(await readdir(join(work, 'dst', 'set'))).toEqual(['block']);
  });

  it('names the side at fault: a missing source is a read failure of the source, a blocked target a write failure of the target', async () => {
    await mkdir(join(work, 'sides', 'src', 'set'), { recursive: true });
    await mkdir(join(work, 'sides', 'dst'), { recursive: true });
    await writeFile(join(work, 'sides', 'src', 'set', 'present'), randomBytes(1000));
    const source = new FileStorage(join(work, 'sides', 'src'));
    const target = new FileStorage(join(work, 'sides', 'dst'));

    const missing = await target.copyFrom(source, 'set/absent', 'set/absent', 10).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StorageError);
    expect((missing as Error).message).toMatch(/^read "set\/absent" on file:\/\/.*sides\/src failed/);

    // A file where the target's directory should be: the copy cannot create its partial file there.
    await writeFile(join(work, 'sides', 'dst', 'set'), 'not a directory');
    const blocked = await target.copyFrom(source, 'set/present', 'set/present', 1000).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(StorageError);
    expect((blocked as Error).message).toMatch(/^write "set\/present" on file:\/\/.*sides\/dst failed/);
  });

  it('makes the target directory again when it was removed between two copies, and flush makes both durable', async () => {
    await mkdir(join(work, 'again', 'src', 'set'), { recursive: true });
    await mkdir(join(work, 'again', 'dst'), { recursive: true });
    const a = randomBytes(300_000);
    const b = randomBytes(200_000);
    await writeFile(join(work, 'again', 'src', 'set', 'a'), a);
    await writeFile(join(work, 'again', 'src', 'set', 'b'), b);
    const source = new FileStorage(join(work, 'again', 'src'));
    const target = new FileStorage(join(work, 'again', 'dst'));

    expect(await target.copyFrom(source, 'set/a', 'set/a', a.length)).toEqual({ size: a.length, xxh3: hex('xxh3', a) });
    await target.flush(['set/a']);
    await rm(join(work, 'again', 'dst', 'set'), { recursive: true });
    expect(await target.copyFrom(source, 'set/b', 'set/b', b.length)).toEqual({ size: b.length, xxh3: hex('xxh3', b) });
    await target.flush(['set/b']);
    expect(await readFile(join(work, 'again', 'dst', 'set', 'b'))).toEqual(b);
  });
});
