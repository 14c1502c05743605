// OSS storage through ali-oss: `bucket/prefix` at an endpoint, signed with an AccessKey pair.
import OSS from 'ali-oss';
import { createHash } from 'node:crypto';
import { createChecksum } from './checksum.js';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { StorageError, type StorageErrorCode, type StorageField } from './errors.js';
import { asDirectory, tally } from './keys.js';
import type { DigestAlgorithm, OssObjectType, Storage, StorageOptions, StorageUsage, StoredObject, WriteReceipt } from './types.js';
import { splitOssPath } from './uri.js';

export const MIN_PART_SIZE = 100 * 1024;
const MAX_PARTS = 10_000;
const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024;

type OssConfig = { path: string; endpoint: string; access_key_id: string; access_key_secret: string };

interface ListedObject {
  name: string;
  size: number;
  etag: string;
  type?: string;
  lastModified?: string;
}

/** The part of ali-oss used here, typed as ali-oss 6.23 behaves (its published typings lag behind). */
interface OssClient {
  listV2(
    query: Record<string, string>,
    options: Record<string, unknown>,
  ): Promise<{ objects?: ListedObject[]; isTruncated: boolean; nextContinuationToken: string | null }>;
  getStream(name: string, options?: Record<string, unknown>): Promise<{ stream: Readable; res: { status: number } }>;
  putStream(name: string, stream: Readable, options: Record<string, unknown>): Promise<{ res: { headers: Record<string, string> } }>;
  delete(name: string): Promise<unknown>;
  deleteMulti(names: string[], options: Record<string, unknown>): Promise<unknown>;
  initMultipartUpload(name: string, options?: Record<string, unknown>): Promise<{ uploadId: string }>;
  uploadPart(name: string, uploadId: string, partNumber: number, file: Readable, start: number, end: number): Promise<{ etag: string }>;
  completeMultipartUpload(name: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ etag?: string }>;
  abortMultipartUpload(name: string, uploadId: string): Promise<unknown>;
  listUploads(query: Record<string, string>, options: Record<string, unknown>): Promise<{
    uploads?: { name: string; uploadId: string }[];
    isTruncated?: boolean;
    nextKeyMarker?: string;
    nextUploadIdMarker?: string;
  }>;
}

/**
 * urllib 2, ali-oss's HTTP client, ends a request whose body is a stream twice when the connection fails
 * before any response (pump's callback and the request's own 'error' listener both end it), and reports the
 * second end on stderr through console.warn, stack trace included. The caller already has the error (a
 * StorageError here), so exactly those two lines of urllib are dropped; every other warning passes.
 */
const URLLIB_SECOND_END = new Set([
  '[urllib:warn] [%s] [%s] [worker:%s] %s %s callback twice!!!',
  '[urllib:warn] [%s] [%s] [worker:%s] %s: %s\nstack: %s',
]);
let urllibQuiet = false;

function quietUrllibSecondEnd(): void {
  if (urllibQuiet) return;
  urllibQuiet = true;
  const warn = console.warn;
  console.warn = function (this: Console, ...args: unknown[]) {
    if (typeof args[0] === 'string' && URLLIB_SECOND_END.has(args[0])) return;
    warn.apply(this, args);
  };
}

/**
 * Alibaba Cloud endpoints (`*.aliyuncs.com`) are addressed virtual-host style (`bucket.endpoint`), as OSS
 * requires; any other endpoint (an IP, localhost, an OSS-compatible service) path-style (`endpoint/bucket`).
 */
export function usesPathStyle(endpoint: string): boolean {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  let host: string;
  try {
    host = new URL(withScheme).hostname;
  } catch {
    return true;
  }
  return !/(^|\.)aliyuncs\.com$/i.test(host);
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/"/g, '').toUpperCase();
}

/** ETag of a multipart object whose parts had these MD5s: MD5 of the concatenated binary MD5s, "-N". */
export function multipartEtag(partMd5s: Buffer[]): string {
  return `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex').toUpperCase()}-${partMd5s.length}`;
}

