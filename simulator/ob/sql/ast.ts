import type { SqlValue } from './values.js';

export type Expr =
  | { type: 'literal'; value: SqlValue }
  | { type: 'column'; table?: string; name: string }
  | { type: 'star'; table?: string }
  | { type: 'func'; name: string; args: Expr[]; distinct?: boolean; star?: boolean }
  | { type: 'binary'; op: string; left: Expr; right: Expr }
  | { type: 'unary'; op: string; operand: Expr }
  | { type: 'isnull'; operand: Expr; not: boolean }
  | { type: 'in'; operand: Expr; list?: Expr[]; subquery?: SelectStmt; not: boolean }
  | { type: 'between'; operand: Expr; low: Expr; high: Expr; not: boolean }
  | { type: 'like'; operand: Expr; pattern: Expr; not: boolean }
  | { type: 'case'; operand?: Expr; whens: { when: Expr; then: Expr }[]; otherwise?: Expr }
  | { type: 'subquery'; query: SelectStmt }
  | { type: 'exists'; query: SelectStmt }
  | { type: 'sysvar'; name: string; scope?: 'global' | 'session' }
  | { type: 'uservar'; name: string }
  | { type: 'interval'; value: Expr; unit: string }
  | { type: 'row'; items: Expr[] };

export interface SelectItem {
  expr: Expr;
  alias?: string;
  /** the label MySQL would give the column when there is no alias */
  label: string;
}

export interface TableRef {
  schema?: string;
  name?: string;
  subquery?: SelectStmt;
  alias?: string;
}

export interface SelectStmt {
  type: 'select';
  distinct: boolean;
  items: SelectItem[];
  from?: TableRef;
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
  orderBy: { expr: Expr; desc: boolean }[];
  limit?: { count: number; offset: number };
  union?: { all: boolean; select: SelectStmt };
}
