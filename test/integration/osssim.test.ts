// ali-oss against a real osssim on 127.0.0.1:0: the endpoint's specification.
import OSS from 'ali-oss';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';

const ID = 'LTAI5tSimulatorKeyId';
const SECRET = 'simulator-secret-0123456789abcdef';

let sim: OssSim;
let workDir: string;

// @types/ali-oss lags behind ali-oss 6.23 (getObjectMeta, meta on put/copy, optional list arguments),
// so the suite drives the client untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = any;

function client(overrides: Partial<OSS.Options> = {}): Client {
  return new OSS({
    endpoint: sim.endpoint,
    accessKeyId: ID,
    accessKeySecret: SECRET,
    bucket: 'main-bucket',
    sldEnable: true,
    ...overrides,
  } as OSS.Options);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number; message: string; requestId?: string; hostId?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; status: number; message: string };
  }
  throw new Error('expected the request to fail');
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex').toUpperCase();
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'osssim-test-'));
  sim = await startOssSim({ accessKeyId: ID, accessKeySecret: SECRET, dataDir: join(workDir, 'data'), buckets: ['main-bucket'] });
});

afterAll(async () => {
  await sim?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('objects', () => {
  it('puts, gets, heads and deletes an object with its content type and user metadata', async () => {
    const oss = client();
    const body = Buffer.from('backup set 1, file 1\n');
    const put = await oss.put('objects/basic.txt', body, { meta: { origin: 'test' } });
    expect(put.res.status).toBe(200);
    expect((put.res.headers as Record<string, string>).etag).toBe(`"${md5Hex(body)}"`);

    const got = await oss.get('objects/basic.txt');
    expect(Buffer.compare(got.content as Buffer, body)).toBe(0);
    expect((got.res.headers as Record<string, string>)['content-type']).toBe('text/plain');

    const head = await oss.head('objects/basic.txt');
    expect(head.status).toBe(200);
    expect(head.meta).toEqual({ origin: 'test' });
    expect((head.res.headers as Record<string, string>)['content-length']).toBe(String(body.length));
    expect((head.res.headers as Record<string, string>)['x-oss-object-type']).toBe('Normal');

    const meta = await oss.getObjectMeta('objects/basic.txt');
    expect(meta.status).toBe(200);

    expect((await oss.delete('objects/basic.txt')).res.status).toBe(204);
    expect(sim.headObject('main-bucket', 'objects/basic.txt')).toBeUndefined();
    expect((await failure(oss.get('objects/basic.txt'))).code).toBe('NoSuchKey');
    // Deleting what is not there succeeds, as on OSS.
    expect((await oss.delete('objects/basic.txt')).res.status).toBe(204);
  });

  it('streams uploads with and without a content length, and downloads as a stream', async () => {
    const oss = client();
    const data = randomBytes(300_000);
    await oss.putStream('objects/stream-sized.bin', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
      contentLength: data.length,
    });
    await oss.putStream('objects/stream-chunked.bin', Readable.from([data.subarray(0, 7), data.subarray(7)]));
    for (const key of ['objects/stream-sized.bin', 'objects/stream-chunked.bin']) {
      expect(Buffer.compare(await sim.readObject('main-bucket', key), data)).toBe(0);
      const { stream } = await oss.getStream(key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0);
    }
  });

  it('answers byte ranges with 206 and Content-Range', async () => {
    const oss = client();
    const data = Buffer.from('0123456789');
    await oss.put('objects/range.txt', data);
    const middle = await oss.get('objects/range.txt', { headers: { Range: 'bytes=2-5' } });
    expect(middle.res.status).toBe(206);
    expect((middle.content as Buffer).toString()).toBe('2345');
    expect((middle.res.headers as Record<string, string>)['content-range']).toBe('bytes 2-5/10');
    const tail = await oss.get('objects/range.txt', { headers: { Range: 'bytes=-3' } });
    expect((tail.content as Buffer).toString()).toBe('789');
    // An unsatisfiable range gets the whole object unless strict behaviour is asked for.
    const whole = await oss.get('objects/range.txt', { headers: { Range: 'bytes=50-60' } });
    expect(whole.res.status).toBe(200);
    expect((whole.content as Buffer).toString()).toBe('0123456789');
    const strict = await failure(oss.get('objects/range.txt', { headers: { Range: 'bytes=50-60', 'x-oss-range-behavior': 'standard' } }));
    expect(strict.code).toBe('InvalidRange');
  });

  it('keeps keys byte for byte: spaces, plus, unicode, "//", "%" and folder markers', async () => {
    const oss = client();
    // ("a/../b" cannot be tested: the HTTP client resolves dot segments before sending.)
    const keys = ['keys/a b+c.txt', 'keys/数据/文件.dat', 'keys//double', 'keys/folder/', 'keys/folder/inside', 'keys/%41'];
    for (const [i, key] of keys.entries()) await oss.put(key, Buffer.from(`value ${i}`));
    for (const [i, key] of keys.entries()) expect(((await oss.get(key)).content as Buffer).toString()).toBe(`value ${i}`);
    const listed = (await oss.listV2({ prefix: 'keys/', 'max-keys': '100' }, {})).objects.map((o: { name: string }) => o.name);
    expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('rejects a body whose Content-MD5 does not match', async () => {
    const oss = client();
    const error = await failure(oss.put('objects/digest.txt', Buffer.from('abc'), { headers: { 'Content-MD5': md5Of('xyz') } }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidDigest');
    expect(sim.headObject('main-bucket', 'objects/digest.txt')).toBeUndefined();
  });

  it('copies within and across buckets, keeping or replacing metadata', async () => {
    const oss = client();
    await oss.putBucket('copy-target');
    await oss.put('objects/copy-source.txt', Buffer.from('copy me'), { meta: { a: '1' } });
    const same = await oss.copy('objects/copy-dest.txt', 'objects/copy-source.txt');
    expect(same.res.status).toBe(200);
    expect(same.data?.etag).toBe(`"${md5Hex(Buffer.from('copy me'))}"`);
    expect((await oss.head('objects/copy-dest.txt')).meta).toEqual({ a: '1' });

    await oss.copy('elsewhere/copied.txt', 'objects/copy-source.txt', 'main-bucket', { meta: { b: '2' } });
    const target = client({ bucket: 'copy-target' });
    await target.copy('from-main.txt', '/main-bucket/objects/copy-source.txt');
    expect(((await target.get('from-main.txt')).content as Buffer).toString()).toBe('copy me');

    await oss.copy('objects/copy-replaced.txt', 'objects/copy-source.txt', { meta: { b: '2' } });
    expect((await oss.head('objects/copy-replaced.txt')).meta).toEqual({ b: '2' });
    expect((await failure(oss.copy('objects/x', 'objects/no-such-source'))).code).toBe('NoSuchKey');
  });

  it('appends to an Appendable object at the right position only', async () => {
    const oss = client();
    const first = await oss.append('objects/log.txt', Buffer.from('one;'));
    expect(first.nextAppendPosition).toBe('4');
    const second = await oss.append('objects/log.txt', Buffer.from('two;'), { position: first.nextAppendPosition });
    expect(second.nextAppendPosition).toBe('8');
    expect(((await oss.get('objects/log.txt')).content as Buffer).toString()).toBe('one;two;');
    expect((await failure(oss.append('objects/log.txt', Buffer.from('x'), { position: '3' }))).code).toBe('PositionNotEqualToLength');
    await oss.put('objects/normal.txt', Buffer.from('n'));
    expect((await failure(oss.append('objects/normal.txt', Buffer.from('x'), { position: '1' }))).code).toBe('ObjectNotAppendable');
  });

  it('deletes many objects in one request', async () => {
    const oss = client();
    const keys = ['multi/a', 'multi/b', 'multi/c&d'];
    for (const key of keys) await oss.put(key, Buffer.from(key));
    const result = await oss.deleteMulti([...keys, 'multi/missing']);
    expect(result.deleted.map((d: { Key: string }) => d.Key).sort()).toEqual([...keys, 'multi/missing'].sort());
    expect(sim.listObjects('main-bucket', 'multi/')).toEqual([]);
  });

  it('serves presigned URLs and refuses them once expired', async () => {
    // ali-oss signs URLs only for a host name, not an IP address.
    const oss = client({ endpoint: sim.endpoint.replace('127.0.0.1', 'localhost') });
    await oss.put('objects/presigned.txt', Buffer.from('signed'));
    const url = oss.signatureUrl('objects/presigned.txt', { expires: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('signed');
    const expired = await fetch(url.replace(/Expires=\d+/, 'Expires=1000'));
    expect(expired.status).toBe(403); // the signature no longer matches the altered expiry
  });
});

describe('listing', () => {
  const keys = Array.from({ length: 25 }, (_, i) => `list/file-${String(i).padStart(2, '0')}`);
  const dirs = ['list/dir-a/1', 'list/dir-a/2', 'list/dir-b/1', 'list/dir-c/x/y'];

  beforeAll(async () => {
    const oss = client();
    for (const key of [...keys, ...dirs]) await oss.put(key, Buffer.from(key));
    await oss.put('other/file', Buffer.from('outside the prefix'));
  });

  it('pages v1 listings with max-keys and marker', async () => {
    const oss = client();
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await oss.list({ prefix: 'list/', 'max-keys': 7, ...(marker ? { marker } : {}) }, {});
      pages += 1;
      expect(page.objects.length).toBeLessThanOrEqual(7);
      seen.push(...page.objects.map((o: { name: string }) => o.name));
      if (!page.isTruncated) break;
      expect(page.nextMarker).toBe(page.objects.at(-1)!.name);
      marker = page.nextMarker!;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual([...dirs, ...keys].sort());
  });

  it('groups by delimiter into common prefixes that count towards max-keys', async () => {
    const oss = client();
    const first = await oss.list({ prefix: 'list/', delimiter: '/', 'max-keys': 2 }, {});
    expect(first.prefixes).toEqual(['list/dir-a/', 'list/dir-b/']);
    expect(first.objects).toEqual([]);
    expect(first.isTruncated).toBe(true);
    expect(first.nextMarker).toBe('list/dir-b/');
    const second = await oss.list({ prefix: 'list/', delimiter: '/', 'max-keys': 3, marker: first.nextMarker! }, {});
    expect(second.prefixes).toEqual(['list/dir-c/']);
    expect(second.objects.map((o: { name: string }) => o.name)).toEqual(['list/file-00', 'list/file-01']);
    const top = await oss.list({ delimiter: '/' }, {});
    expect(top.prefixes).toContain('list/');
    expect(top.prefixes).toContain('other/');
    expect(top.prefixes).toEqual([...top.prefixes!].sort());
    expect(top.objects).toEqual([]);
  });

  it('pages v2 listings with continuation tokens, start-after and key counts', async () => {
    const oss = client();
    const seen: string[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await oss.listV2({ prefix: 'list/file-', 'max-keys': '10', ...(token ? { 'continuation-token': token } : {}) }, {});
      expect(page.keyCount).toBe(page.objects.length);
      expect(page.objects[0].owner).toBeNull();
      seen.push(...page.objects.map((o: { name: string }) => o.name));
      if (!page.isTruncated) break;
      token = page.nextContinuationToken!;
      expect(token).toBeTruthy();
    }
    expect(seen).toEqual(keys);
    const after = await oss.listV2({ prefix: 'list/file-', 'start-after': 'list/file-20', 'fetch-owner': true }, {});
    expect(after.objects.map((o: { name: string }) => o.name)).toEqual(keys.slice(21));
    expect(after.objects[0].owner).not.toBeNull();
    const grouped = await oss.listV2({ prefix: 'list/', delimiter: '/', 'max-keys': '100' }, {});
    expect(grouped.prefixes).toEqual(['list/dir-a/', 'list/dir-b/', 'list/dir-c/']);
    expect(grouped.keyCount).toBe(3 + keys.length);
  });

  it('reports sizes and ETags in listings', async () => {
    const listed = await client().listV2({ prefix: 'list/file-00' }, {});
    expect(listed.objects).toHaveLength(1);
    expect(listed.objects[0].size).toBe('list/file-00'.length);
    expect(listed.objects[0].etag).toBe(`"${md5Hex(Buffer.from('list/file-00'))}"`);
    expect(listed.objects[0].type).toBe('Normal');
  });
});

describe('multipart upload', () => {
  it('uploads a file of several parts with multipartUpload and lists the parts while in progress', async () => {
    const oss = client();
    const data = randomBytes(5 * 256 * 1024 + 12_345);
    const file = join(workDir, 'multipart.bin');
    await writeFile(file, data);
    let checkpointParts = 0;
    let partsSeenWhileUploading = 0;
    const result = await oss.multipartUpload('multipart/file.bin', file, {
      partSize: 256 * 1024,
      parallel: 2,
      progress: async (_p: number, checkpoint: { uploadId: string; doneParts: unknown[] } | undefined) => {
        if (checkpoint && checkpoint.doneParts.length === 2 && partsSeenWhileUploading === 0) {
          const parts = await oss.listParts('multipart/file.bin', checkpoint.uploadId, {}, {});
          partsSeenWhileUploading = parts.parts.length;
        }
        if (checkpoint) checkpointParts = checkpoint.doneParts.length;
      },
    });
    expect(checkpointParts).toBe(6);
    expect(partsSeenWhileUploading).toBeGreaterThanOrEqual(2);
    expect(result.res.status).toBe(200);
    expect((result as { etag: string }).etag).toMatch(/^"[0-9A-F]{32}-6"$/);
    expect(Buffer.compare(await sim.readObject('main-bucket', 'multipart/file.bin'), data)).toBe(0);
    const head = await oss.head('multipart/file.bin');
    expect((head.res.headers as Record<string, string>)['x-oss-object-type']).toBe('Multipart');
    expect(await sim.listUploads('main-bucket')).toEqual([]);
  });

  it('computes the multipart ETag from the part MD5s', async () => {
    const oss = client();
    const parts = [randomBytes(110 * 1024), randomBytes(20)];
    const { uploadId } = await oss.initMultipartUpload('multipart/manual.bin');
    const done = [];
    for (const [i, part] of parts.entries()) {
      const uploaded = await oss.uploadPart('multipart/manual.bin', uploadId, i + 1, part, 0, part.length);
      expect(uploaded.etag).toBe(`"${md5Hex(part)}"`);
      done.push({ number: i + 1, etag: uploaded.etag });
    }
    const listed = await oss.listParts('multipart/manual.bin', uploadId, {}, {});
    expect(listed.parts.map((p: { PartNumber: string }) => p.PartNumber)).toEqual(['1', '2']);
    const complete = await oss.completeMultipartUpload('multipart/manual.bin', uploadId, done);
    const expected = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex').toUpperCase();
    expect(complete.etag).toBe(`"${expected}-2"`);
    expect(Buffer.compare(await sim.readObject('main-bucket', 'multipart/manual.bin'), Buffer.concat(parts))).toBe(0);
  });

  it('refuses parts below 100 KiB except the last, unknown parts and unknown uploads', async () => {
    const oss = client();
    const { uploadId } = await oss.initMultipartUpload('multipart/small.bin');
    const a = await oss.uploadPart('multipart/small.bin', uploadId, 1, Buffer.alloc(10), 0, 10);
    const b = await oss.uploadPart('multipart/small.bin', uploadId, 2, Buffer.alloc(10), 0, 10);
    expect((await failure(oss.completeMultipartUpload('multipart/small.bin', uploadId, [{ number: 1, etag: a.etag }, { number: 2, etag: b.etag }]))).code).toBe('EntityTooSmall');
    expect((await failure(oss.completeMultipartUpload('multipart/small.bin', uploadId, [{ number: 1, etag: b.etag.replace(/^"./, '"0') }]))).code).toBe('InvalidPart');
    expect((await failure(oss.completeMultipartUpload('multipart/small.bin', uploadId, [{ number: 3, etag: a.etag }]))).code).toBe('InvalidPart');
    expect((await failure(oss.completeMultipartUpload('multipart/small.bin', '0'.repeat(32), [{ number: 1, etag: a.etag }]))).code).toBe('NoSuchUpload');
  });

  it('lists and aborts uploads in progress', async () => {
    const oss = client();
    const { uploadId } = await oss.initMultipartUpload('multipart/abandoned.bin');
    await oss.uploadPart('multipart/abandoned.bin', uploadId, 1, Buffer.alloc(100), 0, 100);
    const uploads = await oss.listUploads({ prefix: 'multipart/' }, {});
    expect(uploads.uploads.map((u: { name: string; uploadId: string }) => [u.name, u.uploadId])).toContainEqual(['multipart/abandoned.bin', uploadId]);
    await oss.abortMultipartUpload('multipart/abandoned.bin', uploadId);
    expect(await sim.listUploads('main-bucket')).not.toContainEqual({ key: 'multipart/abandoned.bin', uploadId });
    expect((await failure(oss.listParts('multipart/abandoned.bin', uploadId, {}, {}))).code).toBe('NoSuchUpload');
  });

  it('copies ranges of an object into parts', async () => {
    const oss = client();
    const data = randomBytes(300 * 1024);
    await oss.put('multipart/copy-source.bin', data);
    const result = await oss.multipartUploadCopy('multipart/copy-target.bin', { sourceKey: 'multipart/copy-source.bin', sourceBucketName: 'main-bucket' }, { partSize: 100 * 1024 });
    expect(result.res.status).toBe(200);
    expect(Buffer.compare(await sim.readObject('main-bucket', 'multipart/copy-target.bin'), data)).toBe(0);
  });
});

describe('buckets', () => {
  it('creates, describes, lists and deletes buckets', async () => {
    const oss = client();
    await oss.putBucket('bucket-ops');
    expect(sim.listBuckets()).toContain('bucket-ops');
    const info = await oss.getBucketInfo('bucket-ops');
    expect(info.bucket.Name).toBe('bucket-ops');
    expect(info.bucket.Location).toBe('oss-cn-hangzhou');
    const location = await oss.getBucketLocation('bucket-ops');
    expect(location.location).toBe('oss-cn-hangzhou');
    const listed = await oss.listBuckets({});
    expect(listed.buckets.map((b: { name: string }) => b.name)).toContain('bucket-ops');

    const inBucket = client({ bucket: 'bucket-ops' });
    await inBucket.put('x', Buffer.from('12345'));
    const stat = await inBucket.getBucketStat('bucket-ops');
    expect(stat.stat.Storage).toBe('5');
    expect(stat.stat.ObjectCount).toBe('1');
    expect((await failure(oss.deleteBucket('bucket-ops'))).code).toBe('BucketNotEmpty');
    await inBucket.delete('x');
    await oss.deleteBucket('bucket-ops');
    expect(sim.listBuckets()).not.toContain('bucket-ops');
    expect((await failure(oss.getBucketInfo('bucket-ops'))).code).toBe('NoSuchBucket');
  });

  it('refuses invalid bucket names', async () => {
    // ali-oss refuses such names before sending; the endpoint refuses them too.
    await expect(sim.createBucket('ab')).rejects.toThrow(/not valid/);
    await expect(sim.createBucket('Bad_Name')).rejects.toThrow(/not valid/);
    const raw = await fetch(`${sim.endpoint}/Bad_Name`, { method: 'PUT' });
    expect(raw.status).toBe(403); // unsigned: refused before looking at the name
  });

  it('keeps objects and buckets across a restart with the same data dir', async () => {
    const dataDir = join(workDir, 'restart');
    const first = await startOssSim({ accessKeyId: ID, accessKeySecret: SECRET, dataDir, buckets: ['persist'] });
    const before = client({ endpoint: first.endpoint, bucket: 'persist' });
    await before.put('kept/one', Buffer.from('one'));
    await before.put('kept/two', Buffer.from('two'));
    await first.stop();
    const second = await startOssSim({ accessKeyId: ID, accessKeySecret: SECRET, dataDir });
    try {
      const after = client({ endpoint: second.endpoint, bucket: 'persist' });
      expect((await after.list({ prefix: 'kept/' }, {})).objects.map((o: { name: string }) => o.name)).toEqual(['kept/one', 'kept/two']);
      expect(((await after.get('kept/two')).content as Buffer).toString()).toBe('two');
    } finally {
      await second.stop();
    }
  });
});

describe('errors', () => {
  it('answers an unknown access key id with InvalidAccessKeyId', async () => {
    const error = await failure(client({ accessKeyId: 'LTAI5tNobodyHasThisKey' }).get('anything'));
    expect(error.status).toBe(403);
    expect(error.code).toBe('InvalidAccessKeyId');
    expect(error.message).toBe('The OSS Access Key Id you provided does not exist in our records.');
    expect(error.requestId).toMatch(/^[0-9A-F]{24}$/);
    expect(error.hostId).toBeTruthy();
  });

  it('answers a wrong secret with SignatureDoesNotMatch, on writes, reads and HEAD', async () => {
    const bad = client({ accessKeySecret: 'not-the-secret' });
    for (const attempt of [bad.put('objects/denied.txt', Buffer.from('x')), bad.get('objects/range.txt'), bad.list({}, {})]) {
      const error = await failure(attempt);
      expect(error.status).toBe(403);
      expect(error.code).toBe('SignatureDoesNotMatch');
    }
    const head = await failure(bad.head('objects/range.txt'));
    expect(head.status).toBe(403);
    expect(head.code).toBe('SignatureDoesNotMatch');
    expect(sim.headObject('main-bucket', 'objects/denied.txt')).toBeUndefined();
  });

  it('answers a missing bucket with NoSuchBucket and a missing key with NoSuchKey, also on HEAD', async () => {
    const noBucket = client({ bucket: 'no-such-bucket' });
    const listError = await failure(noBucket.list({}, {}));
    expect(listError.status).toBe(404);
    expect(listError.code).toBe('NoSuchBucket');
    expect((await failure(noBucket.put('k', Buffer.from('x')))).code).toBe('NoSuchBucket');
    // HEAD answers have no body: ali-oss reports any 404 as NoSuchKey; the code travels in x-oss-err.
    expect((await failure(noBucket.head('k'))).status).toBe(404);
    const noKey = await failure(client().get('objects/never-written'));
    expect(noKey.status).toBe(404);
    expect(noKey.code).toBe('NoSuchKey');
    expect((await failure(client().head('objects/never-written'))).code).toBe('NoSuchKey');
  });

  it('writes the OSS XML error document with RequestId and HostId', async () => {
    const response = await fetch(`${sim.endpoint}/main-bucket/objects/never-written`);
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toMatch(/<RequestId>[0-9A-F]{24}<\/RequestId>/);
    expect(body).toContain('<HostId>');
    expect(response.headers.get('x-oss-request-id')).toMatch(/^[0-9A-F]{24}$/);
    const head = await fetch(`${sim.endpoint}/main-bucket/objects/never-written`, { method: 'HEAD' });
    expect(head.status).toBe(403);
    expect(Buffer.from(head.headers.get('x-oss-err')!, 'base64').toString()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses requests signed too far from the current time', async () => {
    const skewed = client({ amendTimeSkewed: 60 * 60 * 1000 } as Partial<OSS.Options>);
    const error = await failure(skewed.get('objects/range.txt'));
    expect(error.code).toBe('RequestTimeTooSkewed');
  });
});

describe('fault injection', () => {
  it('drops the connection or answers an error for the next matching request', async () => {
    const oss = client();
    await oss.put('faults/a', Buffer.from('a'));
    sim.injectFault({ operation: 'GetObject', keyPrefix: 'faults/', kind: 'reset' });
    const dropped = await failure(oss.get('faults/a'));
    expect(dropped.status).toBe(-1);
    expect(((await oss.get('faults/a')).content as Buffer).toString()).toBe('a');
    sim.injectFault({ operation: 'PutObject', kind: 'error', status: 500, code: 'InternalError', times: 2 });
    expect((await failure(oss.put('faults/b', Buffer.from('b')))).code).toBe('InternalError');
    expect((await failure(oss.put('faults/b', Buffer.from('b')))).status).toBe(500);
    expect((await oss.put('faults/b', Buffer.from('b'))).res.status).toBe(200);
  });

  it('truncates a download halfway', async () => {
    const oss = client();
    const data = randomBytes(4 * 1024 * 1024);
    await oss.put('faults/big', data);
    sim.injectFault({ operation: 'GetObject', keyPrefix: 'faults/big', kind: 'truncate' });
    const { stream } = await oss.getStream('faults/big');
    let received = 0;
    const outcome = await new Promise<string>((resolve) => {
      stream.on('data', (chunk: Buffer) => (received += chunk.length));
      stream.on('end', () => resolve('end'));
      stream.on('error', () => resolve('error'));
      stream.on('close', () => resolve('close'));
    });
    expect(outcome).not.toBe('end');
    expect(received).toBeLessThan(data.length);
  });
});

describe('executable', () => {
  it('starts from the command line, serves requests and stops on SIGTERM', async () => {
    const dataDir = join(workDir, 'cli');
    const child = spawn(process.execPath, ['bin/osssim.js', '--port', '0', '--data-dir', dataDir, '--access-key-id', ID, '--buckets', 'cli-bucket'], {
      env: { ...process.env, OSSSIM_ACCESS_KEY_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`osssim exited with ${code}`)));
      });
      expect(line).not.toContain(SECRET);
      const endpoint = /listening on (http:\/\/\S+)/.exec(line)![1];
      const oss = client({ endpoint, bucket: 'cli-bucket' });
      await oss.put('hello.txt', Buffer.from('from the executable'));
      expect(((await oss.get('hello.txt')).content as Buffer).toString()).toBe('from the executable');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('exits with a usage error when no secret is given', async () => {
    const env = { ...process.env };
    delete env.OSSSIM_ACCESS_KEY_SECRET;
    const child = spawn(process.execPath, ['bin/osssim.js', '--port', '0', '--access-key-id', ID], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('an access key secret is required');
  });
});

function md5Of(text: string): string {
  return createHash('md5').update(text).digest('base64');
}
