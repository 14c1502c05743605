// Recursive-descent parser for SELECT and a token cursor the statement handlers use for the rest.
import type { Expr, SelectItem, SelectStmt, TableRef } from './ast.js';
import { SqlSyntaxError, tokenize, type Token } from './lexer.js';

const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'AS', 'AND', 'OR', 'NOT',
  'IN', 'IS', 'NULL', 'LIKE', 'BETWEEN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'ASC', 'DESC', 'UNION',
  'DISTINCT', 'ALL', 'EXISTS', 'JOIN', 'ON', 'LEFT', 'RIGHT', 'INNER', 'XOR', 'DIV', 'MOD', 'INTERVAL', 'REGEXP',
]);

export class Cursor {
  private i = 0;
  readonly tokens: Token[];
  constructor(readonly sql: string) {
    this.tokens = tokenize(sql);
  }
  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  get position(): number {
    return this.i;
  }
  set position(p: number) {
    this.i = p;
  }
  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }
  /** true when the next token is the keyword (case-insensitive, unquoted identifier) */
  isKw(kw: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toUpperCase() === kw;
  }
  acceptKw(...kws: string[]): boolean {
    for (let k = 0; k < kws.length; k++) if (!this.isKw(kws[k], k)) return false;
    this.i += kws.length;
    return true;
  }
  expectKw(...kws: string[]): void {
    for (const kw of kws) {
      if (!this.acceptKw(kw)) this.fail();
    }
  }
  isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }
  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail();
  }
  expectString(): string {
    const t = this.peek();
    if (t.kind !== 'string') this.fail();
    this.i++;
    return t.text;
  }
  expectNumber(): number {
    const t = this.peek();
    if (t.kind !== 'number') this.fail();
    this.i++;
    return Number(t.text);
  }
  /** an identifier (quoted or not) */
  expectIdent(): string {
    const t = this.peek();
    if (t.kind !== 'ident' && t.kind !== 'qident') this.fail();
    this.i++;
    return t.text;
  }
  /** a name given either as an identifier or as a string literal (OceanBase accepts both for tenant names) */
  expectName(): string {
    const t = this.peek();
    if (t.kind !== 'ident' && t.kind !== 'qident' && t.kind !== 'string') this.fail();
    this.i++;
    return t.text;
  }
  expectEnd(): void {
    if (!this.atEnd()) this.fail();
  }
  /** raises the MySQL 1064 error pointing at the current token */
  fail(): never {
    throw new SqlSyntaxError(this.sql.slice(this.peek().pos, this.peek().pos + 80));
  }
}

export function parseSelect(c: Cursor): SelectStmt {
  c.expectKw('SELECT');
  const distinct = c.acceptKw('DISTINCT');
  if (!distinct) c.acceptKw('ALL');
  const items: SelectItem[] = [];
  do {
    items.push(parseSelectItem(c));
  } while (c.acceptOp(','));
  const stmt: SelectStmt = { type: 'select', distinct, items, groupBy: [], orderBy: [] };
  if (c.acceptKw('FROM')) {
    stmt.from = parseTableRef(c);
    if (c.isOp(',') || c.isKw('JOIN') || c.isKw('LEFT') || c.isKw('INNER') || c.isKw('RIGHT')) c.fail();
  }
  if (c.acceptKw('WHERE')) stmt.where = parseExpr(c);
  if (c.acceptKw('GROUP', 'BY')) {
    do stmt.groupBy.push(parseExpr(c));
    while (c.acceptOp(','));
  }
  if (c.acceptKw('HAVING')) stmt.having = parseExpr(c);
  if (c.acceptKw('ORDER', 'BY')) {
    do {
      const expr = parseExpr(c);
      let desc = false;
      if (c.acceptKw('DESC')) desc = true;
      else c.acceptKw('ASC');
      stmt.orderBy.push({ expr, desc });
    } while (c.acceptOp(','));
  }
  if (c.acceptKw('LIMIT')) {
    const a = c.expectNumber();
    if (c.acceptOp(',')) stmt.limit = { offset: a, count: c.expectNumber() };
    else if (c.acceptKw('OFFSET')) stmt.limit = { count: a, offset: c.expectNumber() };
    else stmt.limit = { count: a, offset: 0 };
  }
  if (c.acceptKw('UNION')) {
    const all = c.acceptKw('ALL');
    if (!all) c.acceptKw('DISTINCT');
    stmt.union = { all, select: parseSelect(c) };
  }
  return stmt;
}

