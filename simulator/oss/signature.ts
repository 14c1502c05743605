// OSS signature V1 (the scheme ali-oss uses unless `authorizationV4: true`):
//   Authorization: OSS <AccessKeyId>:base64(HMAC-SHA1(secret, VERB \n Content-MD5 \n Content-Type \n Date \n
//                  CanonicalizedOSSHeaders CanonicalizedResource))
// and the same string with Expires in place of Date for presigned URLs (?OSSAccessKeyId&Expires&Signature).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Query parameters that are part of the signed resource; every other parameter is left out of the signature. */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'append', 'bucketInfo', 'callback', 'callback-var', 'cname', 'comp', 'continuation-token', 'cors',
  'delete', 'encryption', 'endTime', 'img', 'inventory', 'inventoryId', 'lifecycle', 'live', 'location',
  'logging', 'objectMeta', 'partNumber', 'policy', 'position', 'qos', 'referer', 'regionList', 'replication',
  'replicationLocation', 'replicationProgress', 'requestPayment', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'security-token', 'sequential', 'startTime', 'stat',
  'status', 'style', 'styleName', 'symlink', 'tagging', 'transferAcceleration', 'udf', 'uploadId', 'uploads',
  'versionId', 'versioning', 'versions', 'vod', 'website', 'worm', 'wormExtend', 'wormId', 'x-oss-process',
  'x-oss-traffic-limit',
]);

export function canonicalResource(bucket: string | undefined, key: string | undefined, query: URLSearchParams): string {
  let resource = '/';
  if (bucket) resource += `${bucket}/`;
  if (key) resource += key;
  const signed = [...new Set([...query.keys()].filter((name) => SIGNED_SUBRESOURCES.has(name)))].sort();
  if (signed.length > 0) {
    resource += '?' + signed.map((name) => {
      const value = query.get(name);
      return value ? `${name}=${value}` : name;
    }).join('&');
  }
  return resource;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  // Node hands header bytes over as latin1; signers hash the UTF-8 text those bytes spell.
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** The string a V1 signature covers; `dateOrExpires` is the Date line (x-oss-date wins over Date, as ali-oss signs). */
export function stringToSign(
  method: string,
  headers: IncomingHttpHeaders,
  resource: string,
  dateOrExpires: string,
): string {
  const ossHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${headerValue(headers, name).trim()}`);
  return [
    method.toUpperCase(),
    headerValue(headers, 'content-md5'),
    headerValue(headers, 'content-type'),
    dateOrExpires,
    ...ossHeaders,
    resource,
  ].join('\n');
}

export function sign(secret: string, text: string): string {
  return createHmac('sha1', secret).update(Buffer.from(text, 'utf8')).digest('base64');
}

export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(provided);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type Credentials = { accessKeyId: string; accessKeySecret: string };

export type SignedRequest =
  | { kind: 'header'; accessKeyId: string; signature: string; date: string }
  | { kind: 'query'; accessKeyId: string; signature: string; expires: string }
  | { kind: 'anonymous' }
  | { kind: 'unsupported'; scheme: string };

export function readSignature(headers: IncomingHttpHeaders, query: URLSearchParams): SignedRequest {
  const authorization = headerValue(headers, 'authorization');
  if (authorization) {
    const match = /^OSS ([^:\s]+):(\S+)$/.exec(authorization.trim());
    if (!match) return { kind: 'unsupported', scheme: authorization.split(/\s/)[0] ?? '' };
    const date = headerValue(headers, 'x-oss-date') || headerValue(headers, 'date');
    return { kind: 'header', accessKeyId: match[1], signature: match[2], date };
  }
  const id = query.get('OSSAccessKeyId');
  const signature = query.get('Signature');
  const expires = query.get('Expires');
  if (id && signature && expires) return { kind: 'query', accessKeyId: id, signature, expires };
  return { kind: 'anonymous' };
}
