import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they occur in a log object. Request logs carry only method, URL, host
 * and status, never bodies or headers; these paths guard against anything that slips in later.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  '*.*.password',
  'access_key_secret',
  '*.access_key_secret',
  '*.*.access_key_secret',
  'secret',
  '*.secret',
  'body',
  '*.body',
  // mysql2 errors carry the statement with its values interpolated.
  'sql',
  '*.sql',
];

export interface LoggerOptions {
  level?: string;
  /** Defaults to stdout. */
  destination?: DestinationStream;
}

/** JSON lines (stdout by default), one object per event, with secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'obbackupd',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
