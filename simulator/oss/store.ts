// On-disk object store behind osssim.
//
// Layout under the data dir (keys are hashed into file names, so any OSS key is storable, including
// "a/b" next to "a/b/c" and folder markers ending in "/"):
//   <bucket>/bucket.json                          bucket name and creation time
//   <bucket>/objects/<hh>/<sha256(key)>.json      object metadata (key, size, etag, type, content type, meta)
//   <bucket>/objects/<hh>/<sha256(key)>.<nonce>   object bytes (a new file per write; metadata names it)
//   <bucket>/uploads/<uploadId>/upload.json       multipart upload in progress, its parts in part-<n>(.json)
//   .tmp/                                         bytes being received (emptied at start)
// An in-memory index, rebuilt from the metadata files at start, answers listings in key order.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OssError, ossErrors } from './errors.js';

export type ObjectType = 'Normal' | 'Multipart' | 'Appendable';

export interface ObjectMeta {
  key: string;
  size: number;
  /** Upper-case hex MD5 for Normal and Appendable objects; MD5 of the part MD5s plus "-N" for Multipart. */
  etag: string;
  type: ObjectType;
  lastModified: number;
  contentType: string;
  userMeta: Record<string, string>;
  dataFile: string;
}

export interface BucketInfo {
  name: string;
  createdAt: number;
}

interface BucketState {
  info: BucketInfo;
  keys: string[];
  objects: Map<string, ObjectMeta>;
}

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  contentType: string;
  userMeta: Record<string, string>;
}

export interface PartInfo {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: number;
}

export interface ListOptions {
  prefix: string;
  delimiter: string;
  /** Only keys strictly after this one. */
  after: string;
  maxKeys: number;
}

export interface ListResult {
  objects: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, to continue from when truncated. */
  last: string | undefined;
}

export interface WriteOptions {
  contentType: string;
  userMeta: Record<string, string>;
  /** Base64 Content-MD5 the client sent, checked against what arrives. */
  contentMd5?: string;
  /** Content-Length the client announced, checked against what arrives. */
  contentLength?: number;
}

/** OSS minimum size of every part but the last. */
export const MIN_PART_SIZE = 100 * 1024;

/** Orders keys as OSS does: by UTF-8 bytes (= code points), which differs from UTF-16 order above U+D7FF. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return codePointRank(ca) - codePointRank(cb);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Index of the first key that is not before `probe`. */
function lowerBound(keys: string[], probe: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key after `probe`. */
function upperBound(keys: string[], probe: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], probe) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
}

export function isValidObjectKey(key: string): boolean {
  const bytes = Buffer.byteLength(key, 'utf8');
  return bytes >= 1 && bytes <= 1023 && !key.startsWith('/') && !key.startsWith('\\');
}

function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function nonce(): string {
  return randomBytes(8).toString('hex');
}

