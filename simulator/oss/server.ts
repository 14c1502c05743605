// HTTP front of osssim: path-style addressing (`/bucket/key`), OSS signature V1, OSS XML bodies.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { OssError, ossErrors } from './errors.js';
import {
  canonicalResource,
  readSignature,
  sign,
  signaturesEqual,
  stringToSign,
  type Credentials,
} from './signature.js';
import { ObjectStore, isValidObjectKey, type ObjectMeta, type PartInfo, type UploadInfo, type WriteOptions } from './store.js';
import { el, parseXml, xmlDocument, type XmlNode } from './xml.js';

export type FaultKind = 'reset' | 'truncate' | 'error';

export interface Fault {
  /** Operation name as in the OSS API: PutObject, GetObject, HeadObject, UploadPart, CompleteMultipartUpload, ... */
  operation?: string;
  bucket?: string;
  /** Applies to keys starting with this prefix. */
  keyPrefix?: string;
  /** reset: drop the connection without answering; truncate: GetObject sends half the body and drops;
   *  error: answer with `code`/`status` (default 503 ServiceUnavailable). */
  kind: FaultKind;
  status?: number;
  code?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Delay before handling the request, in ms. */
  delayMs?: number;
}

export interface RequestRecord {
  operation: string;
  method: string;
  bucket?: string;
  key?: string;
  status: number;
}

export interface HandlerOptions {
  store: ObjectStore;
  credentials: Credentials[];
  region: string;
  /** Largest accepted difference between a request's date and the clock. */
  maxClockSkewMs: number;
  faults: (Fault & { remaining: number })[];
  onRequest?: (record: RequestRecord) => void;
}

const OWNER = el('Owner', el('ID', '1000000000000000'), el('DisplayName', '1000000000000000'));

function requestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}

function quoted(etag: string): string {
  return `"${etag}"`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function userMetaOf(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-oss-meta-') && value !== undefined) meta[name.slice(11)] = Array.isArray(value) ? value.join(',') : value;
  }
  return meta;
}

function writeOptions(req: IncomingMessage, contentTypeDefault = 'application/octet-stream'): WriteOptions {
  const length = header(req.headers, 'content-length');
  return {
    contentType: header(req.headers, 'content-type') || contentTypeDefault,
    userMeta: userMetaOf(req.headers),
    contentMd5: header(req.headers, 'content-md5') || undefined,
    contentLength: length === undefined ? undefined : Number(length),
  };
}

async function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw ossErrors.invalidArgument('The request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw ossErrors.invalidArgument('The request URI is not valid percent-encoding.');
  }
}

/** Path-style addressing: `/` (service), `/bucket[/]` (bucket), `/bucket/key` (object). Never normalised: keys may hold `..` or `//`. */
export function parsePath(rawUrl: string): { bucket?: string; key?: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  const rest = path.replace(/^\/+/, '');
  if (rest === '') return { query };
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decode(rest), query };
  const bucket = decode(rest.slice(0, slash));
  const key = rest.slice(slash + 1);
  return { bucket, key: key === '' ? undefined : decode(key), query };
}

function encodeIfAsked(value: string, urlEncoding: boolean): string {
  return urlEncoding ? encodeURIComponent(value).replace(/%2F/g, '/') : value;
}

function parseRange(range: string | undefined, size: number): [number, number] | 'invalid' | undefined {
  if (!range) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // OSS ignores a malformed Range
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return [start, end];
}

function objectHeaders(meta: ObjectMeta): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': meta.contentType,
    etag: quoted(meta.etag),
    'last-modified': new Date(meta.lastModified).toUTCString(),
    'x-oss-object-type': meta.type,
    'x-oss-storage-class': 'Standard',
    'accept-ranges': 'bytes',
  };
  if (meta.type === 'Normal') headers['content-md5'] = Buffer.from(meta.etag, 'hex').toString('base64');
  if (meta.type === 'Appendable') headers['x-oss-next-append-position'] = String(meta.size);
  for (const [name, value] of Object.entries(meta.userMeta)) headers[`x-oss-meta-${name}`] = value;
  return headers;
}

