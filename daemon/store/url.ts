import path from 'node:path';

export type StoreConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'mysql'; host: string; port: number; user: string; password: string; database: string };

export class StoreUrlError extends Error {}

const DEFAULT_SQLITE_FILE = 'obbackup.db';

/**
 * Reads `--store`: `sqlite:` (the file obbackup.db in the data dir), `sqlite:FILE` (relative to the data
 * dir unless absolute), or `mysql://user:pass@host:port/db` (also `mariadb://`). Messages never repeat
 * the URL, which may hold a password.
 */
export function parseStoreUrl(url: string, dataDir: string): StoreConfig {
  if (url === 'sqlite:' || url === 'sqlite') return { kind: 'sqlite', file: path.join(dataDir, DEFAULT_SQLITE_FILE) };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === ':memory:') return { kind: 'sqlite', file };
    return { kind: 'sqlite', file: path.resolve(dataDir, file) };
  }
  if (!/^(mysql|mariadb):\/\//.test(url)) {
    throw new StoreUrlError('--store must be "sqlite:", "sqlite:FILE" or "mysql://user:password@host:port/database"');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreUrlError('--store is not a valid URL; expected mysql://user:password@host:port/database');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname) throw new StoreUrlError('--store: the MySQL URL needs a host (mysql://user:password@host:port/database)');
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new StoreUrlError('--store: the MySQL URL needs a database name of letters, digits, "_" or "$" (…/database)');
  }
  if (!parsed.username) throw new StoreUrlError('--store: the MySQL URL needs a user (mysql://user:password@host:port/database)');
  return {
    kind: 'mysql',
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/** Where the store is, fit for a log line: the password is never part of it. */
export function describeStore(config: StoreConfig): string {
  if (config.kind === 'sqlite') return `sqlite:${config.file}`;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `mysql://${encodeURIComponent(config.user)}${config.password ? ':***' : ''}@${host}:${config.port}/${config.database}`;
}
