// OceanBase and connection errors as one typed error with a message a person can act on (reference §4).
import { redact } from './redact.js';

export type ObErrorKind =
  | 'unreachable' // no TCP connection or no handshake within the connect timeout
  | 'auth' // 1045
  | 'timeout' // 4012 from the server, or no answer within the client's query timeout
  | 'connection_lost' // the connection dropped while a statement was in flight
  | 'backup_in_progress' // 9036
  | 'backup_cannot_start' // 9040 without a more specific reason
  | 'archive_not_doing' // 9040 … log archive is not doing / status is not doing
  | 'dest_not_set' // 9040 … backup dest is not set
  | 'tenant_not_normal' // 9040 … tenant status is not normal
  | 'no_eligible_tenant' // 9040 … no tenant meets the backup condition
  | 'upgrading' // 9040 … cluster upgrading
  | 'major_freeze_needed' // 9040 … need major freeze first (3.x)
  | 'cross_compatible' // 9040 … cross compatible incremental backup is not supported
  | 'already_archiving' // 9091
  | 'already_not_archiving' // 9092
  | 'archive_interrupted' // 9027
  | 'archive_not_running' // 9029, 9034, 9024
  | 'archive_error' // 9023, 9037
  | 'dest_format_missing' // 9080
  | 'dest_format_mismatch' // 9081
  | 'storage_unreachable' // 9070, 9115
  | 'storage_permission' // 9071
  | 'storage_full' // 9082
  | 'nothing_to_copy' // 9050, 9059, 9062, 9095
  | 'delete_in_progress' // 9044
  | 'not_allowed' // 9041, 9045, 9049, 9053, 9069
  | 'invalid_backup_set' // 9046, 9048
  | 'backup_data_gap' // 9042, 9064
  | 'invalid_password' // 9047
  | 'unknown_tenant' // 5157 / a tenant of the scope that the cluster does not have
  | 'not_supported' // 1235, 4007, an operation this OceanBase version does not have
  | 'syntax' // 1064
  | 'invalid_argument' // a bad argument caught before anything was sent
  | 'database'; // any other server error

/** Kinds worth retrying later without changing anything. */
const TRANSIENT: ReadonlySet<ObErrorKind> = new Set<ObErrorKind>([
  'unreachable',
  'timeout',
  'connection_lost',
  'backup_in_progress',
  'delete_in_progress',
  'storage_unreachable',
]);

export interface ObErrorDetails {
  /** the OceanBase / MySQL error number, when the server sent one */
  code?: number;
  /** the server's own text, redacted */
  serverMessage?: string;
  /** the statement that failed, redacted */
  statement?: string;
  /** true when a write may have reached the server before the connection dropped */
  mayHaveApplied?: boolean;
}

export class ObError extends Error {
  readonly kind: ObErrorKind;
  readonly code: number | undefined;
  readonly serverMessage: string | undefined;
  readonly statement: string | undefined;
  readonly mayHaveApplied: boolean;

  constructor(kind: ObErrorKind, message: string, details: ObErrorDetails = {}) {
    super(message);
    this.name = 'ObError';
    this.kind = kind;
    this.code = details.code;
    this.serverMessage = details.serverMessage;
    this.statement = details.statement;
    this.mayHaveApplied = details.mayHaveApplied ?? false;
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }

  /** JSON for logs and API details: no stack, nothing secret. */
  toJSON(): Record<string, unknown> {
    return { kind: this.kind, code: this.code, message: this.message };
  }
}

interface CodeRule {
  kind: ObErrorKind;
  /** what the operator reads; the server's text follows in parentheses */
  explain: string;
}