/** Evaluates If-Match / If-None-Match / If-(Un)Modified-Since; returns the status to answer instead, if any. */
function preconditions(headers: IncomingHttpHeaders, meta: ObjectMeta): 304 | 412 | undefined {
  const etag = quoted(meta.etag);
  const ifMatch = header(headers, 'if-match');
  if (ifMatch && ifMatch !== '*' && !ifMatch.split(',').map((s) => s.trim()).includes(etag)) return 412;
  const ifUnmodified = header(headers, 'if-unmodified-since');
  if (ifUnmodified && meta.lastModified > Date.parse(ifUnmodified) + 999) return 412;
  const ifNoneMatch = header(headers, 'if-none-match');
  if (ifNoneMatch && (ifNoneMatch === '*' || ifNoneMatch.split(',').map((s) => s.trim()).includes(etag))) return 304;
  const ifModified = header(headers, 'if-modified-since');
  if (ifModified && meta.lastModified <= Date.parse(ifModified) + 999) return 304;
  return undefined;
}

function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.split('?')[0];
  const match = /^\/?([^/]+)\/(.+)$/.exec(withoutVersion);
  if (!match) throw ossErrors.invalidArgument('Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.', 'x-oss-copy-source', value);
  return { bucket: decode(match[1]), key: decode(match[2]) };
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw ossErrors.invalidArgument(`Argument ${name} must be an integer between ${min} and ${max}.`, name, raw);
  }
  return value;
}

interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  operation: string;
  status: number;
}

