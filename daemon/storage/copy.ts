// Copying a tree of backup files from one storage to another (file→file, file→oss, oss→oss, oss→file):
// streamed object by object, a bounded number at a time, each verified, and resumable — an object the
// target already holds with the same size and checksum is skipped.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { StorageError } from './errors.js';
import { FileStorage } from './file.js';
import { asDirectory } from './keys.js';
import { OssStorage, multipartEtag, partSizeFor } from './oss.js';
import type { Storage, StoredObject, WriteReceipt } from './types.js';

export interface CopyProgress {
  total_objects: number;
  total_bytes: number;
  copied_objects: number;
  copied_bytes: number;
  skipped_objects: number;
  skipped_bytes: number;
}

export interface CopyReport extends CopyProgress {
  duration_ms: number;
}

export interface CopiedObject {
  /** Key in the source. */
  key: string;
  size: number;
  action: 'copied' | 'skipped';
  /** xxh3 (16 hex digits) of the bytes written, for file targets. */
  xxh3?: string;
  /** ETag of the stored object, for OSS targets. */
  etag?: string;
}

export interface CopyOptions {
  /** What to copy: a directory of the source (`''` = everything). */
  sourcePrefix?: string;
  /** Where it goes in the target; defaults to the same relative path. */
  targetPrefix?: string;
  /** Objects copied at once (default 4). */
  concurrency?: number;
  /**
   * Every copy is checked: the byte count against the listed size, the source's MD5 when OSS holds one,
   * for OSS targets the MD5 of every PUT and part against the ETag the endpoint computed, and for
   * file→file copies (made by the kernel) the xxh3 of the file written against the source's. A file
   * target's xxh3 of a streamed copy is computed from the bytes written; `readBack` also reads each
   * streamed file back and compares it: an audit that doubles the reading.
   */
  readBack?: boolean;
  /** Further attempts of an object after a network or server failure (default 2). */
  retries?: number;
  /** Stops starting new objects; streamed objects under way are abandoned (left for a resumed copy),
   *  file-to-file copies under way finish. The copy then fails with code `aborted`. */
  signal?: AbortSignal;
  onProgress?: (progress: CopyProgress) => void;
  /** Called for every object as it is decided: copied (with the checksum it was written with) or skipped. */
  onObject?: (event: CopiedObject) => void;
}

function isFolderMarker(object: StoredObject): boolean {
  return object.key.endsWith('/') && object.size === 0;
}

/** The MD5 of an object when its storage vouches for it without reading it (an OSS object written whole). */
function knownMd5(object: StoredObject): string | undefined {
  return object.ossType === 'Normal' && object.etag && /^[0-9A-F]{32}$/.test(object.etag) ? object.etag.toLowerCase() : undefined;
}

