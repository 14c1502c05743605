import type { Readable } from 'node:stream';

/** The contract's storage fields that say where backups live (see model/storage.ts). */
export type StorageConfig =
  | { type: 'file'; path: string }
  | { type: 'oss'; path: string; endpoint: string; access_key_id: string; access_key_secret: string };

export interface StorageOptions {
  /** OSS only: capacity to compute a usage percentage against; OSS itself has no limit to report. */
  capacityBytes?: number;
  /** OSS only: timeout of one request (ms), default 120 s. */
  requestTimeoutMs?: number;
  /** OSS only: objects from this size on are uploaded in parts (default 64 MiB). */
  multipartThreshold?: number;
  /** OSS only: part size for multipart uploads (default 16 MiB, at least 100 KiB, raised to stay within 10,000 parts). */
  partSize?: number;
  /** file only: fsync each written file before it takes its final name (default true). */
  durable?: boolean;
}

export type OssObjectType = 'Normal' | 'Multipart' | 'Appendable';

/** An object (file) in a storage; `key` is relative to the storage root, `/`-separated, no leading `/`. */
export interface StoredObject {
  key: string;
  size: number;
  /** OSS: the ETag without quotes (an MD5 in upper-case hex for Normal objects). */
  etag?: string;
  /** OSS: Normal, Multipart or Appendable. */
  ossType?: OssObjectType;
  lastModified?: Date;
}

/** What a write stored, as checked on the way in. */
export interface WriteReceipt {
  size: number;
  /** xxh3 (16 hex digits) of the bytes written, checked against the source where the copy was made: file storage. */
  xxh3?: string;
  /** The ETag the endpoint returned, already checked against the MD5 of what was sent: OSS. */
  etag?: string;
}

export interface StorageUsage {
  /** Bytes of the objects under the storage path. */
  used_bytes: number;
  object_count: number;
  /** file: size of the filesystem holding the path; oss: the configured capacity, else null. */
  capacity_bytes: number | null;
  /** file: bytes the filesystem still offers; oss: capacity minus used, else null. */
  available_bytes: number | null;
  /** file: filesystem usage as `df` shows it; oss: used of the configured capacity; null when unknown. */
  used_percent: number | null;
}

export type DigestAlgorithm = 'xxh3' | 'sha256' | 'md5';

export interface Storage {
  readonly type: 'file' | 'oss';
  /** How messages name this storage: `file:///path` or `oss://bucket/prefix (endpoint)`; never a secret. */
  readonly label: string;
  /** Every object under `prefix` (recursively), in key order. */
  list(prefix?: string): AsyncIterable<StoredObject>;
  /** One object, or undefined when there is none. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** A stream of the object's bytes. */
  read(key: string): Promise<Readable>;
  /** Stores `size` bytes from `body` under `key`; readers never see a partial object under that key. */
  write(key: string, body: Readable, size: number): Promise<WriteReceipt>;
  /** Hash of an object's bytes, read back from the storage (hex, lower case). */
  digest(key: string, algorithm: DigestAlgorithm): Promise<string>;
  delete(key: string): Promise<void>;
  /**
   * Makes the given objects durable: file storage fsyncs the files and their directories (a bulk copy
   * writes without a sync per file and calls this once at the end); an OSS write is durable when acknowledged.
   */
  flush(keys: Iterable<string>): Promise<void>;
  /** Deletes every object under `prefix` (and, for OSS, uploads in progress there). */
  deletePrefix(prefix: string): Promise<{ objects: number; bytes: number }>;
  usage(): Promise<StorageUsage>;
  /** Releases connections; the storage is not used afterwards. */
  close(): Promise<void>;
}
