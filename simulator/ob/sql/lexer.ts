// Tokenizer for the MySQL dialect subset obsim understands.
export type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'op' | 'var' | 'sysvar' | 'eof';

export interface Token {
  kind: TokenKind;
  /** identifier / keyword text as written, string contents unescaped, operator text */
  text: string;
  /** offset in the statement text, for syntax error messages */
  pos: number;
}

export class SqlSyntaxError extends Error {
  constructor(public readonly near: string) {
    super(`syntax error near '${near}'`);
  }
}

const OPERATORS = ['<=>', '<>', '!=', '<=', '>=', '||', '&&', ':=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.', ';', '!'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2])))) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new SqlSyntaxError(sql.slice(i));
      i = end + 2;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw new SqlSyntaxError(sql.slice(start));
        const ch = sql[i];
        if (ch === '\\' && i + 1 < n) {
          const e = sql[i + 1];
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
          i += 2;
          continue;
        }
        if (ch === c) {
          if (sql[i + 1] === c) { out += c; i += 2; continue; }
          i++;
          break;
        }
        out += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: out, pos: start });
      continue;
    }
    if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new SqlSyntaxError(sql.slice(i));
      tokens.push({ kind: 'qident', text: sql.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?|\d+\.)/.exec(sql.slice(i));
      const text = m ? m[0] : c;
      // identifiers may start with digits in MySQL (e.g. 1d is not a number here but we never need that)
      tokens.push({ kind: 'number', text, pos: start });
      i += text.length;
      continue;
    }
    if (c === '@') {
      if (sql[i + 1] === '@') {
        const m = /^@@([A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?)/.exec(sql.slice(i));
        if (!m) throw new SqlSyntaxError(sql.slice(i));
        tokens.push({ kind: 'sysvar', text: m[1], pos: start });
        i += m[0].length;
        continue;
      }
      const m = /^@([A-Za-z0-9_$.]+)/.exec(sql.slice(i));
      if (!m) throw new SqlSyntaxError(sql.slice(i));
      tokens.push({ kind: 'var', text: m[1], pos: start });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z0-9_$\u0080-\uffff]+/.exec(sql.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], pos: start });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => sql.startsWith(o, i));
    if (!op) throw new SqlSyntaxError(sql.slice(i));
    tokens.push({ kind: 'op', text: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: n });
  return tokens;
}

/** Splits a multi-statement text at top-level semicolons (outside strings and comments). */
export function splitStatements(sql: string): string[] {
  const tokens = tokenize(sql);
  const out: string[] = [];
  let start = 0;
  for (const t of tokens) {
    if ((t.kind === 'op' && t.text === ';') || t.kind === 'eof') {
      const piece = sql.slice(start, t.pos).trim();
      if (piece.length > 0) out.push(piece);
      start = t.pos + 1;
    }
  }
  return out;
}
