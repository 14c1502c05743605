// Evaluates a parsed SELECT against tables computed from the simulator state.
import type { Expr, SelectStmt } from './ast.js';
import type { ColumnDef, ColumnType, Row, TableDef } from './catalog.js';
import { ObError, unknownColumn, unknownFunction } from '../errors.js';
import { SqlTime, compare, formatTime, isTrue, like, parseTime, toNumber, toText, type SqlValue } from './values.js';

export interface EvalContext {
  nowUsec(): number;
  tzOffsetMinutes(): number;
  resolveTable(schema: string | undefined, name: string): TableDef;
  sysvar(name: string, scope?: 'global' | 'session'): SqlValue;
  uservar(name: string): SqlValue;
  /** session/cluster functions such as VERSION(); undefined when the name is not one of them */
  special(name: string, args: SqlValue[]): SqlValue | undefined;
}

export interface ResultSet {
  columns: ColumnDef[];
  rows: SqlValue[][];
}

interface Source {
  alias: string;
  columns: ColumnDef[];
}

interface Env {
  row: Row | null;
  group: Row[] | null;
  source: Source | null;
  clause: string;
  outer?: Env;
}

const AGGREGATES = new Set(['COUNT', 'MAX', 'MIN', 'SUM', 'AVG', 'GROUP_CONCAT']);

