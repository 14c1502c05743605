// Runtime values of the SQL layer and their MySQL-like semantics (general_ci string compare, NULL).

/** A DATETIME/TIMESTAMP value, microseconds since the epoch (UTC). */
export class SqlTime {
  constructor(public readonly usec: number) {}
  toString(): string {
    return formatTime(this.usec, 0);
  }
}

export type SqlValue = null | number | bigint | string | SqlTime | boolean;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Formats µs since epoch as 'YYYY-MM-DD HH:MM:SS[.ffffff]' at the given UTC offset (minutes). */
export function formatTime(usec: number, offsetMinutes: number, fraction = true): string {
  const ms = Math.floor(usec / 1000) + offsetMinutes * 60_000;
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (!fraction) return base;
  const micros = ((usec % 1_000_000) + 1_000_000) % 1_000_000;
  return `${base}.${pad(micros, 6)}`;
}

/** Parses 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' written at the given UTC offset into µs since epoch. */
export function parseTime(text: string, offsetMinutes: number): number | null {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?$/.exec(text.trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return (ms - offsetMinutes * 60_000) * 1000 + frac;
}

export function isTrue(v: SqlValue): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return Number.parseFloat(v) !== 0 && !Number.isNaN(Number.parseFloat(v));
  return true;
}

export function toNumber(v: SqlValue): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof SqlTime) {
    // MySQL turns a datetime into YYYYMMDDhhmmss in numeric context; the simulator keeps that rule.
    return Number(formatTime(v.usec, 0, false).replace(/[^0-9]/g, ''));
  }
  const f = Number.parseFloat(v);
  return Number.isNaN(f) ? 0 : f;
}

export function toText(v: SqlValue, offsetMinutes = 0): string | null {
  if (v === null) return null;
  if (v instanceof SqlTime) return formatTime(v.usec, offsetMinutes);
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/** MySQL comparison: NULL if either side is NULL; strings compare case-insensitively (general_ci). */
export function compare(a: SqlValue, b: SqlValue, offsetMinutes = 0): number | null {
  if (a === null || b === null) return null;
  if (a instanceof SqlTime || b instanceof SqlTime) {
    const ua = a instanceof SqlTime ? a.usec : typeof a === 'string' ? parseTime(a, offsetMinutes) : null;
    const ub = b instanceof SqlTime ? b.usec : typeof b === 'string' ? parseTime(b, offsetMinutes) : null;
    if (ua !== null && ub !== null) return ua < ub ? -1 : ua > ub ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase().replace(/\s+$/, '');
    const y = b.toLowerCase().replace(/\s+$/, '');
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'bigint' && typeof b === 'number' && Number.isInteger(b)) || (typeof b === 'bigint' && typeof a === 'number' && Number.isInteger(a))) {
    const x = BigInt(a as number | bigint);
    const y = BigInt(b as number | bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toNumber(a)!;
  const y = toNumber(b)!;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** SQL LIKE with % and _ and backslash escape, case-insensitive. */
export function like(value: string, pattern: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) { re += escapeRe(pattern[++i]); continue; }
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  return new RegExp(`${re}$`, 'i').test(value);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
