// Reading values out of result rows whatever case the server used for column names and whatever
// JavaScript type mysql2 chose (BIGINT/DECIMAL arrive as strings with bigNumberStrings).

export type Row = Record<string, unknown>;

/** A row whose columns are looked up case-insensitively. */
export class RowReader {
  private readonly byName = new Map<string, unknown>();

  constructor(row: Row) {
    for (const [k, v] of Object.entries(row)) this.byName.set(k.toLowerCase(), v);
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  raw(name: string): unknown {
    return this.byName.get(name.toLowerCase());
  }

  /** the first of several column names that exists (views differ between versions) */
  first(...names: string[]): unknown {
    for (const n of names) {
      const v = this.byName.get(n.toLowerCase());
      if (v !== undefined) return v;
    }
    return undefined;
  }

  str(...names: string[]): string | null {
    return asString(this.first(...names));
  }

  int(...names: string[]): number | null {
    return asInt(this.first(...names));
  }

  num(...names: string[]): number | null {
    return asNumber(this.first(...names));
  }

  big(...names: string[]): bigint | null {
    return asBigInt(this.first(...names));
  }

  date(...names: string[]): Date | null {
    return asDate(this.first(...names));
  }

  bool(...names: string[]): boolean | null {
    return asBool(this.first(...names));
  }
}

export function rows(list: Row[]): RowReader[] {
  return list.map((r) => new RowReader(r));
}

export function asString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

export function asNumber(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  const n = Number(asString(v));
  return Number.isFinite(n) ? n : null;
}

export function asInt(v: unknown): number | null {
  const n = asNumber(v);
  return n === null ? null : Math.trunc(n);
}

export function asBigInt(v: unknown): bigint | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : null;
  const s = asString(v)!.trim();
  if (/^-?\d+$/.test(s)) return BigInt(s);
  const n = Number(s);
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : null;
}

export function asBool(v: unknown): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = asString(v)!.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', 'n', ''].includes(s)) return false;
  return null;
}

/**
 * A point in time from a TIMESTAMP/DATETIME value (mysql2 gives a Date; the session runs in UTC) or from
 * an integer: nanoseconds (SCN), microseconds, milliseconds or seconds since the epoch, told apart by size.
 * Zero, negative and the maximum SCN mean "none".
 */
export function asDate(v: unknown): Date | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  const s = asString(v)!.trim();
  if (/^\d+$/.test(s)) return epochToDate(BigInt(s));
  // 'YYYY-MM-DD HH:MM:SS[.ffffff]' as text: the session time zone is UTC
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(s);
  if (m) {
    const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms));
    return d.getTime() <= 0 ? null : d;
  }
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Integer epoch of unknown unit → Date (ns ≥ 1e17, µs ≥ 1e14, ms ≥ 1e11, else s). */
export function epochToDate(n: bigint): Date | null {
  if (n <= 0n || n >= 4611686018427387903n) return null; // OB_MAX_SCN_TS_NS and beyond: "not yet"
  let ms: bigint;
  if (n >= 100_000_000_000_000_000n) ms = n / 1_000_000n;
  else if (n >= 100_000_000_000_000n) ms = n / 1_000n;
  else if (n >= 100_000_000_000n) ms = n;
  else ms = n * 1000n;
  return new Date(Number(ms));
}

/** SCN (ns since the epoch) → Date; 0 means none. */
export function scnToDate(v: unknown): Date | null {
  const n = asBigInt(v);
  if (n === null || n <= 0n || n >= 4611686018427387903n) return null;
  return new Date(Number(n / 1_000_000n));
}
