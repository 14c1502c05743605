// The daemon's storages against temporary directories and a real osssim on 127.0.0.1:0.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PARTIAL_SUFFIX,
  StorageError,
  copyOneObject,
  copyTree,
  destinationUri,
  openStorage,
  redactDestinationUri,
  testStorage,
  usesPathStyle,
  type Storage,
  type StorageConfig,
  type StorageOptions,
} from '../../daemon/storage/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { xxh3Hex } from '../../daemon/storage/checksum.js';
import { xxh3 } from '@node-rs/xxhash';

const ID = 'LTAI5tStorageTestKey';
const SECRET = 'storage-test-secret-9f8e7d6c5b4a';
// Small parts so that multipart uploads happen with test-sized files (OSS minimum part: 100 KiB).
const OSS_OPTIONS: StorageOptions = { multipartThreshold: 300 * 1024, partSize: 128 * 1024 };

let sim: OssSim;
let work: string;
let source: string;
const tree = new Map<string, Buffer>();

function ossConfig(path: string, overrides: Partial<Extract<StorageConfig, { type: 'oss' }>> = {}): StorageConfig {
  return { type: 'oss', path, endpoint: sim.endpoint, access_key_id: ID, access_key_secret: SECRET, ...overrides };
}

function fileConfig(path: string): StorageConfig {
  return { type: 'file', path };
}

async function collect(storage: Storage, prefix = ''): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  for await (const object of storage.list(prefix)) out.push({ key: object.key, size: object.size });
  return out;
}

async function expectTreeInDirectory(dir: string, prefix = ''): Promise<void> {
  for (const [key, data] of tree) {
    if (!key.startsWith(prefix)) continue;
    const copy = await readFile(join(dir, key));
    expect(copy.equals(data), `${key} differs`).toBe(true);
  }
}

function expectTreeInBucket(bucket: string, keyPrefix: string, prefix = ''): void {
  for (const [key, data] of tree) {
    if (!key.startsWith(prefix)) continue;
    const stored = sim.headObject(bucket, keyPrefix + key);
    expect(stored, `${keyPrefix + key} missing`).toBeDefined();
  }
}

async function expectTreeBytesInBucket(bucket: string, keyPrefix: string, prefix = ''): Promise<void> {
  expectTreeInBucket(bucket, keyPrefix, prefix);
  for (const [key, data] of tree) {
    if (!key.startsWith(prefix)) continue;
    expect((await sim.readObject(bucket, keyPrefix + key)).equals(data), `${keyPrefix + key} differs`).toBe(true);
  }
}

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error('expected a StorageError');
}

async function leftoverPartials(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
      else if (entry.name.endsWith(PARTIAL_SUFFIX)) found.push(join(d, entry.name));
    }
  };
  await walk(dir);
  return found;
}

beforeAll(async () => {
  sim = await startOssSim({ accessKeyId: ID, accessKeySecret: SECRET, buckets: ['primary-bkt', 'secondary-bkt', 'scratch-bkt'] });
  work = await mkdtemp(join(tmpdir(), 'storage-adapters-'));
  source = join(work, 'primary');
  tree.set('backup_set_1_full/data/macro_block_1', randomBytes(700 * 1024)); // multipart on OSS: 6 parts
  tree.set('backup_set_1_full/data/macro_block_2', randomBytes(310 * 1024));
  tree.set('backup_set_1_full/meta/ls_1001/tablet_1.meta', randomBytes(10 * 1024));
  tree.set('backup_set_1_full/meta/ls_1001/tablet 2 名.meta', randomBytes(3000));
  tree.set('backup_set_1_full/empty_file', Buffer.alloc(0));
  tree.set('backup_set_1_full/format', Buffer.from('format of the backup set\n'));
  tree.set('piece_d1002r1p1/log/1', randomBytes(50 * 1024));
  for (const [key, data] of tree) {
    await mkdir(dirname(join(source, key)), { recursive: true });
    await writeFile(join(source, key), data);
  }
});