export function createOssHandler(options: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store } = options;

  function send(ctx: Context, status: number, headers: Record<string, string>, body?: string | Buffer): void {
    ctx.status = status;
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    ctx.res.writeHead(status, {
      ...headers,
      ...(payload !== undefined && !headers['content-length'] ? { 'content-length': String(payload.length) } : {}),
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : payload);
  }

  function sendXml(ctx: Context, root: XmlNode, headers: Record<string, string> = {}): void {
    send(ctx, 200, { 'content-type': 'application/xml', ...headers }, xmlDocument(root));
  }

  function sendError(ctx: Context, error: OssError): void {
    const host = header(ctx.req.headers, 'host') ?? 'localhost';
    const body = xmlDocument(
      el(
        'Error',
        el('Code', error.code),
        el('Message', error.message),
        el('RequestId', ctx.requestId),
        el('HostId', ctx.bucket ? `${ctx.bucket}.${host}` : host),
        Object.entries(error.details)
          .filter(([, value]) => value !== undefined)
          .map(([name, value]) => el(name, value)),
      ),
    );
    const headers: Record<string, string> = { 'content-type': 'application/xml', ...error.headers };
    if (ctx.req.method === 'HEAD') {
      // HEAD answers carry no body; OSS puts the error document in this header instead.
      headers['x-oss-err'] = Buffer.from(body).toString('base64');
      send(ctx, error.status, headers);
    } else {
      send(ctx, error.status, headers, body);
    }
  }

  function authenticate(ctx: Context): void {
    const { req, query } = ctx;
    const signed = readSignature(req.headers, query);
    if (signed.kind === 'anonymous') throw ossErrors.accessDenied('AccessDenied: anonymous access is not allowed; sign the request with an AccessKey.');
    if (signed.kind === 'unsupported') {
      throw ossErrors.invalidArgument(`Authorization header scheme ${signed.scheme || '(empty)'} is not supported; use OSS signature V1.`, 'Authorization');
    }
    const credential = options.credentials.find((c) => c.accessKeyId === signed.accessKeyId);
    if (!credential) throw ossErrors.invalidAccessKeyId(signed.accessKeyId);
    const resource = canonicalResource(ctx.bucket, ctx.key, query);
    const dateLine = signed.kind === 'header' ? signed.date : signed.expires;
    const text = stringToSign(req.method ?? 'GET', req.headers, resource, dateLine);
    if (!signaturesEqual(sign(credential.accessKeySecret, text), signed.signature)) {
      throw ossErrors.signatureDoesNotMatch(text, signed.signature, signed.accessKeyId);
    }
    const now = Date.now();
    if (signed.kind === 'query') {
      if (Number(signed.expires) * 1000 < now) throw ossErrors.requestExpired(signed.expires, iso(now));
    } else {
      const time = Date.parse(signed.date);
      if (Number.isNaN(time) || Math.abs(time - now) > options.maxClockSkewMs) {
        throw ossErrors.requestTimeTooSkewed(signed.date, iso(now));
      }
    }
  }

  function operationOf(ctx: Context): string {
    const { req, query, bucket, key } = ctx;
    const method = req.method ?? 'GET';
    if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unsupported';
    if (key === undefined) {
      switch (method) {
        case 'PUT':
          return query.has('acl') ? 'PutBucketAcl' : 'PutBucket';
        case 'DELETE':
          return 'DeleteBucket';
        case 'HEAD':
          return 'HeadBucket';
        case 'POST':
          return query.has('delete') ? 'DeleteMultipleObjects' : 'Unsupported';
        case 'GET':
          if (query.has('bucketInfo')) return 'GetBucketInfo';
          if (query.has('location')) return 'GetBucketLocation';
          if (query.has('stat')) return 'GetBucketStat';
          if (query.has('uploads')) return 'ListMultipartUploads';
          if (query.has('acl')) return 'GetBucketAcl';
          return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
        default:
          return 'Unsupported';
      }
    }
    switch (method) {
      case 'PUT':
        if (query.has('uploadId') && query.has('partNumber')) {
          return req.headers['x-oss-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
        }
        if (query.has('acl') || query.has('tagging') || query.has('symlink')) return 'Unsupported';
        return req.headers['x-oss-copy-source'] ? 'CopyObject' : 'PutObject';
      case 'POST':
        if (query.has('uploads')) return 'InitiateMultipartUpload';
        if (query.has('uploadId')) return 'CompleteMultipartUpload';
        if (query.has('append')) return 'AppendObject';
        return 'Unsupported';
      case 'GET':
        if (query.has('uploadId')) return 'ListParts';
        if (query.has('acl')) return 'GetObjectAcl';
        return 'GetObject';
      case 'HEAD':
        return query.has('objectMeta') ? 'GetObjectMeta' : 'HeadObject';
      case 'DELETE':
        return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
      default:
        return 'Unsupported';
    }
  }

  function takeFault(ctx: Context): Fault | undefined {
    const index = options.faults.findIndex(
      (f) =>
        f.remaining > 0 &&
        (f.operation === undefined || f.operation === ctx.operation) &&
        (f.bucket === undefined || f.bucket === ctx.bucket) &&
        (f.keyPrefix === undefined || (ctx.key ?? '').startsWith(f.keyPrefix)),
    );
    if (index < 0) return undefined;
    const fault = options.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) options.faults.splice(index, 1);
    return fault;
  }

  function requireKey(ctx: Context): string {
    const key = ctx.key!;
    if (!isValidObjectKey(key)) throw ossErrors.invalidObjectName(key);
    return key;
  }

  async function getObject(ctx: Context, fault: Fault | undefined): Promise<void> {
    const key = ctx.key!;
    const meta = store.head(ctx.bucket!, key);
    const headers = objectHeaders(meta);
    const condition = preconditions(ctx.req.headers, meta);
    if (condition === 412) throw ossErrors.preconditionFailed('If-Match');
    if (condition === 304) return send(ctx, 304, { etag: headers.etag, 'last-modified': headers['last-modified'] });
    const rangeHeader = header(ctx.req.headers, 'range');
    let range = parseRange(rangeHeader, meta.size);
    if (range === 'invalid') {
      if (header(ctx.req.headers, 'x-oss-range-behavior') === 'standard') throw ossErrors.invalidRange(rangeHeader!);
      range = undefined; // OSS answers the whole object to an unsatisfiable range unless asked to be strict
    }
    let status = 200;
    let start = 0;
    let end = meta.size - 1;
    if (range) {
      [start, end] = range;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
      delete headers['content-md5'];
    }
    const length = meta.size === 0 ? 0 : end - start + 1;
    headers['content-length'] = String(length);
    ctx.status = status;
    ctx.res.writeHead(status, headers);
    if (ctx.req.method === 'HEAD' || length === 0) {
      ctx.res.end();
      return;
    }
    const stream = store.read(ctx.bucket!, meta, start, end);
    let sent = 0;
    const cutAt = fault?.kind === 'truncate' ? Math.floor(length / 2) : Infinity;
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        if (sent + chunk.length >= cutAt) {
          ctx.res.write(chunk.subarray(0, Math.max(0, cutAt - sent)));
          stream.destroy();
          ctx.res.destroy();
          resolve();
          return;
        }
        sent += chunk.length;
        if (!ctx.res.write(chunk)) {
          stream.pause();
          ctx.res.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => {
        ctx.res.end();
        resolve();
      });
      stream.on('error', () => {
        ctx.res.destroy();
        resolve();
      });
      ctx.res.on('close', () => {
        stream.destroy();
        resolve();
      });
    });
  }

  function listObjects(ctx: Context, v2: boolean): void {
    const { query } = ctx;
    const bucket = ctx.bucket!;
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = intParam(query, 'max-keys', 100, 0, 1000);
    const urlEncoding = query.get('encoding-type') === 'url';
    const enc = (value: string) => encodeIfAsked(value, urlEncoding);
    let after = '';
    let token: string | undefined;
    const startAfter = query.get('start-after') ?? '';
    if (v2) {
      token = query.get('continuation-token') ?? undefined;
      const fromToken = token ? Buffer.from(token, 'base64url').toString('utf8') : '';
      after = fromToken > startAfter ? fromToken : startAfter;
    } else {
      after = query.get('marker') ?? '';
    }
    const result = store.list(bucket, { prefix, delimiter, after, maxKeys });
    const withOwner = !v2 || query.get('fetch-owner') === 'true';
    const contents = result.objects.map((meta) =>
      el(
        'Contents',
        el('Key', enc(meta.key)),
        el('LastModified', iso(meta.lastModified)),
        el('ETag', quoted(meta.etag)),
        el('Type', meta.type),
        el('Size', meta.size),
        el('StorageClass', 'Standard'),
        withOwner ? OWNER : undefined,
      ),
    );
    const prefixes = result.commonPrefixes.map((p) => el('CommonPrefixes', el('Prefix', enc(p))));
    const next = result.isTruncated && result.last !== undefined ? result.last : undefined;
    const root = v2
      ? el(
          'ListBucketResult',
          el('Name', bucket),
          el('Prefix', enc(prefix)),
          startAfter ? el('StartAfter', enc(startAfter)) : undefined,
          token ? el('ContinuationToken', token) : undefined,
          el('MaxKeys', maxKeys),
          el('Delimiter', enc(delimiter)),
          urlEncoding ? el('EncodingType', 'url') : undefined,
          el('IsTruncated', result.isTruncated),
          next !== undefined ? el('NextContinuationToken', Buffer.from(next, 'utf8').toString('base64url')) : undefined,
          el('KeyCount', result.objects.length + result.commonPrefixes.length),
          contents,
          prefixes,
        )
      : el(
          'ListBucketResult',
          el('Name', bucket),
          el('Prefix', enc(prefix)),
          el('Marker', enc(after)),
          el('MaxKeys', maxKeys),
          el('Delimiter', enc(delimiter)),
          urlEncoding ? el('EncodingType', 'url') : undefined,
          el('IsTruncated', result.isTruncated),
          next !== undefined ? el('NextMarker', enc(next)) : undefined,
          contents,
          prefixes,
        );
    sendXml(ctx, root);
  }

  async function listUploads(ctx: Context): Promise<void> {
    const { query } = ctx;
    const prefix = query.get('prefix') ?? '';
    const keyMarker = query.get('key-marker') ?? '';
    const uploadIdMarker = query.get('upload-id-marker') ?? '';
    const maxUploads = intParam(query, 'max-uploads', 1000, 1, 1000);
    const all = (await store.listUploads(ctx.bucket!, prefix)).filter(
      (u) => u.key > keyMarker || (u.key === keyMarker && uploadIdMarker !== '' && u.uploadId > uploadIdMarker),
    );
    const page = all.slice(0, maxUploads);
    const truncated = all.length > page.length;
    const last = page.at(-1);
    sendXml(
      ctx,
      el(
        'ListMultipartUploadsResult',
        el('Bucket', ctx.bucket!),
        el('KeyMarker', keyMarker),
        el('UploadIdMarker', uploadIdMarker),
        el('NextKeyMarker', truncated && last ? last.key : ''),
        el('NextUploadIdMarker', truncated && last ? last.uploadId : ''),
        el('Delimiter', ''),
        el('Prefix', prefix),
        el('MaxUploads', maxUploads),
        el('IsTruncated', truncated),
        page.map((u) => el('Upload', el('Key', u.key), el('UploadId', u.uploadId), el('StorageClass', 'Standard'), el('Initiated', iso(u.initiated)))),
      ),
    );
  }

  async function listParts(ctx: Context, upload: UploadInfo): Promise<void> {
    const { query } = ctx;
    const marker = intParam(query, 'part-number-marker', 0, 0, 10000);
    const maxParts = intParam(query, 'max-parts', 1000, 1, 1000);
    const all = (await store.listParts(upload)).filter((p) => p.partNumber > marker);
    const page = all.slice(0, maxParts);
    const truncated = all.length > page.length;
    sendXml(
      ctx,
      el(
        'ListPartsResult',
        el('Bucket', upload.bucket),
        el('Key', upload.key),
        el('UploadId', upload.uploadId),
        el('StorageClass', 'Standard'),
        el('PartNumberMarker', marker),
        el('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
        el('MaxParts', maxParts),
        el('IsTruncated', truncated),
        page.map((p: PartInfo) =>
          el('Part', el('PartNumber', p.partNumber), el('LastModified', iso(p.lastModified)), el('ETag', quoted(p.etag)), el('Size', p.size)),
        ),
      ),
    );
  }

  function partNumberOf(ctx: Context): number {
    return intParam(ctx.query, 'partNumber', 0, 1, 10000);
  }

  async function completeUpload(ctx: Context, upload: UploadInfo): Promise<void> {
    const body = await readBody(ctx.req);
    let requested: { partNumber: number; etag: string }[];
    if (header(ctx.req.headers, 'x-oss-complete-all') === 'yes') {
      requested = (await store.listParts(upload)).map((p) => ({ partNumber: p.partNumber, etag: p.etag }));
    } else {
      const parsed = parseXml(body)?.CompleteMultipartUpload as { Part?: { PartNumber?: string; ETag?: string }[] } | undefined;
      if (!parsed || !Array.isArray(parsed.Part)) throw ossErrors.malformedXml();
      requested = parsed.Part.map((p) => {
        const partNumber = Number(p.PartNumber);
        if (!Number.isInteger(partNumber) || typeof p.ETag !== 'string') throw ossErrors.malformedXml();
        return { partNumber, etag: p.ETag };
      });
    }
    const meta = await store.completeUpload(upload, requested);
    const host = header(ctx.req.headers, 'host') ?? 'localhost';
    sendXml(
      ctx,
      el(
        'CompleteMultipartUploadResult',
        el('EncodingType', undefined),
        el('Location', `http://${host}/${upload.bucket}/${encodeURIComponent(upload.key).replace(/%2F/g, '/')}`),
        el('Bucket', upload.bucket),
        el('Key', upload.key),
        el('ETag', quoted(meta.etag)),
      ),
      { etag: quoted(meta.etag) },
    );
  }

  async function deleteMultiple(ctx: Context): Promise<void> {
    const body = await readBody(ctx.req);
    const md5 = header(ctx.req.headers, 'content-md5');
    if (!md5) throw ossErrors.invalidArgument('Missing required header for this request: Content-MD5.', 'Content-MD5');
    if (createHash('md5').update(body, 'utf8').digest('base64') !== md5) throw ossErrors.invalidDigest();
    const parsed = parseXml(body)?.Delete as { Quiet?: string; Object?: { Key?: string }[] } | undefined;
    if (!parsed || !Array.isArray(parsed.Object) || parsed.Object.length > 1000) throw ossErrors.malformedXml();
    const keys = parsed.Object.map((o) => {
      if (typeof o.Key !== 'string') throw ossErrors.malformedXml();
      return o.Key;
    });
    for (const key of keys) await store.delete(ctx.bucket!, key);
    const quiet = String(parsed.Quiet).toLowerCase() === 'true';
    const urlEncoding = ctx.query.get('encoding-type') === 'url';
    sendXml(
      ctx,
      el(
        'DeleteResult',
        urlEncoding ? el('EncodingType', 'url') : undefined,
        quiet ? [] : keys.map((key) => el('Deleted', el('Key', encodeIfAsked(key, urlEncoding)))),
      ),
    );
  }

  async function dispatch(ctx: Context, fault: Fault | undefined): Promise<void> {
    const { req, query } = ctx;
    const bucket = ctx.bucket!;
    switch (ctx.operation) {
      case 'ListBuckets': {
        const buckets = store.listBuckets();
        return sendXml(
          ctx,
          el(
            'ListAllMyBucketsResult',
            OWNER,
            el(
              'Buckets',
              buckets.map((b) =>
                el('Bucket', el('CreationDate', iso(b.createdAt)), el('Location', options.region), el('Name', b.name), el('StorageClass', 'Standard')),
              ),
            ),
          ),
        );
      }
      case 'PutBucket':
        await store.createBucket(bucket);
        await readBody(req); // optional CreateBucketConfiguration: storage class and redundancy do not apply here
        return send(ctx, 200, { location: `/${bucket}` });
      case 'DeleteBucket':
        await store.deleteBucket(bucket);
        return send(ctx, 204, {});
      case 'HeadBucket':
        store.bucketInfo(bucket);
        return send(ctx, 200, {});
      case 'GetBucketInfo': {
        const info = store.bucketInfo(bucket);
        const host = header(req.headers, 'host') ?? 'localhost';
        return sendXml(
          ctx,
          el(
            'BucketInfo',
            el(
              'Bucket',
              el('AccessMonitor', 'Disabled'),
              el('CreationDate', iso(info.createdAt)),
              el('CrossRegionReplication', 'Disabled'),
              el('DataRedundancyType', 'LRS'),
              el('ExtranetEndpoint', host),
              el('IntranetEndpoint', host),
              el('Location', options.region),
              el('Name', info.name),
              el('StorageClass', 'Standard'),
              el('TransferAcceleration', 'Disabled'),
              OWNER,
              el('AccessControlList', el('Grant', 'private')),
              el('ServerSideEncryptionRule', el('SSEAlgorithm', 'None')),
              el('BucketPolicy', el('LogBucket', ''), el('LogPrefix', '')),
            ),
          ),
        );
      }
      case 'GetBucketLocation':
        store.bucketInfo(bucket);
        return sendXml(ctx, el('LocationConstraint', options.region));
      case 'GetBucketStat': {
        const stat = store.bucketStat(bucket);
        return sendXml(
          ctx,
          el(
            'BucketStat',
            el('Storage', stat.storage),
            el('ObjectCount', stat.objectCount),
            el('MultipartUploadCount', (await store.listUploads(bucket, '')).length),
            el('StandardStorage', stat.storage),
            el('StandardObjectCount', stat.objectCount),
            el('LastModifiedTime', Math.floor(Date.now() / 1000)),
          ),
        );
      }
      case 'GetBucketAcl':
      case 'GetObjectAcl':
        if (ctx.operation === 'GetObjectAcl') store.head(bucket, ctx.key!);
        else store.bucketInfo(bucket);
        return sendXml(ctx, el('AccessControlPolicy', OWNER, el('AccessControlList', el('Grant', ctx.operation === 'GetObjectAcl' ? 'default' : 'private'))));
      case 'ListObjects':
        return listObjects(ctx, false);
      case 'ListObjectsV2':
        return listObjects(ctx, true);
      case 'ListMultipartUploads':
        return listUploads(ctx);
      case 'DeleteMultipleObjects':
        store.bucketInfo(bucket);
        return deleteMultiple(ctx);
      case 'PutObject': {
        const key = requireKey(ctx);
        if (req.headers['content-length'] === undefined && !req.headers['transfer-encoding']) throw ossErrors.missingContentLength();
        const meta = await store.put(bucket, key, req, writeOptions(req));
        return send(ctx, 200, { etag: quoted(meta.etag), 'content-md5': Buffer.from(meta.etag, 'hex').toString('base64') });
      }
      case 'AppendObject': {
        const key = requireKey(ctx);
        const position = intParam(query, 'position', -1, 0, Number.MAX_SAFE_INTEGER);
        if (position < 0) throw ossErrors.invalidArgument('Position is required for AppendObject.', 'position');
        const meta = await store.append(bucket, key, position, req, writeOptions(req));
        return send(ctx, 200, { etag: quoted(meta.etag), 'x-oss-next-append-position': String(meta.size) });
      }
      case 'CopyObject': {
        const key = requireKey(ctx);
        const source = parseCopySource(header(req.headers, 'x-oss-copy-source')!);
        const replace = header(req.headers, 'x-oss-metadata-directive') === 'REPLACE';
        const meta = await store.copy(
          source.bucket,
          source.key,
          bucket,
          key,
          replace ? { contentType: header(req.headers, 'content-type') || 'application/octet-stream', userMeta: userMetaOf(req.headers) } : undefined,
        );
        return sendXml(ctx, el('CopyObjectResult', el('ETag', quoted(meta.etag)), el('LastModified', iso(meta.lastModified))), {
          etag: quoted(meta.etag),
        });
      }
      case 'GetObject':
      case 'HeadObject':
        return getObject(ctx, fault);
      case 'GetObjectMeta': {
        const meta = store.head(bucket, ctx.key!);
        return send(ctx, 200, {
          etag: quoted(meta.etag),
          'last-modified': new Date(meta.lastModified).toUTCString(),
          'content-length': String(meta.size),
        });
      }
      case 'DeleteObject':
        await store.delete(bucket, ctx.key!);
        return send(ctx, 204, {});
      case 'InitiateMultipartUpload': {
        const key = requireKey(ctx);
        await readBody(req);
        const upload = await store.initiateUpload(bucket, key, header(req.headers, 'content-type') || 'application/octet-stream', userMetaOf(req.headers));
        return sendXml(ctx, el('InitiateMultipartUploadResult', el('Bucket', bucket), el('Key', key), el('UploadId', upload.uploadId)));
      }
      case 'UploadPart': {
        const partNumber = partNumberOf(ctx);
        const upload = await store.upload(bucket, ctx.key!, query.get('uploadId')!);
        const part = await store.putPart(upload, partNumber, req, writeOptions(req));
        return send(ctx, 200, { etag: quoted(part.etag) });
      }
      case 'UploadPartCopy': {
        const partNumber = partNumberOf(ctx);
        const upload = await store.upload(bucket, ctx.key!, query.get('uploadId')!);
        const source = parseCopySource(header(req.headers, 'x-oss-copy-source')!);
        const sourceMeta = store.head(source.bucket, source.key);
        const rangeHeader = header(req.headers, 'x-oss-copy-source-range');
        const range = parseRange(rangeHeader, sourceMeta.size);
        if (range === 'invalid') throw ossErrors.invalidRange(rangeHeader!);
        const part = await store.copyPart(upload, partNumber, source.bucket, source.key, range);
        return sendXml(ctx, el('CopyPartResult', el('LastModified', iso(part.lastModified)), el('ETag', quoted(part.etag))), {
          etag: quoted(part.etag),
        });
      }
      case 'CompleteMultipartUpload':
        return completeUpload(ctx, await store.upload(bucket, ctx.key!, query.get('uploadId')!));
      case 'AbortMultipartUpload':
        await store.abortUpload(await store.upload(bucket, ctx.key!, query.get('uploadId')!));
        return send(ctx, 204, {});
      case 'ListParts':
        return listParts(ctx, await store.upload(bucket, ctx.key!, query.get('uploadId')!));
      case 'PutBucketAcl':
      default:
        throw ossErrors.notImplemented(`${req.method} ${ctx.operation === 'Unsupported' ? 'with these parameters' : ctx.operation}`);
    }
  }

  return (req, res) => {
    const ctx: Context = { req, res, requestId: requestId(), query: new URLSearchParams(), operation: 'Unknown', status: 0 };
    res.setHeader('x-oss-request-id', ctx.requestId);
    res.setHeader('server', 'AliyunOSS');
    res.setHeader('date', new Date().toUTCString());
    void (async () => {
      try {
        const parsed = parsePath(req.url ?? '/');
        ctx.bucket = parsed.bucket;
        ctx.key = parsed.key;
        ctx.query = parsed.query;
        ctx.operation = operationOf(ctx);
        authenticate(ctx);
        const fault = takeFault(ctx);
        if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        if (fault?.kind === 'reset') {
          ctx.status = -1;
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'error') {
          throw new OssError(fault.code ?? 'ServiceUnavailable', fault.status ?? 503, 'Injected failure: the service is unavailable.');
        }
        await dispatch(ctx, fault);
      } catch (error) {
        if (res.headersSent) {
          res.destroy();
        } else if (error instanceof OssError) {
          sendError(ctx, error);
        } else if (req.destroyed || (error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as Error).name === 'AbortError') {
          ctx.status = -1; // the client went away mid-request
        } else {
          sendError(ctx, ossErrors.internal());
        }
      } finally {
        options.onRequest?.({ operation: ctx.operation, method: req.method ?? '', bucket: ctx.bucket, key: ctx.key, status: ctx.status });
      }
    })();
  };
}