/** Writes a small file so that readers see either the old or the new content. */
async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${nonce()}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/** Appends a file's bytes to an open stream, minding backpressure. */
async function appendFile(out: WriteStream, path: string, observe?: (chunk: Buffer) => void): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    observe?.(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

async function finish(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** Counts bytes and MD5 of a stream on its way to a file. */
async function receive(body: Readable, target: string): Promise<{ size: number; md5: Buffer }> {
  const hash = createHash('md5');
  let size = 0;
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  await pipeline(body, createWriteStream(target));
  return { size, md5: hash.digest() };
}

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly tmpDir: string;

  private constructor(readonly root: string) {
    this.tmpDir = join(root, '.tmp');
  }

  static async open(root: string): Promise<ObjectStore> {
    const store = new ObjectStore(root);
    await mkdir(root, { recursive: true });
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || !isValidBucketName(entry.name)) continue;
      let info: BucketInfo;
      try {
        info = JSON.parse(await readFile(join(this.root, entry.name, 'bucket.json'), 'utf8')) as BucketInfo;
      } catch {
        continue; // not a bucket directory
      }
      const state: BucketState = { info, keys: [], objects: new Map() };
      const objectsDir = join(this.root, entry.name, 'objects');
      const shards = await readdir(objectsDir).catch(() => [] as string[]);
      for (const shard of shards) {
        for (const file of await readdir(join(objectsDir, shard))) {
          if (!file.endsWith('.json')) continue;
          const meta = JSON.parse(await readFile(join(objectsDir, shard, file), 'utf8')) as ObjectMeta;
          state.objects.set(meta.key, meta);
        }
      }
      state.keys = [...state.objects.keys()].sort(compareKeys);
      this.buckets.set(info.name, state);
    }
  }

  // ---- buckets -------------------------------------------------------------------------------

  async createBucket(name: string): Promise<BucketInfo> {
    if (!isValidBucketName(name)) throw ossErrors.invalidBucketName(name);
    const existing = this.buckets.get(name);
    if (existing) return existing.info;
    const info: BucketInfo = { name, createdAt: Date.now() };
    await mkdir(join(this.root, name, 'objects'), { recursive: true });
    await mkdir(join(this.root, name, 'uploads'), { recursive: true });
    await writeFileAtomic(join(this.root, name, 'bucket.json'), JSON.stringify(info));
    this.buckets.set(name, { info, keys: [], objects: new Map() });
    return info;
  }

  async deleteBucket(name: string): Promise<void> {
    const state = this.bucket(name);
    if (state.keys.length > 0) throw ossErrors.bucketNotEmpty(name);
    const uploads = await readdir(join(this.root, name, 'uploads')).catch(() => []);
    if (uploads.length > 0) throw ossErrors.bucketNotEmpty(name);
    this.buckets.delete(name);
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  listBuckets(): BucketInfo[] {
    return [...this.buckets.values()].map((b) => b.info).sort((a, b) => compareKeys(a.name, b.name));
  }

  bucketInfo(name: string): BucketInfo {
    return this.bucket(name).info;
  }

  bucketStat(name: string): { objectCount: number; storage: number } {
    const state = this.bucket(name);
    let storage = 0;
    for (const meta of state.objects.values()) storage += meta.size;
    return { objectCount: state.objects.size, storage };
  }

  private bucket(name: string): BucketState {
    const state = this.buckets.get(name);
    if (!state) throw ossErrors.noSuchBucket(name);
    return state;
  }

  // ---- objects -------------------------------------------------------------------------------

  private objectBase(bucket: string, key: string): { dir: string; hash: string } {
    const hash = keyHash(key);
    return { dir: join(this.root, bucket, 'objects', hash.slice(0, 2)), hash };
  }

  dataPath(bucket: string, meta: ObjectMeta): string {
    return join(this.objectBase(bucket, meta.key).dir, meta.dataFile);
  }

  head(bucket: string, key: string): ObjectMeta {
    const meta = this.bucket(bucket).objects.get(key);
    if (!meta) throw ossErrors.noSuchKey(key);
    return meta;
  }

  /** A stream of the object's bytes, `end` inclusive. */
  read(bucket: string, meta: ObjectMeta, start?: number, end?: number): Readable {
    return createReadStream(this.dataPath(bucket, meta), { start, end, highWaterMark: 1024 * 1024 });
  }

  private tmpFile(): string {
    return join(this.tmpDir, nonce());
  }

  /** Receives a body into a temporary file and checks it against Content-Length and Content-MD5. */
  private async receiveChecked(body: Readable, options: WriteOptions): Promise<{ tmp: string; size: number; md5: Buffer }> {
    const tmp = this.tmpFile();
    try {
      const { size, md5 } = await receive(body, tmp);
      if (options.contentLength !== undefined && size !== options.contentLength) throw ossErrors.incompleteBody();
      if (options.contentMd5 !== undefined) {
        const expected = Buffer.from(options.contentMd5, 'base64');
        if (expected.length !== 16) throw ossErrors.invalidDigest();
        if (!expected.equals(md5)) throw ossErrors.badDigest(options.contentMd5, md5.toString('base64'));
      }
      return { tmp, size, md5 };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async put(bucket: string, key: string, body: Readable, options: WriteOptions): Promise<ObjectMeta> {
    this.bucket(bucket);
    const { tmp, size, md5 } = await this.receiveChecked(body, options);
    return this.commit(bucket, key, tmp, {
      size,
      etag: md5.toString('hex').toUpperCase(),
      type: 'Normal',
      contentType: options.contentType,
      userMeta: options.userMeta,
    });
  }

  /** AppendObject: `position` must equal the current length; creates an Appendable object at position 0. */
  async append(bucket: string, key: string, position: number, body: Readable, options: WriteOptions): Promise<ObjectMeta> {
    const state = this.bucket(bucket);
    const existing = state.objects.get(key);
    if (existing && existing.type !== 'Appendable') throw ossErrors.objectNotAppendable();
    const currentLength = existing?.size ?? 0;
    if (position !== currentLength) throw ossErrors.positionNotEqualToLength(currentLength);
    const { tmp } = await this.receiveChecked(body, options);
    const combined = this.tmpFile();
    try {
      const hash = createHash('md5');
      const out = createWriteStream(combined);
      const sources = existing ? [this.dataPath(bucket, existing), tmp] : [tmp];
      let size = 0;
      for (const source of sources) {
        await appendFile(out, source, (chunk) => {
          hash.update(chunk);
          size += chunk.length;
        });
      }
      await finish(out);
      return await this.commit(bucket, key, combined, {
        size,
        etag: hash.digest('hex').toUpperCase(),
        type: 'Appendable',
        contentType: existing?.contentType ?? options.contentType,
        userMeta: existing?.userMeta ?? options.userMeta,
      });
    } finally {
      await rm(tmp, { force: true });
      await rm(combined, { force: true });
    }
  }

  async copy(
    sourceBucket: string,
    sourceKey: string,
    bucket: string,
    key: string,
    replace: { contentType: string; userMeta: Record<string, string> } | undefined,
  ): Promise<ObjectMeta> {
    const source = this.head(sourceBucket, sourceKey);
    this.bucket(bucket);
    const tmp = this.tmpFile();
    await pipeline(this.read(sourceBucket, source), createWriteStream(tmp));
    return this.commit(bucket, key, tmp, {
      size: source.size,
      etag: source.etag,
      type: source.type,
      contentType: replace?.contentType ?? source.contentType,
      userMeta: replace?.userMeta ?? source.userMeta,
    });
  }

  /** Moves a received file into place and publishes its metadata; the previous version's bytes are removed. */
  private async commit(
    bucket: string,
    key: string,
    tmp: string,
    fields: Omit<ObjectMeta, 'key' | 'dataFile' | 'lastModified'>,
  ): Promise<ObjectMeta> {
    const state = this.bucket(bucket);
    const { dir, hash } = this.objectBase(bucket, key);
    await mkdir(dir, { recursive: true });
    const meta: ObjectMeta = { key, ...fields, lastModified: Date.now(), dataFile: `${hash}.${nonce()}` };
    await rename(tmp, join(dir, meta.dataFile));
    await writeFileAtomic(join(dir, `${hash}.json`), JSON.stringify(meta));
    const previous = state.objects.get(key);
    state.objects.set(key, meta);
    if (previous) {
      // Readers that already opened the old file keep reading it; the name goes now.
      await unlink(join(dir, previous.dataFile)).catch(() => undefined);
    } else {
      state.keys.splice(lowerBound(state.keys, key), 0, key);
    }
    return meta;
  }

  /** Deletes an object; deleting a missing key succeeds, as on OSS. */
  async delete(bucket: string, key: string): Promise<boolean> {
    const state = this.bucket(bucket);
    const meta = state.objects.get(key);
    if (!meta) return false;
    state.objects.delete(key);
    const index = lowerBound(state.keys, key);
    if (state.keys[index] === key) state.keys.splice(index, 1);
    const { dir, hash } = this.objectBase(bucket, key);
    await rm(join(dir, `${hash}.json`), { force: true });
    await rm(join(dir, meta.dataFile), { force: true });
    return true;
  }

  list(bucket: string, options: ListOptions): ListResult {
    const { keys, objects: metas } = this.bucket(bucket);
    const { prefix, delimiter, after, maxKeys } = options;
    const objects: ObjectMeta[] = [];
    const commonPrefixes: string[] = [];
    let last: string | undefined;
    let i = compareKeys(after, prefix) >= 0 ? upperBound(keys, after) : lowerBound(keys, prefix);
    while (i < keys.length) {
      const key = keys[i];
      if (!key.startsWith(prefix)) break;
      if (objects.length + commonPrefixes.length >= maxKeys) return { objects, commonPrefixes, isTruncated: true, last };
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        if (compareKeys(common, after) > 0) {
          commonPrefixes.push(common);
          last = common;
        }
        // Skip every key under this common prefix.
        i = lowerBound(keys, common + '\u{10FFFF}');
        continue;
      }
      objects.push(metas.get(key)!);
      last = key;
      i++;
    }
    return { objects, commonPrefixes, isTruncated: false, last };
  }

  // ---- multipart -----------------------------------------------------------------------------

  private uploadDir(bucket: string, uploadId: string): string {
    return join(this.root, bucket, 'uploads', uploadId);
  }

  async initiateUpload(bucket: string, key: string, contentType: string, userMeta: Record<string, string>): Promise<UploadInfo> {
    this.bucket(bucket);
    const upload: UploadInfo = {
      uploadId: randomBytes(16).toString('hex').toUpperCase(),
      bucket,
      key,
      initiated: Date.now(),
      contentType,
      userMeta,
    };
    await mkdir(this.uploadDir(bucket, upload.uploadId), { recursive: true });
    await writeFileAtomic(join(this.uploadDir(bucket, upload.uploadId), 'upload.json'), JSON.stringify(upload));
    return upload;
  }

  async upload(bucket: string, key: string, uploadId: string): Promise<UploadInfo> {
    this.bucket(bucket);
    if (!/^[0-9A-F]{32}$/.test(uploadId)) throw ossErrors.noSuchUpload(uploadId);
    try {
      const upload = JSON.parse(await readFile(join(this.uploadDir(bucket, uploadId), 'upload.json'), 'utf8')) as UploadInfo;
      if (upload.key !== key) throw ossErrors.noSuchUpload(uploadId);
      return upload;
    } catch (error) {
      if (error instanceof OssError) throw error;
      throw ossErrors.noSuchUpload(uploadId);
    }
  }

  async listUploads(bucket: string, prefix: string): Promise<UploadInfo[]> {
    this.bucket(bucket);
    const ids = await readdir(join(this.root, bucket, 'uploads')).catch(() => [] as string[]);
    const uploads: UploadInfo[] = [];
    for (const id of ids) {
      try {
        const upload = JSON.parse(await readFile(join(this.uploadDir(bucket, id), 'upload.json'), 'utf8')) as UploadInfo;
        if (upload.key.startsWith(prefix)) uploads.push(upload);
      } catch {
        // an upload being aborted right now
      }
    }
    return uploads.sort((a, b) => compareKeys(a.key, b.key) || a.initiated - b.initiated);
  }

  async putPart(upload: UploadInfo, partNumber: number, body: Readable, options: WriteOptions): Promise<PartInfo> {
    const { tmp, size, md5 } = await this.receiveChecked(body, options);
    return this.commitPart(upload, partNumber, tmp, size, md5.toString('hex').toUpperCase());
  }

  async copyPart(upload: UploadInfo, partNumber: number, sourceBucket: string, sourceKey: string, range?: [number, number]): Promise<PartInfo> {
    const source = this.head(sourceBucket, sourceKey);
    const tmp = this.tmpFile();
    const hash = createHash('md5');
    const input = range ? this.read(sourceBucket, source, range[0], range[1]) : this.read(sourceBucket, source);
    let size = 0;
    input.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    await pipeline(input, createWriteStream(tmp));
    return this.commitPart(upload, partNumber, tmp, size, hash.digest('hex').toUpperCase());
  }

  private async commitPart(upload: UploadInfo, partNumber: number, tmp: string, size: number, etag: string): Promise<PartInfo> {
    const dir = this.uploadDir(upload.bucket, upload.uploadId);
    const part: PartInfo = { partNumber, size, etag, lastModified: Date.now() };
    try {
      await rename(tmp, join(dir, `part-${partNumber}`));
      await writeFileAtomic(join(dir, `part-${partNumber}.json`), JSON.stringify(part));
    } catch {
      await rm(tmp, { force: true });
      throw ossErrors.noSuchUpload(upload.uploadId); // aborted while the part was arriving
    }
    return part;
  }

  async listParts(upload: UploadInfo): Promise<PartInfo[]> {
    const dir = this.uploadDir(upload.bucket, upload.uploadId);
    const parts: PartInfo[] = [];
    for (const file of await readdir(dir)) {
      if (!/^part-\d+\.json$/.test(file)) continue;
      parts.push(JSON.parse(await readFile(join(dir, file), 'utf8')) as PartInfo);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeUpload(upload: UploadInfo, requested: { partNumber: number; etag: string }[]): Promise<ObjectMeta> {
    const available = new Map((await this.listParts(upload)).map((p) => [p.partNumber, p]));
    const chosen: PartInfo[] = [];
    for (const [index, item] of requested.entries()) {
      if (index > 0 && item.partNumber <= requested[index - 1].partNumber) throw ossErrors.invalidPartOrder();
      const part = available.get(item.partNumber);
      if (!part || part.etag !== item.etag.replace(/"/g, '').toUpperCase()) throw ossErrors.invalidPart(item.partNumber);
      chosen.push(part);
    }
    if (chosen.length === 0) throw ossErrors.malformedXml();
    for (const part of chosen.slice(0, -1)) {
      if (part.size < MIN_PART_SIZE) throw ossErrors.entityTooSmall(part.partNumber);
    }
    const dir = this.uploadDir(upload.bucket, upload.uploadId);
    const tmp = this.tmpFile();
    const out = createWriteStream(tmp);
    for (const part of chosen) await appendFile(out, join(dir, `part-${part.partNumber}`));
    await finish(out);
    const etagOfEtags = createHash('md5');
    for (const part of chosen) etagOfEtags.update(Buffer.from(part.etag, 'hex'));
    const meta = await this.commit(upload.bucket, upload.key, tmp, {
      size: chosen.reduce((total, part) => total + part.size, 0),
      etag: `${etagOfEtags.digest('hex').toUpperCase()}-${chosen.length}`,
      type: 'Multipart',
      contentType: upload.contentType,
      userMeta: upload.userMeta,
    });
    await rm(dir, { recursive: true, force: true });
    return meta;
  }

  async abortUpload(upload: UploadInfo): Promise<void> {
    await rm(this.uploadDir(upload.bucket, upload.uploadId), { recursive: true, force: true });
  }
}
