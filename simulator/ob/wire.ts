// MySQL wire protocol front end on mysql2's server side: handshake, mysql_native_password, COM_QUERY with
// multi-statements, text result sets, ERR packets with SQL state, and sequence ids reset per command.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import mysql from 'mysql2';
import { ObError } from './errors.js';
import type { ColumnDef, ColumnType } from './sql/catalog.js';
import { SqlTime, formatTime, type SqlValue } from './sql/values.js';

// mysql2's packet classes are not in its typings; they are stable parts of the library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyConn = any;
// Loaded by file path because mysql2's package exports do not list lib/.
const requireCjs = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Packets: any = requireCjs(join(dirname(requireCjs.resolve('mysql2')), 'lib', 'packets', 'index.js'));

export type StatementResult =
  | { kind: 'ok'; affectedRows?: number; info?: string }
  | { kind: 'rows'; columns: ColumnDef[]; rows: SqlValue[][] };

export interface WireSession {
  readonly connectionId: number;
  user: string;
  tenant: string;
  database: string | null;
  /** minutes east of UTC used to print DATETIME values */
  tzOffsetMinutes(): number;
}

export interface WireHandler {
  serverVersion: string;
  /** checks the login; returns the session or throws an ObError (1045) */
  login(info: { user: string; database: string; host: string; scramble: Buffer; token: Buffer; connectionId: number }): WireSession;
  /** runs one statement; throws ObError for an ERR packet; `drop` asks the front end to cut the connection */
  execute(session: WireSession, sql: string): Promise<StatementResult | 'drop'>;
  useDatabase(session: WireSession, db: string): void;
  closed(session: WireSession): void;
}

const CLIENT = {
  LONG_PASSWORD: 0x1, FOUND_ROWS: 0x2, LONG_FLAG: 0x4, CONNECT_WITH_DB: 0x8, IGNORE_SPACE: 0x100, PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400, IGNORE_SIGPIPE: 0x1000, TRANSACTIONS: 0x2000, RESERVED: 0x4000, SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000, MULTI_RESULTS: 0x20000, PS_MULTI_RESULTS: 0x40000, PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000, PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
};
const SERVER_CAPABILITIES = Object.values(CLIENT).reduce((a, b) => a | b, 0);
const STATUS_AUTOCOMMIT = 0x0002;
const STATUS_MORE_RESULTS = 0x0008;
const COM = { QUIT: 0x01, INIT_DB: 0x02, QUERY: 0x03, FIELD_LIST: 0x04, PING: 0x0e, STMT_PREPARE: 0x16 };

const TYPE_CODE: Record<ColumnType, number> = {
  int: 8, // LONGLONG
  uint64: 8,
  double: 5, // DOUBLE
  decimal: 246, // NEWDECIMAL
  varchar: 253, // VAR_STRING
  text: 252, // BLOB
  timestamp: 7, // TIMESTAMP
  datetime: 12, // DATETIME
  null: 6,
};

/** mysql_native_password check: token = SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))) */
export function nativePasswordMatches(password: string, scramble: Buffer, token: Buffer): boolean {
  if (password === '') return token.length === 0;
  if (token.length !== 20) return false;
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const mask = sha1(Buffer.concat([scramble, sha1(stage1)]));
  for (let i = 0; i < 20; i++) if ((stage1[i] ^ mask[i]) !== token[i]) return false;
  return true;
}

export interface WireServer {
  host: string;
  port: number;
  close(): Promise<void>;
  /** cuts every open client connection (a crash or a network partition as the client sees it) */
  dropAll(): void;
}

