import type { SqlValue } from './values.js';

export type ColumnType = 'int' | 'uint64' | 'double' | 'decimal' | 'varchar' | 'text' | 'timestamp' | 'datetime' | 'null';

export interface ColumnDef {
  name: string;
  type: ColumnType;
}

export type Row = Record<string, SqlValue>;

/** A view or table: columns are declared once; rows are computed from the simulator state on each read. */
export interface TableDef {
  name: string;
  columns: ColumnDef[];
  rows(): Row[];
}

export function col(name: string, type: ColumnType = 'varchar'): ColumnDef {
  return { name, type };
}

/** Declares columns from a compact spec: 'NAME:type' (type defaults to varchar). */
export function cols(...specs: string[]): ColumnDef[] {
  return specs.map((s) => {
    const [name, type] = s.split(':');
    return { name, type: (type as ColumnType | undefined) ?? 'varchar' };
  });
}
