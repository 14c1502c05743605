// hclog-style JSON lines on stderr: go-plugin relays them into Terraform's log with their level, but only
// when @timestamp has microsecond precision (Go's format); stdout belongs to the handshake.
export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'off', number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

export interface Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** 2026-01-02T03:04:05.678901Z: wall clock at microsecond resolution. */
export function microsecondTimestamp(ms = performance.timeOrigin + performance.now()): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  return new Date(whole).toISOString().replace(/\.(\d{3})Z$/, (_, millis: string) => `.${millis}${String(micros).padStart(3, '0')}Z`);
}

/** TF_LOG_PROVIDER, else TF_LOG; unset means warnings and errors only (Terraform discards them anyway). */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): Level | 'off' {
  const raw = (env.TF_LOG_PROVIDER || env.TF_LOG || '').toLowerCase();
  if (raw === 'json') return 'trace';
  if (raw in ORDER) return raw as Level | 'off';
  return 'warn';
}

export function createLogger(
  name: string,
  level: Level | 'off' = levelFromEnv(),
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (at: Level) => (message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[at] < ORDER[level]) return;
    write(JSON.stringify({ '@level': at, '@message': message, '@module': name, '@timestamp': microsecondTimestamp(), ...fields }) + '\n');
  };
  return { trace: emit('trace'), debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