const BY_CODE: Record<number, CodeRule> = {
  1045: { kind: 'auth', explain: 'login refused: wrong user or password for the sys tenant' },
  1064: { kind: 'syntax', explain: 'the database did not understand a statement' },
  1235: { kind: 'not_supported', explain: 'this OceanBase version does not support the operation' },
  4007: { kind: 'not_supported', explain: 'this OceanBase version does not support the operation' },
  4012: { kind: 'timeout', explain: 'the statement timed out in the database (ob_query_timeout)' },
  5157: { kind: 'unknown_tenant', explain: 'the tenant does not exist' },
  9023: { kind: 'archive_error', explain: 'log archiving cannot start' },
  9024: { kind: 'archive_not_running', explain: 'log archiving is already disabled' },
  9027: { kind: 'archive_interrupted', explain: 'log archiving is interrupted; stop and restart it (NOARCHIVELOG then ARCHIVELOG)' },
  9029: { kind: 'archive_not_running', explain: 'log archiving is not running' },
  9034: { kind: 'archive_not_running', explain: 'log archiving is already stopped' },
  9036: { kind: 'backup_in_progress', explain: 'a data backup is already in progress' },
  9037: { kind: 'archive_error', explain: 'the log archive status does not allow this' },
  9040: { kind: 'backup_cannot_start', explain: 'the database refused to start the backup' },
  9041: { kind: 'not_allowed', explain: 'cancelling this backup is not allowed now' },
  9042: { kind: 'backup_data_gap', explain: 'the backup data version gap is over the limit; start a new full backup' },
  9044: { kind: 'delete_in_progress', explain: 'a backup clean-up is already in progress' },
  9045: { kind: 'not_allowed', explain: 'this backup set cannot be deleted' },
  9046: { kind: 'invalid_backup_set', explain: 'the backup set id is not valid' },
  9047: { kind: 'invalid_password', explain: 'the backup encryption password is wrong' },
  9048: { kind: 'invalid_backup_set', explain: 'the backup set is isolated by two log archive rounds' },
  9049: { kind: 'not_allowed', explain: 'no backup is running, nothing to cancel' },
  9050: { kind: 'nothing_to_copy', explain: 'there is no backup data left to copy' },
  9053: { kind: 'not_allowed', explain: 'cancelling the clean-up is not allowed now' },
  9059: { kind: 'nothing_to_copy', explain: 'every backup has been copied the requested number of times' },
  9062: { kind: 'nothing_to_copy', explain: 'the secondary copy limit is reached' },
  9064: { kind: 'backup_data_gap', explain: 'the archive log and the backup data are not continuous' },
  9069: { kind: 'not_allowed', explain: 'deleting this backup piece is not allowed' },
  9070: { kind: 'storage_unreachable', explain: 'the database cannot reach the backup destination' },
  9071: { kind: 'storage_permission', explain: 'the database has no I/O permission at the backup destination' },
  9080: { kind: 'dest_format_missing', explain: 'the destination directory is not empty and has no OceanBase format file; use an empty directory' },
  9081: { kind: 'dest_format_mismatch', explain: 'the destination belongs to another cluster or tenant (format file does not match); use another directory' },
  9082: { kind: 'storage_full', explain: 'the backup destination is out of space' },
  9091: { kind: 'already_archiving', explain: 'log archiving is already on (ARCHIVELOG)' },
  9092: { kind: 'already_not_archiving', explain: 'log archiving is already off (NOARCHIVELOG)' },
  9095: { kind: 'nothing_to_copy', explain: 'no tablet needs a backup' },
  9115: { kind: 'storage_unreachable', explain: 'the database cannot reach the storage destination' },
};

/** The more specific reasons OceanBase gives inside a 9040 "backup can not start, because …" text. */
const REASONS_9040: Array<{ test: RegExp; kind: ObErrorKind; explain: string }> = [
  { test: /log archive (is not doing|status is not doing)/i, kind: 'archive_not_doing', explain: 'log archiving is not in DOING state' },
  { test: /backup dest is not set|dest is not set/i, kind: 'dest_not_set', explain: 'the backup destination is not set' },
  { test: /tenant status is not normal/i, kind: 'tenant_not_normal', explain: 'the tenant is not in NORMAL status' },
  { test: /no tenant meets the backup condition/i, kind: 'no_eligible_tenant', explain: 'no tenant meets the backup condition (archive, destination, status)' },
  { test: /upgrad/i, kind: 'upgrading', explain: 'the cluster is upgrading' },
  { test: /need major freeze|bigger than frozen timestamp/i, kind: 'major_freeze_needed', explain: 'a major compaction after the log archive start is needed' },
  { test: /cross compatible/i, kind: 'cross_compatible', explain: 'an incremental backup across a data version change is not supported; run a full backup' },
];

