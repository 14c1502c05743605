import { MysqlAdapter, sql, type CreateTableBuilder, type Kysely } from 'kysely';

/** Migrations receive an untyped Kysely; this tells them which dialect they run on. */
export function isMysql(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/**
 * Creates a table the same way on both stores. On MySQL the table is InnoDB, utf8mb4 and binary
 * collated: names compare case-sensitively and sort by bytes, exactly as in SQLite, whatever the
 * server's default character set is (MariaDB ships latin1).
 */
export function createTable<T extends string>(db: Kysely<unknown>, name: T): CreateTableBuilder<T, never> {
  const builder = db.schema.createTable(name);
  return isMysql(db) ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`) : builder;
}

/** Column types that mean the same on both stores. */
export const columnType = {
  /** Resource names and other short identifiers (indexable on MySQL). */
  name: 'varchar(64)',
  /** ISO 8601 timestamps as written by `nowIso()`. */
  timestamp: 'varchar(32)',
  /** JSON documents: MySQL's TEXT stops at 64 KiB, so use MEDIUMTEXT (SQLite treats both as TEXT). */
  json: sql`mediumtext`,
} as const;
