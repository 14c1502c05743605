// osssim as a library: start an OSS-compatible endpoint (port 0 for tests), inspect what it stores,
// inject faults, stop it.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOssHandler, type Fault, type RequestRecord } from './server.js';
import type { Credentials } from './signature.js';
import { ObjectStore, type ObjectMeta } from './store.js';

export type { Fault, FaultKind, RequestRecord } from './server.js';
export type { ObjectMeta } from './store.js';
export { OssError } from './errors.js';

export interface OssSimOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Where objects live; a fresh temporary directory (removed at stop) when omitted. */
  dataDir?: string;
  /** Buckets created at start (existing ones are kept). */
  buckets?: string[];
  /** Region reported in bucket info and location. */
  region?: string;
  /** Largest accepted clock difference of a signed request (OSS: 15 minutes). */
  maxClockSkewMs?: number;
  /** Called after every request, e.g. to log it. */
  onRequest?: (record: RequestRecord) => void;
}

export interface OssSim {
  /** e.g. http://127.0.0.1:41234 — give it to ali-oss as `endpoint` with `sldEnable: true`. */
  readonly endpoint: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
  createBucket(name: string): Promise<void>;
  listBuckets(): string[];
  /** Every object of a bucket (optionally under a prefix), in key order. */
  listObjects(bucket: string, prefix?: string): ObjectMeta[];
  /** Metadata of one object, undefined when absent. */
  headObject(bucket: string, key: string): ObjectMeta | undefined;
  readObject(bucket: string, key: string): Promise<Buffer>;
  /** Multipart uploads started and neither completed nor aborted. */
  listUploads(bucket: string): Promise<{ key: string; uploadId: string }[]>;
  /** Makes the next matching request(s) fail; see Fault. */
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Requests served since start (or the last clear), oldest first. */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
}

export async function startOssSim(options: OssSimOptions): Promise<OssSim> {
  if (!options.accessKeyId || !options.accessKeySecret) throw new Error('osssim needs an access key id and secret');
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'osssim-')));
  const store = await ObjectStore.open(dataDir);
  for (const bucket of options.buckets ?? []) await store.createBucket(bucket);

  const credentials: Credentials[] = [{ accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret }];
  const faults: (Fault & { remaining: number })[] = [];
  const requests: RequestRecord[] = [];
  const handler = createOssHandler({
    store,
    credentials,
    region: options.region ?? 'oss-cn-hangzhou',
    maxClockSkewMs: options.maxClockSkewMs ?? 15 * 60 * 1000,
    faults,
    onRequest: (record) => {
      requests.push(record);
      if (requests.length > 10_000) requests.splice(0, requests.length - 10_000);
      options.onRequest?.(record);
    },
  });

  const server: Server = createServer({ keepAliveTimeout: 30_000 }, handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpointHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    endpoint: `http://${endpointHost}:${port}`,
    port,
    dataDir,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async createBucket(name) {
      await store.createBucket(name);
    },
    listBuckets: () => store.listBuckets().map((b) => b.name),
    listObjects: (bucket, prefix = '') => store.list(bucket, { prefix, delimiter: '', after: '', maxKeys: Infinity }).objects,
    headObject(bucket, key) {
      try {
        return store.head(bucket, key);
      } catch {
        return undefined;
      }
    },
    async readObject(bucket, key) {
      return readFile(store.dataPath(bucket, store.head(bucket, key)));
    },
    async listUploads(bucket) {
      return (await store.listUploads(bucket, '')).map((u) => ({ key: u.key, uploadId: u.uploadId }));
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    get requests() {
      return requests;
    },
    clearRequests() {
      requests.length = 0;
    },
  };
}
