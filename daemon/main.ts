/** obbackupd: the obbackup daemon. Flags and environment are described by --help. */
import { parseArgs } from 'node:util';
import type { RunningDaemon } from './app.js';
import { DEFAULT_LISTEN, defaultDataDir, TOKEN_ENV } from './config.js';
import { tuneHeap } from './heap.js';
import { SECRET_KEY_ENV, SECRET_KEY_FILE } from './secrets/index.js';

const HELP = `obbackupd: OceanBase backup policies as code (REST API, scheduler, backups)

Usage: obbackupd [flags]

  --listen HOST:PORT   where the REST API listens (default ${DEFAULT_LISTEN}; port 0 picks a free port)
  --data-dir DIR       token, secret key and the SQLite store
                       (default: $OBBACKUP_DATA_DIR, else ~/.obbackup; now ${defaultDataDir()})
  --store URL          sqlite:            obbackup.db in the data dir (default)
                       sqlite:FILE        a SQLite file (relative to the data dir)
                       mysql://user:pass@host:port/db   MySQL, MariaDB or an OceanBase MySQL tenant
  --token-file FILE    the API bearer token; else env ${TOKEN_ENV}; else DIR/token, generated on
                       first start (mode 0600). The token is never printed: read it from that file.
  --webhook URL        POST alarm events (raised, resolved) as JSON to URL, retried with backoff;
                       else env OBBACKUP_WEBHOOK_URL; none when neither is set
  --log-level LEVEL    fatal, error, warn, info (default), debug, trace or silent
  -h, --help           this text

Environment:
  ${TOKEN_ENV}       the API token (when --token-file is not given)
  ${SECRET_KEY_ENV}  32-byte key encrypting stored secrets (64 hex characters or base64);
                       else DIR/${SECRET_KEY_FILE}, generated on first start (mode 0600). Daemons sharing
                       a MySQL store must share this key.
  OBBACKUP_DATA_DIR    the default data dir
  OBBACKUP_WEBHOOK_URL where alarm events go (when --webhook is not given)

Logs: JSON lines on stdout, secrets redacted.
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function fail(message: string, code = 2): never {
  process.stderr.write(`obbackupd: ${message}\n`);
  process.exit(code);
}

function parseFlags(argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        listen: { type: 'string' },
        'data-dir': { type: 'string' },
        store: { type: 'string' },
        'token-file': { type: 'string' },
        'log-level': { type: 'string' },
        webhook: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (positionals.length > 0) fail(`unexpected argument "${positionals[0]}" (see obbackupd --help)`);
    return values;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const option = /'([^']+)'/.exec((err as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`unknown flag ${option.split(' ')[0]} (see obbackupd --help)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') fail(`flag ${option.split(' ')[0] || ''} needs a value (see obbackupd --help)`.replace('  ', ' '));
    fail(`bad command line (see obbackupd --help)`);
  }
}

async function main() {
  tuneHeap();
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(HELP);
    return;
  }
  const logLevel = flags['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  // Loaded after the flags are checked, so --help and flag errors answer at once.
  const { StartupError, startDaemon } = await import('./app.js');
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon({
      listen: flags.listen,
      dataDir: flags['data-dir'],
      store: flags.store,
      tokenFile: flags['token-file'],
      webhookUrl: flags.webhook,
      logLevel,
    });
  } catch (err) {
    if (err instanceof StartupError) fail(err.message, 1);
    fail(`failed to start: ${(err as Error).message}`, 1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      daemon.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    daemon.logger.info({ signal }, 'shutting down: finishing requests in flight');
    daemon.close().then(
      () => {
        daemon.logger.info('stopped');
        daemon.logger.flush();
        process.exitCode = 0;
      },
      (err: unknown) => {
        daemon.logger.error({ err }, 'shutdown failed');
        daemon.logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