export function executeSelect(stmt: SelectStmt, ctx: EvalContext, outer?: Env): ResultSet {
  let source: Source | null = null;
  let rows: Row[] = [{}];
  if (stmt.from) {
    if (stmt.from.subquery) {
      const sub = executeSelect(stmt.from.subquery, ctx, outer);
      source = { alias: stmt.from.alias ?? '', columns: sub.columns };
      rows = sub.rows.map((r) => Object.fromEntries(sub.columns.map((c, i) => [c.name.toUpperCase(), r[i]])));
    } else {
      const table = ctx.resolveTable(stmt.from.schema, stmt.from.name!);
      source = { alias: stmt.from.alias ?? table.name, columns: table.columns };
      // column lookups are case-insensitive: rows are keyed by upper-case names
      rows = table.rows().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toUpperCase(), v])));
    }
  }
  const mk = (row: Row | null, group: Row[] | null, clause: string): Env => ({ row, group, source, clause, outer });

  if (stmt.where) rows = rows.filter((r) => isTrue(evaluate(stmt.where!, mk(r, null, 'where clause'), ctx)));

  const aggregated = stmt.groupBy.length > 0 || stmt.items.some((i) => hasAggregate(i.expr)) || (stmt.having !== undefined);
  // each output row keeps the environment it came from, for ORDER BY on non-selected columns
  let envs: Env[];
  if (aggregated) {
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const key = JSON.stringify(stmt.groupBy.map((g) => keyOf(evaluate(g, mk(r, null, 'group statement'), ctx))));
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    if (groups.size === 0 && stmt.groupBy.length === 0) groups.set('[]', []);
    envs = [...groups.values()].map((g) => mk(g[0] ?? null, g, 'field list'));
    if (stmt.having) envs = envs.filter((e) => isTrue(evaluate(stmt.having!, { ...e, clause: 'having clause' }, ctx)));
  } else {
    envs = rows.map((r) => mk(r, null, 'field list'));
  }

  const columns: ColumnDef[] = [];
  const producers: ((e: Env) => SqlValue)[] = [];
  for (const item of stmt.items) {
    if (item.expr.type === 'star') {
      if (!source) throw new ObError(1096, 'No tables used', 'HY000');
      for (const c of source.columns) {
        columns.push({ name: c.name, type: c.type });
        const key = c.name.toUpperCase();
        producers.push((e) => (e.row ? (e.row[key] ?? null) : null));
      }
      continue;
    }
    const declared = item.expr.type === 'column' && source ? source.columns.find((c) => c.name.toUpperCase() === (item.expr as { name: string }).name.toUpperCase()) : undefined;
    columns.push({ name: item.label, type: declared?.type ?? 'null' });
    const expr = item.expr;
    producers.push((e) => evaluate(expr, e, ctx));
  }

  let out = envs.map((e) => ({ env: e, values: producers.map((p) => p(e)) }));

  if (stmt.distinct) {
    const seen = new Set<string>();
    out = out.filter((o) => {
      const k = JSON.stringify(o.values.map(keyOf));
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  if (stmt.orderBy.length > 0) {
    const keyFns = stmt.orderBy.map((o) => {
      const ex = o.expr;
      if (ex.type === 'literal' && typeof ex.value === 'number') {
        const idx = ex.value - 1;
        if (idx < 0 || idx >= columns.length) throw new ObError(1054, `Unknown column '${ex.value}' in 'order clause'`, '42S22');
        return (o2: { values: SqlValue[] }) => o2.values[idx];
      }
      if (ex.type === 'column' && !ex.table) {
        const idx = stmt.items.findIndex((i) => i.alias !== undefined && i.alias.toUpperCase() === ex.name.toUpperCase());
        if (idx >= 0) {
          const colIdx = columnIndexOfItem(stmt, idx, source);
          return (o2: { values: SqlValue[] }) => o2.values[colIdx];
        }
      }
      return (o2: { env: Env }) => evaluate(ex, { ...o2.env, clause: 'order clause' }, ctx);
    });
    const tz = ctx.tzOffsetMinutes();
    const keyed = out.map((o) => ({ o, keys: keyFns.map((f) => f(o)) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < keyFns.length; i++) {
        const x = a.keys[i];
        const y = b.keys[i];
        let c: number;
        if (x === null && y === null) c = 0;
        else if (x === null) c = -1; // NULLs first ascending, as MySQL
        else if (y === null) c = 1;
        else c = compare(x, y, tz) ?? 0;
        if (c !== 0) return stmt.orderBy[i].desc ? -c : c;
      }
      return 0;
    });
    out = keyed.map((k) => k.o);
  }

  if (stmt.limit) out = out.slice(stmt.limit.offset, stmt.limit.offset + stmt.limit.count);

  let result: ResultSet = { columns, rows: out.map((o) => o.values) };
  if (stmt.union) {
    const other = executeSelect(stmt.union.select, ctx, outer);
    if (other.columns.length !== columns.length) {
      throw new ObError(1222, 'The used SELECT statements have a different number of columns', '21000');
    }
    let rowsU = [...result.rows, ...other.rows];
    if (!stmt.union.all) {
      const seen = new Set<string>();
      rowsU = rowsU.filter((r) => {
        const k = JSON.stringify(r.map(keyOf));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    result = { columns, rows: rowsU };
  }
  // give computed columns a wire type from their values
  result.columns = result.columns.map((c, i) => (c.type === 'null' ? { name: c.name, type: inferType(result.rows.map((r) => r[i])) } : c));
  return result;
}

function columnIndexOfItem(stmt: SelectStmt, itemIdx: number, source: Source | null): number {
  let n = 0;
  for (let i = 0; i < itemIdx; i++) n += stmt.items[i].expr.type === 'star' ? (source?.columns.length ?? 0) : 1;
  return n;
}

function inferType(values: SqlValue[]): ColumnType {
  const v = values.find((x) => x !== null);
  if (v === undefined) return 'varchar';
  if (v instanceof SqlTime) return 'datetime';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return values.every((x) => x === null || (typeof x === 'number' && Number.isInteger(x)) || typeof x === 'bigint') ? 'int' : 'double';
  if (typeof v === 'boolean') return 'int';
  return 'varchar';
}

function keyOf(v: SqlValue): string | number | null {
  if (v === null) return null;
  if (v instanceof SqlTime) return `t${v.usec}`;
  if (typeof v === 'string') return `s${v.toLowerCase()}`;
  if (typeof v === 'bigint') return `n${v}`;
  return `n${v}`;
}

function hasAggregate(e: Expr): boolean {
  switch (e.type) {
    case 'func':
      return AGGREGATES.has(e.name) || e.args.some(hasAggregate);
    case 'binary':
      return hasAggregate(e.left) || hasAggregate(e.right);
    case 'unary':
    case 'isnull':
      return hasAggregate(e.operand);
    case 'between':
      return hasAggregate(e.operand) || hasAggregate(e.low) || hasAggregate(e.high);
    case 'like':
      return hasAggregate(e.operand) || hasAggregate(e.pattern);
    case 'in':
      return hasAggregate(e.operand) || (e.list ?? []).some(hasAggregate);
    case 'case':
      return (e.operand ? hasAggregate(e.operand) : false) || e.whens.some((w) => hasAggregate(w.when) || hasAggregate(w.then)) || (e.otherwise ? hasAggregate(e.otherwise) : false);
    default:
      return false;
  }
}

function lookupColumn(env: Env | undefined, table: string | undefined, name: string): { found: boolean; value: SqlValue } {
  for (let e = env; e; e = e.outer) {
    if (!e.source) continue;
    if (table && e.source.alias.toUpperCase() !== table.toUpperCase()) continue;
    const key = name.toUpperCase();
    if (e.source.columns.some((c) => c.name.toUpperCase() === key)) {
      return { found: true, value: e.row ? (e.row[key] ?? null) : null };
    }
  }
  return { found: false, value: null };
}

export function evaluate(e: Expr, env: Env, ctx: EvalContext): SqlValue {
  const tz = ctx.tzOffsetMinutes();
  switch (e.type) {
    case 'literal':
      return e.value;
    case 'column': {
      const r = lookupColumn(env, e.table, e.name);
      if (!r.found) throw unknownColumn(e.table ? `${e.table}.${e.name}` : e.name, env.clause);
      return r.value;
    }
    case 'star':
      throw new ObError(1064, "You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near '*' at line 1", '42000');
    case 'sysvar':
      return ctx.sysvar(e.name, e.scope);
    case 'uservar':
      return ctx.uservar(e.name);
    case 'subquery': {
      const rs = executeSelect(e.query, ctx, env);
      if (rs.rows.length > 1) throw new ObError(1242, 'Subquery returns more than 1 row', '21000');
      return rs.rows[0]?.[0] ?? null;
    }
    case 'exists':
      return executeSelect(e.query, ctx, env).rows.length > 0 ? 1 : 0;
    case 'row':
      throw new ObError(1241, 'Operand should contain 1 column(s)', '21000');
    case 'interval':
      throw new ObError(1064, "You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near 'INTERVAL' at line 1", '42000');
    case 'unary': {
      const v = evaluate(e.operand, env, ctx);
      if (e.op === 'NOT') return v === null ? null : isTrue(v) ? 0 : 1;
      if (v === null) return null;
      if (typeof v === 'bigint') return -v;
      return -(toNumber(v) ?? 0);
    }
    case 'isnull': {
      const v = evaluate(e.operand, env, ctx);
      return (v === null) !== e.not ? 1 : 0;
    }
    case 'between': {
      const v = evaluate(e.operand, env, ctx);
      const lo = compare(v, evaluate(e.low, env, ctx), tz);
      const hi = compare(v, evaluate(e.high, env, ctx), tz);
      if (lo === null || hi === null) return null;
      return (lo >= 0 && hi <= 0) !== e.not ? 1 : 0;
    }
    case 'like': {
      const v = evaluate(e.operand, env, ctx);
      const p = evaluate(e.pattern, env, ctx);
      if (v === null || p === null) return null;
      return like(toText(v, tz)!, toText(p, tz)!) !== e.not ? 1 : 0;
    }
    case 'in':
      return evalIn(e, env, ctx);
    case 'case': {
      const base = e.operand ? evaluate(e.operand, env, ctx) : undefined;
      for (const w of e.whens) {
        const cond = evaluate(w.when, env, ctx);
        const hit = base === undefined ? isTrue(cond) : compare(base, cond, tz) === 0;
        if (hit) return evaluate(w.then, env, ctx);
      }
      return e.otherwise ? evaluate(e.otherwise, env, ctx) : null;
    }
    case 'binary':
      return evalBinary(e.op, e.left, e.right, env, ctx);
    case 'func':
      return evalFunc(e, env, ctx);
  }
}

function evalIn(e: Extract<Expr, { type: 'in' }>, env: Env, ctx: EvalContext): SqlValue {
  const tz = ctx.tzOffsetMinutes();
  const leftItems = e.operand.type === 'row' ? e.operand.items.map((x) => evaluate(x, env, ctx)) : [evaluate(e.operand, env, ctx)];
  let candidates: SqlValue[][];
  if (e.subquery) {
    candidates = executeSelect(e.subquery, ctx, env).rows;
  } else {
    candidates = e.list!.map((x) => (x.type === 'row' ? x.items.map((i) => evaluate(i, env, ctx)) : [evaluate(x, env, ctx)]));
  }
  let sawNull = false;
  for (const cand of candidates) {
    if (cand.length !== leftItems.length) throw new ObError(1241, `Operand should contain ${leftItems.length} column(s)`, '21000');
    const cmp = leftItems.map((v, i) => compare(v, cand[i], tz));
    if (cmp.every((c) => c === 0)) return e.not ? 0 : 1;
    if (cmp.some((c) => c === null)) sawNull = true;
  }
  if (sawNull) return null;
  return e.not ? 1 : 0;
}

const UNIT_USEC: Record<string, number> = {
  MICROSECOND: 1,
  SECOND: 1e6,
  MINUTE: 60e6,
  HOUR: 3600e6,
  DAY: 86400e6,
  WEEK: 7 * 86400e6,
};

function intervalUsec(unit: string, n: number): number {
  const u = UNIT_USEC[unit];
  if (u === undefined) throw new ObError(1064, `You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near '${unit}' at line 1`, '42000');
  return n * u;
}

function toTime(v: SqlValue, tz: number): number | null {
  if (v === null) return null;
  if (v instanceof SqlTime) return v.usec;
  if (typeof v === 'string') return parseTime(v, tz);
  return null;
}

function evalBinary(op: string, l: Expr, r: Expr, env: Env, ctx: EvalContext): SqlValue {
  const tz = ctx.tzOffsetMinutes();
  if (op === 'AND') {
    const a = evaluate(l, env, ctx);
    if (a !== null && !isTrue(a)) return 0;
    const b = evaluate(r, env, ctx);
    if (b !== null && !isTrue(b)) return 0;
    return a === null || b === null ? null : 1;
  }
  if (op === 'OR') {
    const a = evaluate(l, env, ctx);
    if (a !== null && isTrue(a)) return 1;
    const b = evaluate(r, env, ctx);
    if (b !== null && isTrue(b)) return 1;
    return a === null || b === null ? null : 0;
  }
  if ((op === '+' || op === '-') && (r.type === 'interval' || l.type === 'interval')) {
    const timeSide = r.type === 'interval' ? l : r;
    const iv = (r.type === 'interval' ? r : l) as Extract<Expr, { type: 'interval' }>;
    const t = toTime(evaluate(timeSide, env, ctx), tz);
    const n = toNumber(evaluate(iv.value, env, ctx));
    if (t === null || n === null) return null;
    return new SqlTime(t + (op === '-' ? -1 : 1) * intervalUsec(iv.unit, n));
  }
  const a = evaluate(l, env, ctx);
  const b = evaluate(r, env, ctx);
  if (op === 'XOR') return a === null || b === null ? null : isTrue(a) !== isTrue(b) ? 1 : 0;
  if (op === '<=>') return (a === null && b === null) || compare(a, b, tz) === 0 ? 1 : 0;
  if (['=', '<>', '<', '<=', '>', '>='].includes(op)) {
    const c = compare(a, b, tz);
    if (c === null) return null;
    switch (op) {
      case '=': return c === 0 ? 1 : 0;
      case '<>': return c !== 0 ? 1 : 0;
      case '<': return c < 0 ? 1 : 0;
      case '<=': return c <= 0 ? 1 : 0;
      case '>': return c > 0 ? 1 : 0;
      default: return c >= 0 ? 1 : 0;
    }
  }
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint' && (op === '+' || op === '-' || op === '*')) {
    return op === '+' ? a + b : op === '-' ? a - b : a * b;
  }
  const x = toNumber(a)!;
  const y = toNumber(b)!;
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return y === 0 ? null : x / y;
    case '%': return y === 0 ? null : x % y;
    case 'DIV': return y === 0 ? null : Math.trunc(x / y);
  }
  throw new ObError(1064, `You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near '${op}' at line 1`, '42000');
}

function evalAggregate(e: Extract<Expr, { type: 'func' }>, env: Env, ctx: EvalContext): SqlValue {
  const group = env.group ?? (env.row ? [env.row] : []);
  const tz = ctx.tzOffsetMinutes();
  const values = (): SqlValue[] => {
    let vs = group.map((row) => evaluate(e.args[0], { ...env, row, group: null }, ctx)).filter((v) => v !== null);
    if (e.distinct) {
      const seen = new Set<string | number | null>();
      vs = vs.filter((v) => {
        const k = keyOf(v);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    return vs;
  };
  switch (e.name) {
    case 'COUNT':
      return e.star ? group.length : values().length;
    case 'MAX':
    case 'MIN': {
      const vs = values();
      if (vs.length === 0) return null;
      return vs.reduce((best, v) => {
        const c = compare(v, best, tz) ?? 0;
        return (e.name === 'MAX' ? c > 0 : c < 0) ? v : best;
      });
    }
    case 'SUM': {
      const vs = values();
      if (vs.length === 0) return null;
      if (vs.every((v) => typeof v === 'bigint')) return (vs as bigint[]).reduce((s, v) => s + v, 0n);
      return vs.reduce<number>((s, v) => s + (toNumber(v) ?? 0), 0);
    }
    case 'AVG': {
      const vs = values();
      if (vs.length === 0) return null;
      return vs.reduce<number>((s, v) => s + (toNumber(v) ?? 0), 0) / vs.length;
    }
    default: {
      const vs = values();
      return vs.length === 0 ? null : vs.map((v) => toText(v, tz)).join(',');
    }
  }
}

function evalFunc(e: Extract<Expr, { type: 'func' }>, env: Env, ctx: EvalContext): SqlValue {
  if (AGGREGATES.has(e.name)) return evalAggregate(e, env, ctx);
  const tz = ctx.tzOffsetMinutes();
  const name = e.name;
  // functions whose arguments are not plain values
  if (name === 'DATE_SUB' || name === 'DATE_ADD' || name === 'SUBDATE' || name === 'ADDDATE') {
    const t = toTime(evaluate(e.args[0], env, ctx), tz);
    const iv = e.args[1];
    let delta: number;
    if (iv?.type === 'interval') delta = intervalUsec(iv.unit, toNumber(evaluate(iv.value, env, ctx)) ?? 0);
    else delta = (toNumber(evaluate(iv, env, ctx)) ?? 0) * UNIT_USEC.DAY;
    if (t === null) return null;
    return new SqlTime(t + (name === 'DATE_SUB' || name === 'SUBDATE' ? -delta : delta));
  }
  if (name === 'TIMESTAMPDIFF') {
    const unit = e.args[0].type === 'column' ? e.args[0].name.toUpperCase() : '';
    const a = toTime(evaluate(e.args[1], env, ctx), tz);
    const b = toTime(evaluate(e.args[2], env, ctx), tz);
    if (a === null || b === null) return null;
    return Math.trunc((b - a) / intervalUsec(unit, 1));
  }
  const args = e.args.map((a) => evaluate(a, env, ctx));
  const special = ctx.special(name, args);
  if (special !== undefined) return special;
  const num = (i: number) => toNumber(args[i] ?? null);
  const str = (i: number) => toText(args[i] ?? null, tz);
  const nowT = () => new SqlTime(ctx.nowUsec());
  switch (name) {
    case 'NOW':
    case 'CURRENT_TIMESTAMP':
    case 'SYSDATE':
    case 'LOCALTIMESTAMP':
    case 'LOCALTIME': {
      const precision = num(0) ?? 0;
      const us = ctx.nowUsec();
      const unit = 10 ** (6 - Math.min(6, Math.max(0, precision)));
      return new SqlTime(Math.floor(us / unit) * unit);
    }
    case 'UTC_TIMESTAMP':
      return new SqlTime(Math.floor(ctx.nowUsec() / 1e6) * 1e6 - tz * 60e6);
    case 'CURDATE':
    case 'CURRENT_DATE':
      return formatTime(ctx.nowUsec(), tz).slice(0, 10);
    case 'UNIX_TIMESTAMP': {
      if (args.length === 0) return Math.floor(ctx.nowUsec() / 1e6);
      const t = toTime(args[0], tz);
      return t === null ? null : t / 1e6;
    }
    case 'FROM_UNIXTIME':
      return args[0] === null ? null : new SqlTime(Math.round((num(0) ?? 0) * 1e6));
    case 'TIME_TO_USEC': {
      const t = toTime(args[0], tz);
      return t;
    }
    case 'USEC_TO_TIME':
      return args[0] === null ? null : new SqlTime(Number(args[0]));
    case 'SCN_TO_TIMESTAMP':
      return args[0] === null ? null : new SqlTime(Math.floor(Number(BigInt(String(args[0])) / 1000n)));
    case 'TIMESTAMP_TO_SCN': {
      const t = toTime(args[0], tz);
      return t === null ? null : BigInt(t) * 1000n;
    }
    case 'DATE_FORMAT': {
      const t = toTime(args[0], tz);
      const f = str(1);
      if (t === null || f === null) return null;
      return dateFormat(t, f, tz);
    }
    case 'DATE': {
      const t = toTime(args[0], tz);
      return t === null ? null : formatTime(t, tz).slice(0, 10);
    }
    case 'DATEDIFF': {
      const a = toTime(args[0], tz);
      const b = toTime(args[1], tz);
      if (a === null || b === null) return null;
      const day = (u: number) => Math.floor((u / 1000 + tz * 60_000) / 86_400_000);
      return day(a) - day(b);
    }
    case 'IFNULL':
    case 'NVL':
      return args[0] ?? args[1] ?? null;
    case 'COALESCE':
      return args.find((a) => a !== null) ?? null;
    case 'IF':
      return isTrue(args[0]) ? args[1] : args[2];
    case 'NULLIF':
      return compare(args[0], args[1], tz) === 0 ? null : args[0];
    case 'CONCAT':
      return args.some((a) => a === null) ? null : args.map((a) => toText(a, tz)).join('');
    case 'CONCAT_WS':
      return args[0] === null ? null : args.slice(1).filter((a) => a !== null).map((a) => toText(a, tz)).join(str(0)!);
    case 'UPPER':
    case 'UCASE':
      return args[0] === null ? null : str(0)!.toUpperCase();
    case 'LOWER':
    case 'LCASE':
      return args[0] === null ? null : str(0)!.toLowerCase();
    case 'LENGTH':
    case 'CHAR_LENGTH':
      return args[0] === null ? null : Buffer.byteLength(str(0)!);
    case 'TRIM':
      return args[0] === null ? null : str(0)!.trim();
    case 'SUBSTR':
    case 'SUBSTRING': {
      if (args[0] === null) return null;
      const s = str(0)!;
      const p = num(1) ?? 1;
      const start = p > 0 ? p - 1 : s.length + p;
      return args.length > 2 ? s.substr(start, num(2) ?? 0) : s.slice(start);
    }
    case 'SUBSTRING_INDEX': {
      if (args[0] === null) return null;
      const parts = str(0)!.split(str(1)!);
      const n = num(2) ?? 0;
      return n >= 0 ? parts.slice(0, n).join(str(1)!) : parts.slice(n).join(str(1)!);
    }
    case 'REPLACE':
      return args[0] === null ? null : str(0)!.split(str(1)!).join(str(2)!);
    case 'LEFT':
      return args[0] === null ? null : str(0)!.slice(0, num(1) ?? 0);
    case 'RIGHT':
      return args[0] === null ? null : str(0)!.slice(-(num(1) ?? 0));
    case 'INSTR':
      return args[0] === null ? null : str(0)!.toLowerCase().indexOf(str(1)!.toLowerCase()) + 1;
    case 'LOCATE':
      return args[1] === null ? null : str(1)!.toLowerCase().indexOf(str(0)!.toLowerCase()) + 1;
    case 'REGEXP_LIKE':
      return args[0] === null || args[1] === null ? null : new RegExp(str(1)!, 'i').test(str(0)!) ? 1 : 0;
    case 'ROUND': {
      if (args[0] === null) return null;
      const d = num(1) ?? 0;
      const f = 10 ** d;
      return Math.round(num(0)! * f) / f;
    }
    case 'TRUNCATE': {
      if (args[0] === null) return null;
      const f = 10 ** (num(1) ?? 0);
      return Math.trunc(num(0)! * f) / f;
    }
    case 'FLOOR':
      return args[0] === null ? null : Math.floor(num(0)!);
    case 'CEIL':
    case 'CEILING':
      return args[0] === null ? null : Math.ceil(num(0)!);
    case 'ABS':
      return args[0] === null ? null : Math.abs(num(0)!);
    case 'GREATEST':
    case 'LEAST': {
      if (args.some((a) => a === null)) return null;
      return args.reduce((best, v) => {
        const c = compare(v, best, tz) ?? 0;
        return (name === 'GREATEST' ? c > 0 : c < 0) ? v : best;
      });
    }
    case 'CAST':
    case 'CONVERT': {
      const v = args[0];
      const type = String(args[1] ?? 'CHAR').toUpperCase();
      if (v === null) return null;
      if (type === 'SIGNED' || type === 'UNSIGNED' || type === 'INT' || type === 'INTEGER') {
        if (typeof v === 'bigint') return v;
        return Math.trunc(toNumber(v)!);
      }
      if (type === 'DECIMAL' || type === 'DOUBLE' || type === 'FLOAT') return toNumber(v);
      if (type === 'DATETIME' || type === 'TIMESTAMP') {
        const t = toTime(v, tz);
        return t === null ? null : new SqlTime(t);
      }
      return toText(v, tz);
    }
  }
  throw unknownFunction(name);
}

function dateFormat(usec: number, fmt: string, tz: number): string {
  const full = formatTime(usec, tz);
  const [date, time] = full.split(' ');
  const [Y, m, d] = date.split('-');
  const [H, i, sf] = time.split(':');
  const [s, f] = sf.split('.');
  return fmt.replace(/%([a-zA-Z%])/g, (_, k: string) => {
    switch (k) {
      case 'Y': return Y;
      case 'y': return Y.slice(2);
      case 'm': return m;
      case 'c': return String(Number(m));
      case 'd': return d;
      case 'e': return String(Number(d));
      case 'H': return H;
      case 'k': return String(Number(H));
      case 'i': return i;
      case 's':
      case 'S': return s;
      case 'f': return f;
      case 'T': return `${H}:${i}:${s}`;
      case '%': return '%';
      default: return k;
    }
  });
}
