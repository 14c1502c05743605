// SQL text building: string literals escaped by mysql2's own escaper, identifiers and durations validated.
// ALTER SYSTEM statements go through the text protocol (query()), never prepared statements (reference §10).
import mysql from 'mysql2';
import { ObError } from './errors.js';

/** A quoted, escaped SQL string literal (backslashes, quotes and control characters escaped). */
export function sqlString(value: string): string {
  return mysql.escape(value);
}

const TENANT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A tenant name written as a bare identifier after validation (OceanBase tenant names are identifiers). */
export function tenantIdent(name: string): string {
  if (!TENANT_NAME.test(name)) {
    throw new ObError('invalid_argument', `"${name}" is not a valid OceanBase tenant name (letters, digits, underscores)`);
  }
  return name;
}

/** `TENANT = t1, t2` */
export function tenantList(names: readonly string[]): string {
  if (names.length === 0) throw new ObError('invalid_argument', 'at least one tenant is required');
  return `TENANT = ${names.map(tenantIdent).join(', ')}`;
}

export function sqlInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new ObError('invalid_argument', `${value} is not an integer`);
  return String(value);
}

const UNIT_SECONDS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds in an OceanBase duration: `7d`, `12h`, `120s`, `500ms`; a bare number is microseconds
 * (how time parameters are stored). `0` is zero. Returns null for anything else.
 */
export function parseDurationSeconds(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  return unit === undefined ? n / 1e6 : n * UNIT_SECONDS[unit];
}

/** A duration as OceanBase writes it: whole days as `Nd`, else hours, minutes or seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0 || !Number.isInteger(seconds)) {
    throw new ObError('invalid_argument', `${seconds} is not a whole, non-negative number of seconds`);
  }
  if (seconds === 0) return '0';
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Validates a duration argument such as `1d` or `7d` and returns it normalised. */
export function durationLiteral(text: string, what: string): string {
  const s = parseDurationSeconds(text);
  if (s === null || !Number.isInteger(s)) {
    throw new ObError('invalid_argument', `${what} "${text}" is not a duration such as 1d, 12h or 120s`);
  }
  return formatDuration(s);
}

/** A destination URI checked for what OceanBase cannot take inside its option strings. */
export function destinationUri(uri: string, what = 'destination'): string {
  if (!/^[a-z][a-z0-9]*:\/\/\S+$/i.test(uri)) {
    throw new ObError('invalid_argument', `${what} must be a URI such as file:///path or oss://bucket/path?host=…, without spaces`);
  }
  return uri;
}