afterAll(async () => {
  await sim?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('storage test', () => {
  it('writes, reads, lists and deletes a probe in a directory and reports usage against the filesystem', async () => {
    const report = await testStorage(fileConfig(source));
    expect(report.ok).toBe(true);
    expect(report.storage).toBe(`file://${source}`);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['write', true],
      ['read', true],
      ['list', true],
      ['delete', true],
      ['usage', true],
    ]);
    const total = [...tree.values()].reduce((sum, data) => sum + data.length, 0);
    expect(report.usage!.used_bytes).toBe(total);
    expect(report.usage!.object_count).toBe(tree.size);
    const fs = await import('node:fs/promises').then((m) => m.statfs(source));
    expect(report.usage!.capacity_bytes).toBe(fs.blocks * fs.bsize);
    expect(report.usage!.available_bytes).toBeGreaterThan(0);
    expect(report.usage!.used_percent).toBeGreaterThan(0);
    expect(report.usage!.used_percent).toBeLessThan(100);
    // The probe is gone.
    expect((await readdir(source)).filter((name) => name.startsWith('.obbackup-probe'))).toEqual([]);
  });

  it('reports a missing directory instead of creating it (an unmounted share must not fill the local disk)', async () => {
    const missing = join(work, 'not-mounted');
    const report = await testStorage(fileConfig(missing));
    expect(report.ok).toBe(false);
    expect(report.error_code).toBe('not_found');
    expect(report.error).toContain(`directory ${missing} does not exist`);
    await expect(stat(missing)).rejects.toThrow();
  });

  it('tests an OSS prefix; capacity is unknown unless configured', async () => {
    const report = await testStorage(ossConfig('scratch-bkt/tests/probe'));
    expect(report.ok).toBe(true);
    expect(report.storage).toBe(`oss://scratch-bkt/tests/probe (${sim.endpoint})`);
    expect(report.usage).toEqual({ used_bytes: 0, object_count: 0, capacity_bytes: null, available_bytes: null, used_percent: null });
    expect(sim.listObjects('scratch-bkt', 'tests/probe/')).toEqual([]);
    const requests = sim.requests.filter((r) => r.key?.startsWith('tests/probe/.obbackup-probe-'));
    expect(requests.map((r) => r.operation)).toEqual(expect.arrayContaining(['PutObject', 'GetObject', 'DeleteObject']));

    await sim.createBucket('usage-bkt');
    const storage = openStorage(ossConfig('usage-bkt/set'));
    await storage.write('a', Readable.from([Buffer.alloc(250)]), 250);
    await storage.write('b/c', Readable.from([Buffer.alloc(750)]), 750);
    await storage.close();
    const configured = await testStorage(ossConfig('usage-bkt/set'), { capacityBytes: 4000 });
    expect(configured.usage).toEqual({ used_bytes: 1000, object_count: 2, capacity_bytes: 4000, available_bytes: 3000, used_percent: 25 });
  });

  it('names the failure for a wrong secret, an unknown key id, a missing bucket and an unreachable endpoint, never the secret', async () => {
    const wrongSecret = await testStorage(ossConfig('primary-bkt/x', { access_key_secret: 'the-wrong-secret-value' }));
    expect(wrongSecret.ok).toBe(false);
    expect(wrongSecret.error_code).toBe('access_denied');
    expect(wrongSecret.error).toMatch(/^write ".obbackup-probe-[0-9a-f]+" on oss:\/\/primary-bkt\/x \(http:\/\/127\.0\.0\.1:\d+\) failed: the access key secret does not match the access key id \(SignatureDoesNotMatch\)$/);
    expect(JSON.stringify(wrongSecret)).not.toContain('the-wrong-secret-value');

    const wrongId = await testStorage(ossConfig('primary-bkt/x', { access_key_id: 'LTAI5tUnknownKeyId' }));
    expect(wrongId.error_code).toBe('access_denied');
    expect(wrongId.error).toContain('does not know access key id "LTAI5tUnknownKeyId" (InvalidAccessKeyId)');
    expect(JSON.stringify(wrongId)).not.toContain(SECRET);

    const noBucket = await testStorage(ossConfig('no-such-bkt/x'));
    expect(noBucket.error_code).toBe('not_found');
    expect(noBucket.error).toContain('bucket "no-such-bkt" does not exist (NoSuchBucket)');

    const closed = await startOssSim({ accessKeyId: ID, accessKeySecret: SECRET });
    const deadEndpoint = closed.endpoint;
    await closed.stop();
    const unreachable = await testStorage(ossConfig('primary-bkt/x', { endpoint: deadEndpoint }), { requestTimeoutMs: 5000 });
    expect(unreachable.error_code).toBe('unreachable');
    expect(unreachable.error).toContain(`cannot reach ${deadEndpoint} (ECONNREFUSED)`);
    expect(JSON.stringify(unreachable)).not.toContain(SECRET);
  });
});

