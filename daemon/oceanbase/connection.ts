// One mysql2 connection per cluster for reads and plain statements, re-opened after a drop, plus short-lived
// dedicated sessions for statements that carry session state (SET ENCRYPTION … + BACKUP) or touch storage
// (a raised ob_query_timeout). Every error leaves here as an ObError with secrets masked.
import mysql from 'mysql2/promise';
import { ObError, toObError } from './errors.js';
import { redact } from './redact.js';
import type { Row } from './rows.js';

export interface ObEndpoint {
  /** the cluster's name in obbackup, for messages */
  name?: string;
  host: string;
  port: number;
  /** sys tenant user: `root@sys`, or `root@sys#cluster` through OBProxy */
  user: string;
  password: string;
}

export interface ObLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ObConnectionOptions {
  /** TCP connect + handshake; an unreachable cluster fails after this long. Default 5 s. */
  connectTimeoutMs?: number;
  /** client-side limit for ordinary statements. Default 30 s. */
  queryTimeoutMs?: number;
  /** ob_query_timeout for statements that touch backup storage. Default 10 min (the server default is 10 s). */
  storageTimeoutMs?: number;
  logger?: ObLogger;
}

/** What a dialect or a caller may run: reads return rows, writes return nothing. */
export interface SqlSession {
  select(sql: string): Promise<Row[]>;
  exec(sql: string): Promise<void>;
}

type Conn = mysql.Connection;

const DEFAULTS = { connectTimeoutMs: 5_000, queryTimeoutMs: 30_000, storageTimeoutMs: 600_000 };
// the server's own timeout answers (4012) before the client gives up
const CLIENT_MARGIN_MS = 5_000;

export class ObConnection implements SqlSession {
  readonly where: string;
  private readonly opts: Required<Omit<ObConnectionOptions, 'logger'>>;
  private readonly logger: ObLogger | undefined;
  private readonly secrets = new Set<string>();
  private main: Conn | null = null;
  private opening: Promise<Conn> | null = null;
  private closed = false;

  constructor(
    private readonly endpoint: ObEndpoint,
    options: ObConnectionOptions = {},
  ) {
    this.opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs ?? DEFAULTS.queryTimeoutMs,
      storageTimeoutMs: options.storageTimeoutMs ?? DEFAULTS.storageTimeoutMs,
    };
    this.logger = options.logger;
    this.where = `${endpoint.name ? `cluster "${endpoint.name}"` : 'OceanBase'} at ${endpoint.host}:${endpoint.port}`;
    this.addSecret(endpoint.password);
  }

  /** Registers a literal secret (a password, a key) to be masked in every message and log line. */
  addSecret(secret: string | undefined | null): void {
    if (secret) this.secrets.add(secret);
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** A read on the shared connection; after a dropped connection it reconnects and runs once more. */
  async select(sql: string): Promise<Row[]> {
    try {
      return await this.runOnMain(sql, false);
    } catch (e) {
      if (!(e instanceof ObError) || e.kind !== 'connection_lost' || this.closed) throw e;
      this.logger?.warn({ cluster: this.endpoint.name, where: this.where }, 'connection to OceanBase lost; reconnecting');
      return await this.runOnMain(sql, false);
    }
  }

  /** A write on the shared connection; never re-sent by itself (its effect is unknown after a drop). */
  async exec(sql: string): Promise<void> {
    await this.runOnMain(sql, true);
  }

  /** Opens the shared connection now (to check credentials and reachability). */
  async connect(): Promise<void> {
    await this.mainConnection();
  }

  /**
   * Runs `fn` on a connection of its own, closed afterwards, so session state (SET ENCRYPTION …, a raised
   * ob_query_timeout) neither leaks into nor is disturbed by other statements. `storage` raises
   * ob_query_timeout for statements that reach backup storage.
   */
  async session<T>(fn: (s: SqlSession) => Promise<T>, opts: { storage?: boolean } = {}): Promise<T> {
    const conn = await this.open();
    const timeoutMs = opts.storage ? this.opts.storageTimeoutMs + CLIENT_MARGIN_MS : this.opts.queryTimeoutMs;
    let broken = false;
    const run = async (sql: string, write: boolean): Promise<Row[]> => {
      try {
        return await this.run(conn, sql, write, timeoutMs);
      } catch (e) {
        if (e instanceof ObError && (e.kind === 'connection_lost' || e.kind === 'timeout')) broken = true;
        throw e;
      }
    };
    try {
      if (opts.storage) {
        await run(`SET SESSION ob_query_timeout = ${Math.round(this.opts.storageTimeoutMs * 1000)}`, true);
      }
      return await fn({ select: (sql) => run(sql, false), exec: async (sql) => void (await run(sql, true)) });
    } finally {
      if (broken) conn.destroy();
      else await conn.end().catch(() => conn.destroy());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.main ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.main = null;
    this.opening = null;
    if (conn) await conn.end().catch(() => conn.destroy());
  }

  private async runOnMain(sql: string, write: boolean): Promise<Row[]> {
    const conn = await this.mainConnection();
    try {
      return await this.run(conn, sql, write, this.opts.queryTimeoutMs);
    } catch (e) {
      if (e instanceof ObError && (e.kind === 'connection_lost' || e.kind === 'timeout')) this.discard(conn);
      throw e;
    }
  }

  private async run(conn: Conn, sql: string, write: boolean, timeoutMs: number): Promise<Row[]> {
    this.logger?.debug({ cluster: this.endpoint.name, sql: this.redact(sql) }, 'OceanBase statement');
    try {
      const [result] = await conn.query({ sql, timeout: timeoutMs });
      return Array.isArray(result) ? (result as Row[]) : [];
    } catch (e) {
      throw toObError(e, { where: this.where, statement: sql, secrets: this.secrets, write, timeoutMs });
    }
  }

  private discard(conn: Conn): void {
    if (this.main === conn) this.main = null;
    conn.destroy();
  }

  private async mainConnection(): Promise<Conn> {
    if (this.closed) throw new ObError('connection_lost', `${this.where}: the driver is closed`);
    if (this.main) return this.main;
    if (!this.opening) {
      this.opening = this.open().then(
        (conn) => {
          this.opening = null;
          if (this.closed) {
            conn.destroy();
            throw new ObError('connection_lost', `${this.where}: the driver is closed`);
          }
          this.main = conn;
          conn.on('error', () => this.main === conn && this.discard(conn));
          conn.on('end', () => this.main === conn && (this.main = null));
          return conn;
        },
        (e: unknown) => {
          this.opening = null;
          throw e;
        },
      );
    }
    return this.opening;
  }

  private async open(): Promise<Conn> {
    let conn: Conn;
    try {
      conn = await mysql.createConnection({
        host: this.endpoint.host,
        port: this.endpoint.port,
        user: this.endpoint.user,
        password: this.endpoint.password,
        connectTimeout: this.opts.connectTimeoutMs,
        // every TIMESTAMP is read in UTC: the session is set to +00:00 below
        timezone: 'Z',
        supportBigNumbers: true,
        bigNumberStrings: true,
        multipleStatements: false,
        enableKeepAlive: true,
      });
    } catch (e) {
      throw toObError(e, { where: this.where, secrets: this.secrets });
    }
    // an idle connection dropped by the server emits 'error'; without a listener that would crash the process
    conn.on('error', () => undefined);
    try {
      await this.run(conn, "SET time_zone = '+00:00'", true, this.opts.queryTimeoutMs);
    } catch (e) {
      conn.destroy();
      throw e;
    }
    return conn;
  }
}