export interface ErrorContext {
  /** "cluster prod at 10.0.0.1:2881" */
  where: string;
  /** the statement being run, if any (it is redacted before it is kept) */
  statement?: string;
  /** secrets to mask in anything the error keeps */
  secrets?: Iterable<string>;
  /** a write was in flight: a dropped connection leaves its effect unknown */
  write?: boolean;
  /** the client-side timeout in ms, for the message */
  timeoutMs?: number;
}

const NETWORK_UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const CONNECTION_LOST = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

interface DriverLikeError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  fatal?: unknown;
  syscall?: unknown;
  sqlMessage?: unknown;
}

/** True when the error means the connection is gone and a new one is needed. */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof ObError) return err.kind === 'connection_lost';
  const e = err as DriverLikeError;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECTION_LOST.has(code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /closed state|connection lost|socket hang up/i.test(msg);
}

/**
 * Turns whatever mysql2 (or the network) threw into an ObError whose message says what is wrong and
 * where, with every secret masked. OB error numbers arrive as mysql2's `errno` (absolute values).
 */
export function toObError(err: unknown, ctx: ErrorContext): ObError {
  if (err instanceof ObError) return err;
  const e = (err ?? {}) as DriverLikeError;
  const secrets = ctx.secrets ?? [];
  const statement = ctx.statement === undefined ? undefined : redact(ctx.statement, secrets);
  const rawText = typeof e.sqlMessage === 'string' ? e.sqlMessage : typeof e.message === 'string' ? e.message : String(err);
  const serverText = redact(rawText, secrets);
  const code = typeof e.code === 'string' ? e.code : '';
  const errno = typeof e.errno === 'number' ? e.errno : undefined;

  if (errno !== undefined && errno > 0 && typeof e.sqlMessage === 'string') {
    let rule = BY_CODE[errno];
    if (errno === 9040) {
      const reason = REASONS_9040.find((r) => r.test.test(serverText));
      if (reason) rule = { kind: reason.kind, explain: `the database refused to start the backup: ${reason.explain}` };
    }
    const kind = rule?.kind ?? 'database';
    const explain = rule?.explain ?? 'the database returned an error';
    return new ObError(kind, `${ctx.where}: ${explain} (OceanBase error ${errno}: ${serverText})`, {
      code: errno,
      serverMessage: serverText,
      statement,
    });
  }
  if (NETWORK_UNREACHABLE.has(code)) {
    return new ObError('unreachable', `${ctx.where}: cannot connect (${describeNetwork(code)})`, { statement });
  }
  if (code === 'ETIMEDOUT' && (e.syscall === 'connect' || ctx.statement === undefined)) {
    return new ObError('unreachable', `${ctx.where}: cannot connect (no answer within the connect timeout)`, { statement });
  }
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || code === 'ETIMEDOUT') {
    const secs = ctx.timeoutMs === undefined ? '' : ` within ${Math.round(ctx.timeoutMs / 100) / 10}s`;
    return new ObError('timeout', `${ctx.where}: no answer from the database${secs}`, {
      statement,
      mayHaveApplied: ctx.write === true,
    });
  }
  if (isConnectionLoss(err)) {
    const tail = ctx.write ? '; the statement may or may not have been applied' : '';
    return new ObError('connection_lost', `${ctx.where}: the connection was lost${tail}`, {
      statement,
      mayHaveApplied: ctx.write === true,
    });
  }
  return new ObError('database', `${ctx.where}: ${serverText}`, { statement });
}

function describeNetwork(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens on that port';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return code;
  }
}