describe('listing and deleting', () => {
  it('lists a directory recursively in key order with sizes, whole or under a prefix', async () => {
    const storage = openStorage(fileConfig(source));
    const sorted = [...tree.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(await collect(storage)).toEqual(sorted.map((key) => ({ key, size: tree.get(key)!.length })));
    expect((await collect(storage, 'backup_set_1_full/meta/')).map((o) => o.key)).toEqual(sorted.filter((k) => k.startsWith('backup_set_1_full/meta/')));
    expect((await collect(storage, 'backup_set_1_full/data/macro_block_')).map((o) => o.key)).toEqual([
      'backup_set_1_full/data/macro_block_1',
      'backup_set_1_full/data/macro_block_2',
    ]);
    expect(await collect(storage, 'no/such/dir/')).toEqual([]);
    const object = await storage.stat('backup_set_1_full/format');
    expect(object?.size).toBe(tree.get('backup_set_1_full/format')!.length);
    expect(await storage.stat('backup_set_1_full/nothing')).toBeUndefined();
  });

  it('refuses keys that would leave the directory', async () => {
    const storage = openStorage(fileConfig(source));
    const error = await failure(storage.write('../escape', Readable.from([Buffer.from('x')]), 1));
    expect(error.code).toBe('invalid');
    expect(error.message).toContain(`write "../escape" on file://${source} failed`);
    await expect(stat(join(work, 'escape'))).rejects.toThrow();
  });

  it('deletes a prefix of a directory with the directories it leaves empty', async () => {
    const dir = join(work, 'delete-file');
    await copyTree(openStorage(fileConfig(source)), await makeDir(dir));
    const storage = openStorage(fileConfig(dir));
    const under = [...tree].filter(([key]) => key.startsWith('backup_set_1_full/'));
    const result = await storage.deletePrefix('backup_set_1_full/');
    expect(result).toEqual({ objects: under.length, bytes: under.reduce((sum, [, d]) => sum + d.length, 0) });
    expect(await readdir(dir)).toEqual(['piece_d1002r1p1']);
    expect((await collect(storage)).map((o) => o.key)).toEqual(['piece_d1002r1p1/log/1']);
  });

  it('deletes a prefix of a bucket, with multipart uploads left there', async () => {
    const storage = openStorage(ossConfig('scratch-bkt/delete-me'), OSS_OPTIONS);
    await copyTree(openStorage(fileConfig(source)), storage, { sourcePrefix: 'backup_set_1_full/' });
    // An interrupted large write leaves an upload in progress behind.
    sim.injectFault({ operation: 'UploadPart', keyPrefix: 'delete-me/stray/', kind: 'error', status: 500, code: 'InternalError', times: 10 });
    await failure(storage.write('stray/big', Readable.from([randomBytes(400 * 1024)]), 400 * 1024));
    sim.clearFaults();
    const before = sim.listObjects('scratch-bkt', 'delete-me/').length;
    expect(before).toBe([...tree.keys()].filter((k) => k.startsWith('backup_set_1_full/')).length);
    const result = await storage.deletePrefix('');
    expect(result.objects).toBe(before);
    expect(sim.listObjects('scratch-bkt', 'delete-me/')).toEqual([]);
    expect((await sim.listUploads('scratch-bkt')).filter((u) => u.key.startsWith('delete-me/'))).toEqual([]);
    await storage.close();
  });
});

async function makeDir(dir: string): Promise<Storage> {
  await mkdir(dir, { recursive: true });
  return openStorage(fileConfig(dir));
}

describe('copying a tree', () => {
  it('copies file → oss → oss → file and file → file, verified byte for byte', async () => {
    const primary = openStorage(fileConfig(source));
    const ossPrimary = openStorage(ossConfig('primary-bkt/cluster1'), OSS_OPTIONS);
    const ossSecondary = openStorage(ossConfig('secondary-bkt/dr/cluster1'), OSS_OPTIONS);
    const restored = await makeDir(join(work, 'restored'));
    const fileSecondary = await makeDir(join(work, 'file-secondary'));
    const total = [...tree.values()].reduce((sum, data) => sum + data.length, 0);

    const toOss = await copyTree(primary, ossPrimary);
    expect(toOss).toMatchObject({ total_objects: tree.size, copied_objects: tree.size, copied_bytes: total, skipped_objects: 0 });
    await expectTreeBytesInBucket('primary-bkt', 'cluster1/');
    expect(sim.headObject('primary-bkt', 'cluster1/backup_set_1_full/data/macro_block_1')?.type).toBe('Multipart');
    expect(sim.headObject('primary-bkt', 'cluster1/backup_set_1_full/data/macro_block_1')?.etag).toMatch(/-6$/);
    expect(sim.headObject('primary-bkt', 'cluster1/backup_set_1_full/format')?.type).toBe('Normal');

    const ossToOss = await copyTree(ossPrimary, ossSecondary);
    expect(ossToOss.copied_objects).toBe(tree.size);
    await expectTreeBytesInBucket('secondary-bkt', 'dr/cluster1/');

    const ossToFile = await copyTree(ossSecondary, restored);
    expect(ossToFile.copied_bytes).toBe(total);
    await expectTreeInDirectory(join(work, 'restored'));

    const written = new Map<string, string | undefined>();
    const fileToFile = await copyTree(primary, fileSecondary, { readBack: true, onObject: (o) => written.set(o.key, o.xxh3) });
    expect(fileToFile.copied_objects).toBe(tree.size);
    for (const [key, data] of tree) expect(written.get(key)).toBe(xxh3Hex(xxh3.xxh64(data)));
    await expectTreeInDirectory(join(work, 'file-secondary'));
    expect(await leftoverPartials(join(work, 'file-secondary'))).toEqual([]);

    // Copied again, everything is recognised as present: by ETag, multipart ETag, MD5 or xxh3.
    for (const [from, to] of [[primary, ossPrimary], [ossPrimary, ossSecondary], [ossSecondary, restored], [primary, fileSecondary]] as const) {
      const again = await copyTree(from, to);
      expect(again).toMatchObject({ copied_objects: 0, skipped_objects: tree.size, skipped_bytes: total });
    }
    for (const storage of [primary, ossPrimary, ossSecondary, restored, fileSecondary]) await storage.close();
  });

  it('copies a single object, skipping it when already there', async () => {
    const target = openStorage(ossConfig('scratch-bkt/single'), OSS_OPTIONS);
    const primary = openStorage(fileConfig(source));
    const key = 'backup_set_1_full/data/macro_block_2';
    const first = await copyOneObject(primary, target, key, { targetKey: 'one/block' });
    expect(first).toMatchObject({ key, size: tree.get(key)!.length, action: 'copied' });
    expect(first?.etag).toMatch(/-3$/);
    expect((await sim.readObject('scratch-bkt', 'single/one/block')).equals(tree.get(key)!)).toBe(true);
    expect(await copyOneObject(primary, target, key, { targetKey: 'one/block' })).toMatchObject({ action: 'skipped' });
    expect(await copyOneObject(primary, target, 'backup_set_1_full/absent')).toBeUndefined();
    await target.close();
  });

  it('copies one directory to another place of the target', async () => {
    const target = await makeDir(join(work, 'one-set'));
    const report = await copyTree(openStorage(fileConfig(source)), target, { sourcePrefix: 'backup_set_1_full', targetPrefix: 'copies/set_1' });
    const keys = [...tree.keys()].filter((k) => k.startsWith('backup_set_1_full/'));
    expect(report.copied_objects).toBe(keys.length);
    for (const key of keys) {
      const copy = await readFile(join(work, 'one-set', 'copies/set_1', key.slice('backup_set_1_full/'.length)));
      expect(copy.equals(tree.get(key)!)).toBe(true);
    }
  });

  it('recopies an object of the same size whose content differs', async () => {
    const dir = join(work, 'tampered');
    const target = await makeDir(dir);
    const primary = openStorage(fileConfig(source));
    await copyTree(primary, target);
    const key = 'backup_set_1_full/meta/ls_1001/tablet_1.meta';
    const altered = Buffer.from(tree.get(key)!);
    altered[100] ^= 0xff;
    await writeFile(join(dir, key), altered);
    const again = await copyTree(primary, target);
    expect(again).toMatchObject({ copied_objects: 1, skipped_objects: tree.size - 1 });
    expect((await readFile(join(dir, key))).equals(tree.get(key)!)).toBe(true);

    const oss = openStorage(ossConfig('scratch-bkt/tampered'), OSS_OPTIONS);
    await copyTree(primary, oss);
    await oss.write(key, Readable.from([altered]), altered.length);
    const ossAgain = await copyTree(primary, oss);
    expect(ossAgain).toMatchObject({ copied_objects: 1, skipped_objects: tree.size - 1 });
    expect((await sim.readObject('scratch-bkt', `tampered/${key}`)).equals(tree.get(key)!)).toBe(true);
    await oss.close();
  });

  it('resumes a copy to OSS that was cut off: finished objects are skipped, the rest completes', async () => {
    const target = openStorage(ossConfig('secondary-bkt/resume'), OSS_OPTIONS);
    // The connection to the endpoint breaks while the second large object is uploaded in parts, and the
    // upload cannot be aborted either: as after a crash, an upload in progress stays behind.
    for (const operation of ['UploadPart', 'AbortMultipartUpload']) {
      sim.injectFault({ operation, keyPrefix: 'resume/backup_set_1_full/data/macro_block_2', kind: 'reset', times: 100 });
    }
    const cut = await failure(copyTree(openStorage(fileConfig(source)), target, { concurrency: 1, retries: 1 }));
    sim.clearFaults();
    expect(cut.code).toBe('unreachable');
    expect(cut.message).toContain('backup_set_1_full/data/macro_block_2');
    expect((await sim.listUploads('secondary-bkt')).map((u) => u.key)).toContain('resume/backup_set_1_full/data/macro_block_2');
    expect(cut.message).toContain('oss://secondary-bkt/resume');
    expect(cut.message).not.toContain(SECRET);
    const copiedBefore = sim.listObjects('secondary-bkt', 'resume/').map((o) => o.key);
    expect(copiedBefore.length).toBeGreaterThan(0);
    expect(copiedBefore.length).toBeLessThan(tree.size);

    const resumed = await copyTree(openStorage(fileConfig(source)), target, { concurrency: 2 });
    expect(resumed.skipped_objects).toBe(copiedBefore.length);
    expect(resumed.copied_objects).toBe(tree.size - copiedBefore.length);
    await expectTreeBytesInBucket('secondary-bkt', 'resume/');
    expect((await sim.listUploads('secondary-bkt')).filter((u) => u.key.startsWith('resume/'))).toEqual([]);
    await target.close();
  });

  it('resumes a copy to a directory that was stopped mid-way, clearing the partial file it left', async () => {
    const dir = join(work, 'stopped');
    const target = await makeDir(dir);
    const controller = new AbortController();
    let copied = 0;
    const stopped = await failure(
      copyTree(openStorage(fileConfig(source)), target, {
        concurrency: 1,
        signal: controller.signal,
        onObject: () => {
          copied += 1;
          if (copied === 2) controller.abort();
        },
      }),
    );
    expect(stopped.code).toBe('aborted');
    // A write cut off by a crash leaves a partial file behind.
    const partial = join(dir, 'piece_d1002r1p1/log/1' + PARTIAL_SUFFIX);
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(partial, randomBytes(1000));
    expect((await collect(target)).length).toBe(2);

    // The resumed copy makes every file durable before it reports success, the two it skipped included.
    const flushed: string[] = [];
    const flush = target.flush.bind(target);
    target.flush = async (keys) => {
      flushed.push(...keys);
      return flush(keys);
    };
    const resumed = await copyTree(openStorage(fileConfig(source)), target);
    expect(resumed).toMatchObject({ skipped_objects: 2, copied_objects: tree.size - 2 });
    expect(flushed.sort()).toEqual([...tree.keys()].sort());
    await expectTreeInDirectory(dir);
    expect(await leftoverPartials(dir)).toEqual([]);
  });

  it('names the file a flush could not make durable', async () => {
    const target = await makeDir(join(work, 'flush-missing'));
    const error = await failure(target.flush(['backup_set_9/absent']));
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toMatch(/^flush "backup_set_9\/absent" on file:\/\/.*flush-missing failed: no such file or directory$/);
  });

  it('resumes a download from OSS that was truncated', async () => {
    const dir = join(work, 'truncated');
    const target = await makeDir(dir);
    const from = openStorage(ossConfig('primary-bkt/cluster1'), OSS_OPTIONS);
    sim.injectFault({ operation: 'GetObject', keyPrefix: 'cluster1/backup_set_1_full/data/macro_block_2', kind: 'truncate', times: 1 });
    const cut = await failure(copyTree(from, target, { retries: 0, concurrency: 1 }));
    expect(cut.message).toContain('backup_set_1_full/data/macro_block_2');
    await expect(stat(join(dir, 'backup_set_1_full/data/macro_block_2'))).rejects.toThrow();
    const resumed = await copyTree(from, target);
    expect(resumed.copied_objects + resumed.skipped_objects).toBe(tree.size);
    await expectTreeInDirectory(dir);
    await from.close();
  });

  it('retries an object after a transient server error', async () => {
    const target = openStorage(ossConfig('scratch-bkt/retry'), OSS_OPTIONS);
    sim.injectFault({ operation: 'PutObject', keyPrefix: 'retry/backup_set_1_full/format', kind: 'error', status: 503, code: 'ServiceUnavailable', times: 1 });
    const report = await copyTree(openStorage(fileConfig(source)), target, { sourcePrefix: 'backup_set_1_full/' });
    expect(report.copied_objects).toBe([...tree.keys()].filter((k) => k.startsWith('backup_set_1_full/')).length);
    await expectTreeBytesInBucket('scratch-bkt', 'retry/', 'backup_set_1_full/');
    await target.close();
  });

  it('fails a copy with bad credentials with a clear message and no secret', async () => {
    const target = openStorage(ossConfig('secondary-bkt/denied', { access_key_secret: 'definitely-wrong-secret' }), OSS_OPTIONS);
    const error = await failure(copyTree(openStorage(fileConfig(source)), target));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/on oss:\/\/secondary-bkt\/denied \(http:\/\/127\.0\.0\.1:\d+\) failed: the access key secret does not match the access key id \(SignatureDoesNotMatch\)/);
    expect(error.message).not.toContain('definitely-wrong-secret');
    expect(sim.listObjects('secondary-bkt', 'denied/')).toEqual([]);

    const source2 = openStorage(ossConfig('primary-bkt/cluster1', { access_key_id: 'LTAI5tNotKnown' }));
    const readError = await failure(copyTree(source2, await makeDir(join(work, 'denied-download'))));
    expect(readError.message).toContain('(InvalidAccessKeyId)');
    expect(readError.message).not.toContain(SECRET);
    await target.close();
    await source2.close();
  });
});