/** The part size used for an object of `size` bytes: the configured one, raised to stay within 10,000 parts. */
export function partSizeFor(size: number, configured = DEFAULT_PART_SIZE): number {
  return Math.max(configured, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
}

export class OssStorage implements Storage {
  readonly type = 'oss' as const;
  readonly label: string;
  readonly bucket: string;
  /** Key prefix of the storage root inside the bucket: '' or 'dir/sub/'. */
  readonly rootPrefix: string;
  private readonly client: OssClient;
  private readonly secrets: string[];
  private readonly agent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  /** Part size used for multipart uploads (before raising it for very large objects). */
  readonly partSizeSetting: number;
  private readonly multipartThreshold: number;

  constructor(
    private readonly config: OssConfig,
    private readonly options: StorageOptions = {},
  ) {
    const { bucket, prefix } = splitOssPath(config.path);
    this.bucket = bucket;
    this.rootPrefix = asDirectory(prefix);
    this.label = `oss://${bucket}${prefix ? `/${prefix}` : ''} (${config.endpoint})`;
    this.secrets = [config.access_key_secret];
    this.partSizeSetting = partSizeFor(0, options.partSize ?? DEFAULT_PART_SIZE);
    this.multipartThreshold = Math.max(options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD, this.partSizeSetting);
    quietUrllibSecondEnd();
    this.agent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
    const clientOptions = {
      endpoint: config.endpoint,
      bucket,
      accessKeyId: config.access_key_id,
      accessKeySecret: config.access_key_secret,
      secure: /^https:\/\//i.test(config.endpoint),
      sldEnable: usesPathStyle(config.endpoint),
      timeout: options.requestTimeoutMs ?? 120_000,
      agent: this.agent,
      httpsAgent: this.httpsAgent,
    };
    try {
      this.client = new OSS(clientOptions as unknown as OSS.Options) as unknown as OssClient;
    } catch (error) {
      const invalid = new StorageError('invalid', this.label, 'open', undefined, (error as Error).message, this.secrets);
      invalid.field = 'endpoint';
      throw invalid;
    }
  }

  private name(key: string): string {
    return this.rootPrefix + key;
  }

  private keyOf(name: string): string {
    return name.slice(this.rootPrefix.length);
  }

  /** Turns an ali-oss failure into a message that says what went wrong, without the secret. */
  private error(operation: string, key: string | undefined, error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    const err = error as { code?: string; status?: number; name?: string; message?: string };
    let code: StorageErrorCode = 'failed';
    let reason: string;
    let field: StorageField | undefined;
    switch (err.code) {
      case 'InvalidAccessKeyId':
        code = 'access_denied';
        field = 'access_key_id';
        reason = `the endpoint does not know access key id "${this.config.access_key_id}" (InvalidAccessKeyId)`;
        break;
      case 'SignatureDoesNotMatch':
        code = 'access_denied';
        field = 'access_key_secret';
        reason = 'the access key secret does not match the access key id (SignatureDoesNotMatch)';
        break;
      case 'AccessDenied':
        code = 'access_denied';
        // the key exists but may not use this bucket or prefix
        field = 'access_key_id';
        reason = `access denied (AccessDenied: ${err.message ?? ''})`;
        break;
      case 'RequestTimeTooSkewed':
        code = 'access_denied';
        reason = "this machine's clock is more than 15 minutes off the endpoint's (RequestTimeTooSkewed)";
        break;
      case 'NoSuchBucket':
        code = 'not_found';
        field = 'path';
        reason = `bucket "${this.bucket}" does not exist (NoSuchBucket)`;
        break;
      case 'NoSuchKey':
        code = 'not_found';
        reason = 'no such object (NoSuchKey)';
        break;
      default: {
        const message = err.message ?? String(error);
        if (err.status === -1 || err.status === -2 || /Timeout|RequestError|ConnectionError/.test(err.name ?? '')) {
          code = 'unreachable';
          field = 'endpoint';
          const cause = /\b(E[A-Z]{3,})\b/.exec(message)?.[1] ?? err.name ?? 'network error';
          reason = `cannot reach ${this.config.endpoint} (${cause})`;
        } else {
          reason = err.code ? `${err.code}${err.status ? ` (HTTP ${err.status})` : ''}: ${message}` : message;
        }
      }
    }
    const failure = new StorageError(code, this.label, operation, key, reason, this.secrets);
    failure.field = field;
    return failure;
  }

  private object(listed: ListedObject): StoredObject {
    return {
      key: this.keyOf(listed.name),
      size: Number(listed.size),
      etag: unquote(listed.etag),
      ossType: listed.type as OssObjectType | undefined,
      lastModified: listed.lastModified ? new Date(listed.lastModified) : undefined,
    };
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    let token: string | null = null;
    do {
      let page;
      try {
        page = await this.client.listV2(
          { prefix: this.name(prefix), 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) },
          {},
        );
      } catch (error) {
        throw this.error('list', prefix || undefined, error);
      }
      for (const listed of page.objects ?? []) yield this.object(listed);
      token = page.isTruncated ? page.nextContinuationToken : null;
    } while (token);
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const page = await this.client.listV2({ prefix: this.name(key), 'max-keys': '1' }, {});
      const listed = page.objects?.[0];
      return listed && listed.name === this.name(key) ? this.object(listed) : undefined;
    } catch (error) {
      throw this.error('stat', key, error);
    }
  }

  async read(key: string): Promise<Readable> {
    try {
      const { stream } = await this.client.getStream(this.name(key));
      return stream;
    } catch (error) {
      throw this.error('read', key, error);
    }
  }

  async write(key: string, body: Readable, size: number): Promise<WriteReceipt> {
    try {
      return size >= this.multipartThreshold ? await this.writeInParts(key, body, size) : await this.writeWhole(key, body, size);
    } catch (error) {
      body.destroy();
      throw this.error('write', key, error);
    }
  }

  /** One PutObject, streamed; the ETag OSS returns must be the MD5 of what was sent. */
  private async writeWhole(key: string, body: Readable, size: number): Promise<WriteReceipt> {
    const md5 = createHash('md5');
    const counted = this.counter(key, size, (chunk) => md5.update(chunk));
    body.on('error', (error) => counted.destroy(error));
    const result = await this.client.putStream(this.name(key), body.pipe(counted), { contentLength: size, mime: 'application/octet-stream' });
    const expected = md5.digest('hex').toUpperCase();
    const etag = unquote(result.res.headers.etag);
    if (etag !== expected) {
      throw new StorageError('verification_failed', this.label, 'write', key, `the endpoint stored MD5 ${etag ?? '(none)'}, expected ${expected}`, this.secrets);
    }
    return { size, etag };
  }

  /** A multipart upload fed from one stream, part after part; each part's ETag is checked against its MD5. */
  private async writeInParts(key: string, body: Readable, size: number): Promise<WriteReceipt> {
    const name = this.name(key);
    const partSize = partSizeFor(size, this.partSizeSetting);
    const { uploadId } = await this.client.initMultipartUpload(name, { mime: 'application/octet-stream' });
    try {
      const source = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      let carry: Buffer | undefined;
      const label = this.label;
      const secrets = this.secrets;
      // Yields exactly `length` bytes from the shared source, keeping what overshoots for the next part.
      async function* take(length: number): AsyncGenerator<Buffer> {
        let remaining = length;
        while (remaining > 0) {
          let chunk = carry;
          carry = undefined;
          if (!chunk) {
            const next = await source.next();
            if (next.done) {
              throw new StorageError('verification_failed', label, 'write', key, `the source ended ${remaining} bytes short of ${size}`, secrets);
            }
            chunk = next.value;
          }
          if (chunk.length > remaining) {
            carry = chunk.subarray(remaining);
            chunk = chunk.subarray(0, remaining);
          }
          remaining -= chunk.length;
          yield chunk;
        }
      }
      const parts: { number: number; etag: string }[] = [];
      const partMd5s: Buffer[] = [];
      for (let offset = 0, number = 1; offset < size; offset += partSize, number++) {
        const length = Math.min(partSize, size - offset);
        const md5 = createHash('md5');
        const part = Readable.from(take(length)).pipe(this.counter(key, length, (chunk) => md5.update(chunk)));
        const { etag } = await this.client.uploadPart(name, uploadId, number, part, 0, length);
        const digest = md5.digest();
        if (unquote(etag) !== digest.toString('hex').toUpperCase()) {
          throw new StorageError('verification_failed', this.label, 'write', key, `part ${number} was stored with MD5 ${unquote(etag)}, expected ${digest.toString('hex').toUpperCase()}`, this.secrets);
        }
        parts.push({ number, etag });
        partMd5s.push(digest);
      }
      if (carry || !(await source.next()).done) {
        throw new StorageError('verification_failed', this.label, 'write', key, `the source holds more than the expected ${size} bytes`, this.secrets);
      }
      const completed = await this.client.completeMultipartUpload(name, uploadId, parts);
      const expected = multipartEtag(partMd5s);
      const etag = unquote(completed.etag);
      if (etag !== undefined && etag !== expected) {
        throw new StorageError('verification_failed', this.label, 'write', key, `the endpoint assembled ETag ${etag}, expected ${expected}`, this.secrets);
      }
      return { size, etag: expected };
    } catch (error) {
      await this.client.abortMultipartUpload(name, uploadId).catch(() => undefined);
      throw error;
    }
  }

  /** Passes bytes through, feeding `observe`, and fails the stream when the count is not `size`. */
  private counter(key: string, size: number, observe: (chunk: Buffer) => void): Transform {
    let count = 0;
    const fail = (reason: string) => new StorageError('verification_failed', this.label, 'write', key, reason, this.secrets);
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        count += chunk.length;
        if (count > size) return callback(fail(`the source holds more than the expected ${size} bytes`));
        observe(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        callback(count === size ? null : fail(`the source ended after ${count} of ${size} bytes`));
      },
    });
  }

  async digest(key: string, algorithm: DigestAlgorithm): Promise<string> {
    if (algorithm === 'md5') {
      const object = await this.stat(key);
      if (!object) throw new StorageError('not_found', this.label, 'digest', key, 'no such object', this.secrets);
      // OSS computed this MD5 itself when the object was written whole.
      if (object.ossType === 'Normal' && object.etag && /^[0-9A-F]{32}$/.test(object.etag)) return object.etag.toLowerCase();
    }
    const hash = createChecksum(algorithm);
    try {
      for await (const chunk of await this.read(key)) hash.update(chunk as Buffer);
    } catch (error) {
      throw this.error('read', key, error);
    }
    return hash.digest();
  }

  /** An object is durable once its PUT (or the completion of its upload) was acknowledged. */
  async flush(): Promise<void> {}

  async delete(key: string): Promise<void> {
    try {
      await this.client.delete(this.name(key));
    } catch (error) {
      throw this.error('delete', key, error);
    }
  }

  async deletePrefix(prefix: string): Promise<{ objects: number; bytes: number }> {
    let objects = 0;
    let bytes = 0;
    let batch: StoredObject[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      try {
        await this.client.deleteMulti(batch.map((o) => this.name(o.key)), { quiet: true });
      } catch (error) {
        throw this.error('delete', batch[0].key, error);
      }
      objects += batch.length;
      bytes += batch.reduce((total, o) => total + o.size, 0);
      batch = [];
    };
    for await (const object of this.list(prefix)) {
      batch.push(object);
      if (batch.length === 1000) await flush();
    }
    await flush();
    await this.abortUploads(prefix);
    return { objects, bytes };
  }

  /** Aborts multipart uploads in progress under `prefix` (left by interrupted writes); returns how many. */
  async abortUploads(prefix: string): Promise<number> {
    let aborted = 0;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      let page;
      try {
        page = await this.client.listUploads(
          { prefix: this.name(prefix), 'max-uploads': '1000', ...(keyMarker ? { 'key-marker': keyMarker, 'upload-id-marker': uploadIdMarker } : {}) },
          {},
        );
      } catch (error) {
        throw this.error('list uploads', prefix || undefined, error);
      }
      for (const upload of page.uploads ?? []) {
        try {
          await this.client.abortMultipartUpload(upload.name, upload.uploadId);
          aborted += 1;
        } catch (error) {
          if ((error as { code?: string }).code !== 'NoSuchUpload') throw this.error('abort upload', this.keyOf(upload.name), error);
        }
      }
      if (!page.isTruncated || !page.nextKeyMarker) return aborted;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker ?? '';
    }
  }

  async usage(): Promise<StorageUsage> {
    const { bytes: used, count } = await tally(this.list(''));
    const capacity = this.options.capacityBytes ?? null;
    return {
      used_bytes: used,
      object_count: count,
      capacity_bytes: capacity,
      available_bytes: capacity === null ? null : Math.max(0, capacity - used),
      used_percent: capacity ? Math.round((used / capacity) * 10000) / 100 : null,
    };
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.httpsAgent.destroy();
  }
}