/** Reads an object and computes the ETag a multipart upload of it in parts of `partSize` would get. */
async function multipartEtagOf(storage: Storage, key: string, size: number, partSize: number): Promise<string> {
  const digests: Buffer[] = [];
  let hash = createHash('md5');
  let inPart = 0;
  for await (const chunk of await storage.read(key)) {
    let data = chunk as Buffer;
    while (data.length > 0) {
      const take = Math.min(partSize - inPart, data.length);
      hash.update(data.subarray(0, take));
      inPart += take;
      data = data.subarray(take);
      if (inPart === partSize) {
        digests.push(hash.digest());
        hash = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || size === 0) digests.push(hash.digest());
  return multipartEtag(digests);
}

/**
 * Whether `target` already holds the same bytes as `source`. Sizes first; then the cheapest checksum
 * both sides can give: ETags when both are OSS, one side's MD5 when OSS vouches for it, the multipart
 * ETag the target was written with, and otherwise xxh3 of both, read back.
 */
export async function sameContent(
  sourceStorage: Storage,
  source: StoredObject,
  targetStorage: Storage,
  target: StoredObject,
): Promise<boolean> {
  if (source.size !== target.size) return false;
  if (source.etag && target.etag && source.ossType === target.ossType && source.ossType !== 'Appendable') {
    return source.etag === target.etag;
  }
  const sourceMd5 = knownMd5(source);
  const targetMd5 = knownMd5(target);
  if (sourceMd5 && targetMd5) return sourceMd5 === targetMd5;
  if (targetMd5) return (await sourceStorage.digest(source.key, 'md5')) === targetMd5;
  if (sourceMd5) return (await targetStorage.digest(target.key, 'md5')) === sourceMd5;
  if (target.ossType === 'Multipart' && target.etag?.includes('-') && targetStorage instanceof OssStorage) {
    const parts = Number(target.etag.split('-')[1]);
    const partSize = partSizeFor(source.size, targetStorage.partSizeSetting);
    if (parts === Math.ceil(source.size / partSize)) {
      return (await multipartEtagOf(sourceStorage, source.key, source.size, partSize)) === target.etag;
    }
  }
  const [a, b] = await Promise.all([sourceStorage.digest(source.key, 'xxh3'), targetStorage.digest(target.key, 'xxh3')]);
  return a === b;
}

function retryable(error: unknown): boolean {
  if (!(error instanceof StorageError)) return false;
  return error.code === 'unreachable' || (error.code === 'failed' && /HTTP 5\d\d|ECONNRESET|socket hang up/i.test(error.reason));
}

/** Counts what is read from the source and checks it against the listed size and, when known, its MD5. */
function sourceCheck(storage: Storage, object: StoredObject): Transform {
  const expectedMd5 = knownMd5(object);
  const md5 = expectedMd5 ? createHash('md5') : undefined;
  let count = 0;
  const fail = (reason: string) => new StorageError('verification_failed', storage.label, 'read', object.key, reason);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      count += chunk.length;
      md5?.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (count !== object.size) return callback(fail(`read ${count} bytes, the listing said ${object.size}`));
      if (md5 && md5.digest('hex') !== expectedMd5) return callback(fail('the bytes read do not match the MD5 the storage holds'));
      callback();
    },
  });
}

async function copyObject(
  source: Storage,
  object: StoredObject,
  target: Storage,
  targetKey: string,
  readBack: boolean,
  signal: AbortSignal | undefined,
): Promise<WriteReceipt> {
  const receipt =
    source instanceof FileStorage && target instanceof FileStorage
      ? await target.copyFrom(source, object.key, targetKey, object.size)
      : await copyStream(source, object, target, targetKey, signal);
  await verifyCopy(object, target, targetKey, receipt, readBack);
  return receipt;
}

