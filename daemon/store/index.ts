import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, MysqlDialect, SqliteDialect, sql, type Migration, type Transaction } from 'kysely';
import { classifyStoreError } from './errors.js';
import { migrations as builtInMigrations } from './migrations/index.js';
import { ResourceRepository } from './resources.js';
import type { Database } from './schema.js';
import { describeStore, parseStoreUrl, type StoreConfig } from './url.js';

export { classifyStoreError, type StoreErrorKind } from './errors.js';
export { ResourceRepository, type Executor, type IndexedColumns, type SealedSecret, type StoredResource } from './resources.js';
export type { Database, PolicyRow, ResourceRow, ResourceTable, SettingRow } from './schema.js';
export { describeStore, parseStoreUrl, StoreUrlError, type StoreConfig } from './url.js';

/** The daemon's persistence, the same interface over SQLite and MySQL. */
export interface Store {
  readonly kind: StoreConfig['kind'];
  /** Where the store is, without credentials: fit for logs. */
  readonly location: string;
  /** Typed query builder; the engine writes its own queries with it. */
  readonly db: Kysely<Database>;
  readonly resources: ResourceRepository;
  /** True on MySQL: `forUpdate()`/`forShare()` may be used inside transactions (SQLite has one writer). */
  readonly lockingReads: boolean;
  /** Runs `fn` in one transaction, retried on deadlocks and busy errors; a throw rolls everything back. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  getSetting(name: string): Promise<string | undefined>;
  /** Stores `value` unless a value is already there; returns the value that is stored. */
  initSetting(name: string, value: string): Promise<string>;
  close(): Promise<void>;
}

export class StoreOpenError extends Error {}

export interface OpenStoreOptions {
  /** `sqlite:`, `sqlite:FILE` or `mysql://user:pass@host:port/db` (see parseStoreUrl). */
  url: string;
  dataDir: string;
  /** Defaults to every built-in migration. */
  migrations?: Record<string, Migration>;
}

const MIGRATION_TABLE = 'obbackup_migration';
const MIGRATION_LOCK_TABLE = 'obbackup_migration_lock';
const TRANSACTION_ATTEMPTS = 4;

export const nowIso = () => new Date().toISOString();

function sqliteDialect(file: string): SqliteDialect {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // An empty file is an empty database; creating it first makes it (and its -wal/-shm) owner-only.
    if (!fs.existsSync(file)) fs.writeFileSync(file, '', { mode: 0o600 });
  }
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  // FULL: a PUT that got its answer survives a power cut too, not only a process crash.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: withStatementCache(database) });
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; reusing prepared statements halves the cost of a point read.
 * Safe because Kysely runs one query at a time on its single SQLite connection.
 */
function withStatementCache(database: SqliteDatabase.Database) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        statement = database.prepare(text);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

async function mysqlDialect(config: Extract<StoreConfig, { kind: 'mysql' }>): Promise<MysqlDialect> {
  // Loaded only for a MySQL store: the embedded default starts faster without it.
  const { createPool } = await import('mysql2');
  const pool = createPool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    // Binary collation on the connection too, so comparisons match SQLite's.
    charset: 'UTF8MB4_BIN',
    timezone: 'Z',
    connectionLimit: 10,
    enableKeepAlive: true,
    connectTimeout: 10_000,
  });
  return new MysqlDialect({ pool });
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const config = parseStoreUrl(options.url, options.dataDir);
  const location = describeStore(config);
  let db: Kysely<Database>;
  try {
    db = new Kysely<Database>({ dialect: config.kind === 'sqlite' ? sqliteDialect(config.file) : await mysqlDialect(config) });
  } catch (err) {
    throw new StoreOpenError(`cannot open the store at ${location}: ${(err as Error).message}`);
  }
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new StoreOpenError(`cannot reach the store at ${location}: ${(err as Error).message}`);
  }

  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => options.migrations ?? builtInMigrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy().catch(() => {});
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreOpenError(
      `cannot migrate the store at ${location}${failed ? ` (migration ${failed})` : ''}: ${(error as Error).message ?? String(error)}`,
    );
  }

  const lockingReads = config.kind === 'mysql';
  const store: Store = {
    kind: config.kind,
    location,
    db,
    lockingReads,
    resources: new ResourceRepository(db, lockingReads),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(fn);
        } catch (err) {
          if (attempt >= TRANSACTION_ATTEMPTS || classifyStoreError(err) !== 'retryable') throw err;
          await delay(10 * attempt * attempt);
        }
      }
    },
    async getSetting(name) {
      const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
      return row?.value;
    },
    async initSetting(name, value) {
      try {
        await db.insertInto('settings').values({ name, value }).execute();
        return value;
      } catch (err) {
        // Another daemon on the same store wrote it first: theirs wins.
        if (classifyStoreError(err) !== 'unique') throw err;
        const existing = await store.getSetting(name);
        if (existing === undefined) throw err;
        return existing;
      }
    },
    async close() {
      await db.destroy();
    },
  };
  return store;
}