export async function listenWire(handler: WireHandler, port: number, host: string): Promise<WireServer> {
  const server = mysql.createServer(undefined as never) as AnyConn;
  const sockets = new Set<Socket>();
  let nextId = 1;
  server.on('connection', (conn: AnyConn) => {
    const socket: Socket = conn.stream;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    conn.on('error', () => undefined);
    const connectionId = nextId++;
    let session: WireSession | null = null;
    let pendingText = '';
    let queue: Promise<void> = Promise.resolve();
    conn.serverHandshake({
      protocolVersion: 10,
      serverVersion: handler.serverVersion,
      connectionId,
      statusFlags: STATUS_AUTOCOMMIT,
      characterSet: 45, // utf8mb4_general_ci
      capabilityFlags: SERVER_CAPABILITIES,
      authCallback: (params: AnyConn, cb: (err: unknown, mysqlError?: unknown) => void) => {
        try {
          session = handler.login({
            user: params.user ?? '',
            database: params.database ?? '',
            host: socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
            scramble: Buffer.concat([params.authPluginData1, params.authPluginData2]).subarray(0, 20),
            token: params.authToken ?? Buffer.alloc(0),
            connectionId,
          });
          cb(null);
          conn.sequenceId = 0;
        } catch (e) {
          writeError(conn, e);
          socket.end();
        }
      },
    });
    const capture = (text: unknown) => {
      if (typeof text === 'string') pendingText = text;
    };
    conn.on('query', capture);
    conn.on('stmt_prepare', capture);
    conn.on('stmt_execute', () => undefined);
    conn.on('init_db', capture);
    conn.on('ping', () => undefined);
    conn.on('field_list', () => undefined);
    conn.on('packet', (_p: unknown, _known: boolean, command: number) => {
      const text = pendingText;
      pendingText = '';
      const clientFlags: number = conn.clientHelloReply?.clientFlags ?? 0;
      queue = queue.then(() => dispatch(conn, handler, session!, command, text, clientFlags)).catch(() => {
        socket.destroy();
      });
    });
    socket.on('close', () => {
      if (session) handler.closed(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server._server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server._server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function dispatch(conn: AnyConn, handler: WireHandler, session: WireSession, command: number, text: string, clientFlags: number): Promise<void> {
  // the command packet had sequence id 0; every reply starts at 1
  conn.sequenceId = 1;
  try {
    switch (command) {
      case COM.QUERY:
        await runQuery(conn, handler, session, text, clientFlags);
        break;
      case COM.INIT_DB:
        try {
          handler.useDatabase(session, text);
          conn.writeOk({ serverStatus: STATUS_AUTOCOMMIT });
        } catch (e) {
          writeError(conn, e);
        }
        break;
      case COM.PING:
        conn.writeOk({ serverStatus: STATUS_AUTOCOMMIT });
        break;
      case COM.QUIT:
        conn.stream.end();
        break;
      case COM.STMT_PREPARE:
        // obsim answers the text protocol only; drivers should use query() for ALTER SYSTEM anyway (reference §10)
        writeError(conn, new ObError(1295, 'This command is not supported in the prepared statement protocol yet', 'HY000'));
        break;
      default:
        writeError(conn, new ObError(1047, 'Unknown command', '08S01'));
    }
  } finally {
    conn.sequenceId = 0;
  }
}

async function runQuery(conn: AnyConn, handler: WireHandler, session: WireSession, text: string, clientFlags: number): Promise<void> {
  const { splitStatements } = await import('./sql/lexer.js');
  let statements: string[];
  try {
    statements = splitStatements(text);
  } catch {
    statements = [text];
  }
  if (statements.length === 0) {
    writeError(conn, new ObError(1065, 'Query was empty', '42000'));
    return;
  }
  const multi = (clientFlags & CLIENT.MULTI_STATEMENTS) !== 0;
  if (statements.length > 1 && !multi) {
    // without CLIENT_MULTI_STATEMENTS the server parses the text as one statement and stops at the ';'
    const rest = text.slice(text.indexOf(';'));
    writeError(conn, new ObError(1064, `You have an error in your SQL syntax; check the manual that corresponds to your OceanBase version for the right syntax to use near '${rest.slice(0, 80)}' at line 1`, '42000'));
    return;
  }
  for (let i = 0; i < statements.length; i++) {
    const more = i < statements.length - 1;
    let result: StatementResult | 'drop';
    try {
      result = await handler.execute(session, statements[i]);
    } catch (e) {
      writeError(conn, e);
      return;
    }
    if (result === 'drop') {
      conn.stream.destroy();
      return;
    }
    const status = STATUS_AUTOCOMMIT | (more ? STATUS_MORE_RESULTS : 0);
    if (result.kind === 'ok') {
      conn.writeOk({ affectedRows: result.affectedRows ?? 0, serverStatus: status, message: result.info ?? '' });
    } else {
      writeRows(conn, result.columns, result.rows, status, session.tzOffsetMinutes());
    }
  }
}

function writeRows(conn: AnyConn, columns: ColumnDef[], rows: SqlValue[][], status: number, tz: number): void {
  conn.writePacket(Packets.ResultSetHeader.toPacket(columns.length));
  for (const c of columns) {
    const type = TYPE_CODE[c.type];
    conn.writePacket(
      Packets.ColumnDefinition.toPacket({
        catalog: 'def',
        schema: 'oceanbase',
        table: '',
        orgTable: '',
        name: c.name,
        orgName: c.name,
        characterSet: c.type === 'varchar' || c.type === 'text' ? 45 : 63,
        columnLength: c.type === 'int' || c.type === 'uint64' ? 20 : c.type === 'timestamp' || c.type === 'datetime' ? 26 : 65535,
        columnType: type,
        flags: c.type === 'uint64' ? 0x20 : 0,
        decimals: c.type === 'timestamp' || c.type === 'datetime' ? 6 : c.type === 'double' ? 31 : 0,
      }),
    );
  }
  conn.writeEof(0, STATUS_AUTOCOMMIT);
  for (const row of rows) {
    conn.writePacket(Packets.TextRow.toPacket(row.map((v) => textValue(v, tz)), 'utf8'));
  }
  conn.writeEof(0, status);
}

function textValue(v: SqlValue, tz: number): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof SqlTime) return formatTime(v.usec, tz);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(15)));
  return String(v);
}

function writeError(conn: AnyConn, e: unknown): void {
  const err = e instanceof ObError ? e : new ObError(4016, `Internal error: ${(e as Error)?.message ?? String(e)}`);
  const message = Buffer.from(err.message, 'utf8');
  const length = 4 + 1 + 2 + 1 + 5 + message.length;
  const packet = new Packets.Packet(0, Buffer.alloc(length), 0, length);
  packet.offset = 4;
  packet.writeInt8(0xff);
  packet.writeInt16(err.code);
  packet.writeString('#', 'ascii');
  packet.writeString(err.sqlState.padEnd(5, '0').slice(0, 5), 'ascii');
  packet.writeBuffer(message);
  conn.writePacket(packet);
}