async function copyStream(
  source: Storage,
  object: StoredObject,
  target: Storage,
  targetKey: string,
  signal: AbortSignal | undefined,
): Promise<WriteReceipt> {
  const input = await source.read(object.key);
  const checked = sourceCheck(source, object);
  input.on('error', (error) => checked.destroy(error instanceof StorageError ? error : new StorageError('failed', source.label, 'read', object.key, (error as Error).message)));
  const stream: Readable = input.pipe(checked);
  const onAbort = () => stream.destroy(new StorageError('aborted', target.label, 'write', targetKey, 'the copy was stopped'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await target.write(targetKey, stream, object.size);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    input.destroy();
  }
}

async function verifyCopy(object: StoredObject, target: Storage, targetKey: string, receipt: WriteReceipt, readBack: boolean): Promise<void> {
  const stored = await target.stat(targetKey);
  if (!stored || stored.size !== object.size) {
    throw new StorageError('verification_failed', target.label, 'verify', targetKey, `holds ${stored?.size ?? 'no'} bytes after the copy, expected ${object.size}`);
  }
  // OSS targets had the MD5 of every byte checked as they arrived (write compares the returned ETags);
  // on request a file target is read back and compared with the checksum of what was written.
  if (readBack && receipt.xxh3 !== undefined) {
    const readBack = await target.digest(targetKey, 'xxh3');
    if (readBack !== receipt.xxh3) {
      throw new StorageError('verification_failed', target.label, 'verify', targetKey, 'the bytes read back differ from the bytes written');
    }
  }
}

/**
 * Copies one object with the same checks as `copyTree` (skipped when the target already holds the same
 * bytes); returns what was done, or undefined when the source has no such object.
 */
export async function copyOneObject(
  source: Storage,
  target: Storage,
  key: string,
  options: { targetKey?: string; readBack?: boolean } = {},
): Promise<CopiedObject | undefined> {
  const object = await source.stat(key);
  if (!object) return undefined;
  const targetKey = options.targetKey ?? key;
  const present = await target.stat(targetKey);
  if (present && (await sameContent(source, object, target, present))) {
    await target.flush([targetKey]);
    return { key, size: object.size, action: 'skipped' };
  }
  const receipt = await copyObject(source, object, target, targetKey, options.readBack ?? false, undefined);
  await target.flush([targetKey]);
  return { key, size: object.size, action: 'copied', xxh3: receipt.xxh3, etag: receipt.etag };
}

/** Removes what interrupted writes left in the target (partial files, multipart uploads in progress). */
async function clearLeftovers(target: Storage, prefix: string): Promise<void> {
  if (target instanceof FileStorage) await target.removePartials(prefix);
  else if (target instanceof OssStorage) await target.abortUploads(prefix);
}

/**
 * Copies every object under `sourcePrefix` of `source` to `targetPrefix` of `target`, skipping objects
 * the target already holds with the same size and checksum. Throws the first failure (a StorageError
 * naming the storage and the object) after the objects under way have settled; running it again
 * resumes where it stopped.
 */
export async function copyTree(source: Storage, target: Storage, options: CopyOptions = {}): Promise<CopyReport> {
  const started = Date.now();
  const sourcePrefix = asDirectory(options.sourcePrefix ?? '');
  const targetPrefix = asDirectory(options.targetPrefix ?? sourcePrefix);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const readBack = options.readBack ?? false;
  const retries = options.retries ?? 2;
  const { signal } = options;

  const objects: StoredObject[] = [];
  for await (const object of source.list(sourcePrefix)) {
    // Folder markers mean nothing to a directory tree and cannot be files.
    if (isFolderMarker(object)) continue;
    objects.push(object);
  }
  const existing = new Map<string, StoredObject>();
  for await (const object of target.list(targetPrefix)) existing.set(object.key, object);
  await clearLeftovers(target, targetPrefix);

  const progress: CopyProgress = {
    total_objects: objects.length,
    total_bytes: objects.reduce((total, o) => total + o.size, 0),
    copied_objects: 0,
    copied_bytes: 0,
    skipped_objects: 0,
    skipped_bytes: 0,
  };
  let failure: unknown;
  let next = 0;

  const worker = async () => {
    while (failure === undefined && next < objects.length) {
      if (signal?.aborted) {
        failure = new StorageError('aborted', target.label, 'copy', undefined, 'the copy was stopped');
        return;
      }
      const object = objects[next++];
      const targetKey = targetPrefix + object.key.slice(sourcePrefix.length);
      try {
        const present = existing.get(targetKey);
        if (present && (await sameContent(source, object, target, present))) {
          progress.skipped_objects += 1;
          progress.skipped_bytes += object.size;
          options.onObject?.({ key: object.key, size: object.size, action: 'skipped' });
        } else {
          let receipt: WriteReceipt;
          for (let attempt = 0; ; attempt++) {
            try {
              receipt = await copyObject(source, object, target, targetKey, readBack, signal);
              break;
            } catch (error) {
              if (attempt >= retries || !retryable(error) || signal?.aborted) throw error;
              await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
            }
          }
          progress.copied_objects += 1;
          progress.copied_bytes += object.size;
          options.onObject?.({ key: object.key, size: object.size, action: 'copied', xxh3: receipt.xxh3, etag: receipt.etag });
        }
        options.onProgress?.({ ...progress });
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, objects.length)) }, worker));
  if (failure !== undefined) throw failure;
  // Durable before it is reported done; skipped objects too, as an interrupted earlier copy may have
  // given them their names without a sync.
  await target.flush(objects.map((object) => targetPrefix + object.key.slice(sourcePrefix.length)));
  return { ...progress, duration_ms: Date.now() - started };
}