function parseTableRef(c: Cursor): TableRef {
  let ref: TableRef;
  if (c.acceptOp('(')) {
    ref = { subquery: parseSelect(c) };
    c.expectOp(')');
  } else {
    const first = c.expectIdent();
    if (c.acceptOp('.')) ref = { schema: first, name: c.expectIdent() };
    else ref = { name: first };
  }
  if (c.acceptKw('AS')) ref.alias = c.expectIdent();
  else {
    const t = c.peek();
    if ((t.kind === 'ident' && !RESERVED.has(t.text.toUpperCase())) || t.kind === 'qident') {
      ref.alias = c.next().text;
    }
  }
  return ref;
}

function parseSelectItem(c: Cursor): SelectItem {
  if (c.acceptOp('*')) return { expr: { type: 'star' }, label: '*' };
  const startTok = c.peek();
  const expr = parseExpr(c);
  const endTok = c.peek();
  let label = expr.type === 'column' ? expr.name : c.sql.slice(startTok.pos, endTok.pos).trim();
  if (expr.type === 'literal' && startTok.kind === 'string') label = String(expr.value);
  let alias: string | undefined;
  if (c.acceptKw('AS')) alias = c.expectName();
  else {
    const t = c.peek();
    if ((t.kind === 'ident' && !RESERVED.has(t.text.toUpperCase())) || t.kind === 'qident' || t.kind === 'string') alias = c.next().text;
  }
  return { expr, alias, label: alias ?? label };
}

export function parseExpr(c: Cursor): Expr {
  return parseOr(c);
}

function parseOr(c: Cursor): Expr {
  let left = parseXor(c);
  while (c.acceptKw('OR') || c.acceptOp('||')) left = { type: 'binary', op: 'OR', left, right: parseXor(c) };
  return left;
}

function parseXor(c: Cursor): Expr {
  let left = parseAnd(c);
  while (c.acceptKw('XOR')) left = { type: 'binary', op: 'XOR', left, right: parseAnd(c) };
  return left;
}

function parseAnd(c: Cursor): Expr {
  let left = parseNot(c);
  while (c.acceptKw('AND') || c.acceptOp('&&')) left = { type: 'binary', op: 'AND', left, right: parseNot(c) };
  return left;
}

function parseNot(c: Cursor): Expr {
  if (c.acceptKw('NOT')) return { type: 'unary', op: 'NOT', operand: parseNot(c) };
  return parsePredicate(c);
}

function parsePredicate(c: Cursor): Expr {
  const left = parseComparison(c);
  return parsePredicateTail(c, left);
}

function parsePredicateTail(c: Cursor, left: Expr): Expr {
  if (c.acceptKw('IS')) {
    const not = c.acceptKw('NOT');
    if (c.acceptKw('NULL')) return { type: 'isnull', operand: left, not };
    if (c.acceptKw('TRUE')) return wrapNot({ type: 'binary', op: '=', left, right: { type: 'literal', value: 1 } }, not);
    if (c.acceptKw('FALSE')) return wrapNot({ type: 'binary', op: '=', left, right: { type: 'literal', value: 0 } }, not);
    c.fail();
  }
  const save = c.position;
  const not = c.acceptKw('NOT');
  if (c.acceptKw('IN')) {
    c.expectOp('(');
    if (c.isKw('SELECT')) {
      const subquery = parseSelect(c);
      c.expectOp(')');
      return { type: 'in', operand: left, subquery, not };
    }
    const list: Expr[] = [];
    do list.push(parseExpr(c));
    while (c.acceptOp(','));
    c.expectOp(')');
    return { type: 'in', operand: left, list, not };
  }
  if (c.acceptKw('BETWEEN')) {
    const low = parseComparison(c);
    c.expectKw('AND');
    const high = parseComparison(c);
    return { type: 'between', operand: left, low, high, not };
  }
  if (c.acceptKw('LIKE')) return { type: 'like', operand: left, pattern: parseComparison(c), not };
  if (c.acceptKw('REGEXP') || c.acceptKw('RLIKE')) {
    return wrapNot({ type: 'func', name: 'REGEXP_LIKE', args: [left, parseComparison(c)] }, not);
  }
  c.position = save;
  return left;
}

