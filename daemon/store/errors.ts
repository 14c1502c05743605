/** What a store error means to a caller, the same for SQLite and MySQL. */
export type StoreErrorKind = 'unique' | 'foreign_key' | 'retryable' | 'unavailable';

const MYSQL_ERRNO: Record<number, StoreErrorKind> = {
  1062: 'unique', // ER_DUP_ENTRY
  1451: 'foreign_key', // ER_ROW_IS_REFERENCED_2
  1452: 'foreign_key', // ER_NO_REFERENCED_ROW_2
  1213: 'retryable', // ER_LOCK_DEADLOCK
  1205: 'retryable', // ER_LOCK_WAIT_TIMEOUT
  1040: 'unavailable', // ER_CON_COUNT_ERROR
  1045: 'unavailable', // ER_ACCESS_DENIED_ERROR
  1049: 'unavailable', // ER_BAD_DB_ERROR
  2006: 'unavailable', // server has gone away
  2013: 'unavailable', // lost connection
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

export function classifyStoreError(err: unknown): StoreErrorKind | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errno } = err as { code?: unknown; errno?: unknown };
  if (typeof code === 'string') {
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
    // ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER; the message names the foreign key either way.
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
    if (code.startsWith('SQLITE_CONSTRAINT') && String((err as Error).message).includes('FOREIGN KEY')) return 'foreign_key';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'retryable';
    if (NETWORK_CODES.has(code)) return 'unavailable';
  }
  // mysql2 errors carry the server's error number (positive); Node's system errors use negative ones.
  if (typeof errno === 'number' && errno > 0) return MYSQL_ERRNO[errno];
  return undefined;
}