describe('destination URIs', () => {
  it('renders file and OSS destinations for OceanBase', () => {
    expect(destinationUri(fileConfig('/data/backup/'))).toBe('file:///data/backup');
    expect(destinationUri(fileConfig('/data/backup'), 'cluster1/tenant_1002/data')).toBe('file:///data/backup/cluster1/tenant_1002/data');
    const oss = { type: 'oss' as const, path: 'bkt/prefix/', endpoint: 'oss-cn-hangzhou.aliyuncs.com', access_key_id: 'LTAI5tId', access_key_secret: 'Se/cr+et=' };
    expect(destinationUri(oss)).toBe('oss://bkt/prefix?host=oss-cn-hangzhou.aliyuncs.com&access_id=LTAI5tId&access_key=Se/cr+et=');
    expect(destinationUri({ ...oss, path: 'bkt' }, '/archive/')).toBe('oss://bkt/archive?host=oss-cn-hangzhou.aliyuncs.com&access_id=LTAI5tId&access_key=Se/cr+et=');
  });

  it('refuses values OceanBase would split or misread instead of encoding them', () => {
    const oss = { type: 'oss' as const, path: 'bkt/p', endpoint: 'oss-cn-hangzhou.aliyuncs.com', access_key_id: 'id', access_key_secret: 'a&b' };
    expect(() => destinationUri(oss)).toThrow('access_key_secret contains "&", which an OceanBase destination URI cannot carry');
    expect(() => destinationUri({ ...oss, access_key_secret: 'ok', path: 'bkt/with space' })).toThrow('path contains whitespace');
    expect(() => destinationUri(fileConfig("/data/it's"))).toThrow('path contains "\'"');
  });

  it('addresses Alibaba Cloud endpoints by virtual host and any other endpoint by path', () => {
    expect(usesPathStyle('oss-cn-hangzhou.aliyuncs.com')).toBe(false);
    expect(usesPathStyle('https://oss-cn-shanghai-internal.aliyuncs.com')).toBe(false);
    expect(usesPathStyle(sim.endpoint)).toBe(true);
    expect(usesPathStyle('http://localhost:9000')).toBe(true);
    expect(usesPathStyle('minio.internal:9000')).toBe(true);
  });

  it('masks credentials in URIs and in text that holds them', () => {
    const uri = 'oss://bkt/p?host=h.example&access_id=LTAI5tId&access_key=TopSecretKey1';
    expect(redactDestinationUri(uri)).toBe('oss://bkt/p?host=h.example&access_id=***&access_key=***');
    const statement = `ALTER SYSTEM SET DATA_BACKUP_DEST = '${uri}' TENANT = t1`;
    expect(redactDestinationUri(statement)).toBe("ALTER SYSTEM SET DATA_BACKUP_DEST = 'oss://bkt/p?host=h.example&access_id=***&access_key=***' TENANT = t1");
    expect(redactDestinationUri('file:///data/backup')).toBe('file:///data/backup');
  });
});
