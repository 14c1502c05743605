// OceanBase destination URIs for a storage, and their redaction for logs.
//
// OceanBase reads the query part of `oss://bucket/path?host=…&access_id=…&access_key=…` literally: it
// splits it at `&` and matches `host=`, `access_id=`, `access_key=` prefixes, with no percent-decoding
// (deps/oblib/src/lib/restore/ob_storage_info.cpp, parse_storage_info_). Percent-encoding a value would
// therefore hand OceanBase a different credential. So values are written as they are, and values that
// cannot be carried (`&`, `?`, `#`, quotes, whitespace, control characters) are refused with a clear
// message instead. The path part is written as it is too, after the same check.
import type { StorageConfig } from './types.js';

const UNSAFE_VALUE = /[&?#'"`\\\s\u0000-\u001f\u007f]/;
const UNSAFE_PATH = /[?#'"`\\\s\u0000-\u001f\u007f]/;

export class DestinationUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationUriError';
  }
}

function check(value: string, field: string, pattern: RegExp): string {
  const bad = pattern.exec(value);
  if (bad) {
    const shown = bad[0].trim() === '' ? 'whitespace or a control character' : `"${bad[0]}"`;
    throw new DestinationUriError(`${field} contains ${shown}, which an OceanBase destination URI cannot carry`);
  }
  return value;
}

/** Splits an OSS storage path `bucket/prefix` into the bucket and the prefix (no leading or trailing `/`). */
export function splitOssPath(path: string): { bucket: string; prefix: string } {
  const trimmed = path.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  if (slash < 0) return { bucket: trimmed, prefix: '' };
  return { bucket: trimmed.slice(0, slash), prefix: trimmed.slice(slash + 1).replace(/^\/+|\/+$/g, '') };
}

/**
 * The destination OceanBase is given for a storage, optionally for a sub-directory of it:
 * `file:///data/backup[/sub]` or `oss://bucket/prefix[/sub]?host=ENDPOINT&access_id=ID&access_key=SECRET`.
 * The endpoint goes into `host=` as configured.
 */
export function destinationUri(storage: StorageConfig, subPath = ''): string {
  const sub = subPath.replace(/^\/+|\/+$/g, '');
  if (storage.type === 'file') {
    const base = storage.path.replace(/\/+$/, '') || '/';
    const full = sub ? `${base === '/' ? '' : base}/${sub}` : base;
    return `file://${check(full, 'path', UNSAFE_PATH)}`;
  }
  const { bucket, prefix } = splitOssPath(storage.path);
  const path = [bucket, prefix, sub].filter(Boolean).join('/');
  check(path, 'path', UNSAFE_PATH);
  const host = check(storage.endpoint, 'endpoint', UNSAFE_VALUE);
  const id = check(storage.access_key_id, 'access_key_id', UNSAFE_VALUE);
  const key = check(storage.access_key_secret, 'access_key_secret', UNSAFE_VALUE);
  return `oss://${path}?host=${host}&access_id=${id}&access_key=${key}`;
}

// Redaction is shared with the OceanBase driver, which logs statements holding these URIs:
// `access_key=…`/`access_id=…` values become `***`, wherever they appear in a text.
export { redactUri as redactDestinationUri, redact as redactSecrets } from '../oceanbase/redact.js';