function wrapNot(e: Expr, not: boolean): Expr {
  return not ? { type: 'unary', op: 'NOT', operand: e } : e;
}

const COMPARISON = ['=', '<=>', '<>', '!=', '<=', '>=', '<', '>'];

function parseComparison(c: Cursor): Expr {
  let left = parseAdditive(c);
  for (;;) {
    const t = c.peek();
    if (t.kind === 'op' && COMPARISON.includes(t.text)) {
      c.next();
      const op = t.text === '!=' ? '<>' : t.text;
      if (c.isKw('ANY') || c.isKw('ALL') || c.isKw('SOME')) c.fail();
      left = { type: 'binary', op, left, right: parseAdditive(c) };
      continue;
    }
    return left;
  }
}

function parseAdditive(c: Cursor): Expr {
  let left = parseMultiplicative(c);
  for (;;) {
    if (c.acceptOp('+')) left = { type: 'binary', op: '+', left, right: parseMultiplicative(c) };
    else if (c.acceptOp('-')) left = { type: 'binary', op: '-', left, right: parseMultiplicative(c) };
    else return left;
  }
}

function parseMultiplicative(c: Cursor): Expr {
  let left = parseUnary(c);
  for (;;) {
    if (c.acceptOp('*')) left = { type: 'binary', op: '*', left, right: parseUnary(c) };
    else if (c.acceptOp('/')) left = { type: 'binary', op: '/', left, right: parseUnary(c) };
    else if (c.acceptOp('%') || c.acceptKw('MOD')) left = { type: 'binary', op: '%', left, right: parseUnary(c) };
    else if (c.acceptKw('DIV')) left = { type: 'binary', op: 'DIV', left, right: parseUnary(c) };
    else return left;
  }
}

function parseUnary(c: Cursor): Expr {
  if (c.acceptOp('-')) return { type: 'unary', op: '-', operand: parseUnary(c) };
  if (c.acceptOp('+')) return parseUnary(c);
  if (c.acceptOp('!')) return { type: 'unary', op: 'NOT', operand: parseUnary(c) };
  return parsePrimary(c);
}

function parsePrimary(c: Cursor): Expr {
  const t = c.peek();
  if (t.kind === 'number') {
    c.next();
    if (t.text.startsWith('0x')) return { type: 'literal', value: Number.parseInt(t.text, 16) };
    if (/^\d+$/.test(t.text)) {
      const big = BigInt(t.text);
      return { type: 'literal', value: big > BigInt(Number.MAX_SAFE_INTEGER) ? big : Number(t.text) };
    }
    return { type: 'literal', value: Number(t.text) };
  }
  if (t.kind === 'string') {
    c.next();
    let s = t.text;
    // adjacent string literals concatenate, as in MySQL
    while (c.peek().kind === 'string') s += c.next().text;
    return { type: 'literal', value: s };
  }
  if (t.kind === 'sysvar') {
    c.next();
    const m = /^(global|session|local)\.(.+)$/i.exec(t.text);
    if (m) return { type: 'sysvar', name: m[2].toLowerCase(), scope: m[1].toLowerCase() === 'global' ? 'global' : 'session' };
    return { type: 'sysvar', name: t.text.toLowerCase() };
  }
  if (t.kind === 'var') {
    c.next();
    return { type: 'uservar', name: t.text.toLowerCase() };
  }
  if (c.acceptOp('(')) {
    if (c.isKw('SELECT')) {
      const query = parseSelect(c);
      c.expectOp(')');
      return { type: 'subquery', query };
    }
    const first = parseExpr(c);
    if (c.acceptOp(',')) {
      const items = [first];
      do items.push(parseExpr(c));
      while (c.acceptOp(','));
      c.expectOp(')');
      return { type: 'row', items };
    }
    c.expectOp(')');
    return first;
  }
  if (t.kind === 'ident' || t.kind === 'qident') {
    const upper = t.text.toUpperCase();
    if (t.kind === 'ident') {
      if (upper === 'NULL') { c.next(); return { type: 'literal', value: null }; }
      if (upper === 'TRUE') { c.next(); return { type: 'literal', value: 1 }; }
      if (upper === 'FALSE') { c.next(); return { type: 'literal', value: 0 }; }
      if (upper === 'CASE') return parseCase(c);
      if (upper === 'EXISTS') {
        c.next();
        c.expectOp('(');
        const query = parseSelect(c);
        c.expectOp(')');
        return { type: 'exists', query };
      }
      if (upper === 'INTERVAL') {
        c.next();
        const value = parseAdditive(c);
        const unit = c.expectIdent().toUpperCase();
        return { type: 'interval', value, unit };
      }
      if ((upper === 'CURRENT_TIMESTAMP' || upper === 'CURRENT_DATE' || upper === 'LOCALTIMESTAMP') && !(c.peek(1).kind === 'op' && c.peek(1).text === '(')) {
        c.next();
        return { type: 'func', name: upper, args: [] };
      }
      if (RESERVED.has(upper) && !(c.peek(1).kind === 'op' && c.peek(1).text === '(')) c.fail();
    }
    c.next();
    if (c.isOp('(') && t.kind === 'ident') return parseCall(c, upper);
    if (c.acceptOp('.')) {
      if (c.acceptOp('*')) return { type: 'star', table: t.text };
      const name = c.expectIdent();
      if (c.acceptOp('.')) return { type: 'column', table: name, name: c.expectIdent() };
      return { type: 'column', table: t.text, name };
    }
    return { type: 'column', name: t.text };
  }
  c.fail();
}

function parseCall(c: Cursor, name: string): Expr {
  c.expectOp('(');
  if (c.acceptOp('*')) {
    c.expectOp(')');
    return { type: 'func', name, args: [], star: true };
  }
  const distinct = c.acceptKw('DISTINCT');
  const args: Expr[] = [];
  if (!c.isOp(')')) {
    do {
      args.push(parseExpr(c));
      // CAST(x AS type), CONVERT(x, type)
      if (name === 'CAST' && c.acceptKw('AS')) {
        const typeName = c.expectIdent().toUpperCase();
        if (c.acceptOp('(')) {
          c.expectNumber();
          if (c.acceptOp(',')) c.expectNumber();
          c.expectOp(')');
        }
        args.push({ type: 'literal', value: typeName });
      }
    } while (c.acceptOp(','));
  }
  c.expectOp(')');
  return { type: 'func', name, args, distinct };
}

function parseCase(c: Cursor): Expr {
  c.expectKw('CASE');
  let operand: Expr | undefined;
  if (!c.isKw('WHEN')) operand = parseExpr(c);
  const whens: { when: Expr; then: Expr }[] = [];
  while (c.acceptKw('WHEN')) {
    const when = parseExpr(c);
    c.expectKw('THEN');
    whens.push({ when, then: parseExpr(c) });
  }
  let otherwise: Expr | undefined;
  if (c.acceptKw('ELSE')) otherwise = parseExpr(c);
  c.expectKw('END');
  if (whens.length === 0) c.fail();
  return { type: 'case', operand, whens, otherwise };
}
