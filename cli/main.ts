// obbackup: the command line of obbackupd. Routes each subcommand to its module; every failure is one
// line on stderr with an exit code, never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TOKEN_ENV } from '../daemon/config.js';
import { CliError, Client, ENDPOINT_ENV } from './client.js';
import { alarms, backupNow, runs, status, type Io } from './commands.js';

const HELP = `obbackup: OceanBase backup policies as code (the obbackupd command line)

Usage: obbackup [--endpoint URL] [--token-file FILE] [--json] COMMAND

Commands:
  status [CLUSTER]                         the backup overview of every cluster, or of one in detail
                                           (schedule status, last data backup, log delay, size, the
                                           running backup with its progress, next runs, alarms)
  backup now CLUSTER --type full|incremental [--wait] [--interval SECONDS]
                                           back up now; --wait follows the run to its end (exit 0
                                           when it succeeded, 1 when not)
  runs [--cluster C] [--kind backup|cleanup|secondary] [--state S] [--limit N]
                                           recent runs, newest first
  alarms [--all] [--cluster C]             active alarms (--all: resolved ones too)
  provider install [--mirror DIR]          install the Terraform provider for local use
  demo                                     the whole product on this machine, offline

Connection:
  --endpoint URL      obbackupd's address; else env ${ENDPOINT_ENV}; else http://127.0.0.1:7788
  --token-file FILE   the API token; else env ${TOKEN_ENV}; else the token file in the daemon's
                      data dir ($OBBACKUP_DATA_DIR or ~/.obbackup)
  --json              print the daemon's JSON instead of text

Exit codes: 0 done, 1 the operation failed or was refused, 2 bad command line, 3 obbackupd
unreachable, 4 token refused, 130 interrupted.
`;

const usage = (message: string) => new CliError(`${message} (see obbackup --help)`, 2);

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number) {
  try {
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (parsed.positionals.length > positionals) throw usage(`unexpected argument "${parsed.positionals[positionals]}"`);
    return parsed;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const option = /'([^']+)'/.exec((err as Error).message)?.[1]?.split(' ')[0] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usage(`unknown flag ${option}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw usage(`flag ${option} needs a value`);
    throw usage('bad command line');
  }
}

const connectionFlags = {
  endpoint: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Splits the global flags (before the command) from the command and its own arguments. */
function splitGlobal(argv: string[]): { global: string[]; rest: string[] } {
  const global: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!;
    global.push(a);
    if ((a === '--endpoint' || a === '--token-file') && i + 1 < argv.length) global.push(argv[++i]!);
    i++;
  }
  return { global, rest: argv.slice(i) };
}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${flag} must be a positive number, got "${value}"`);
  return n;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const { global, rest } = splitGlobal(argv);
  const [command, ...args] = rest;
  if (command === 'help' || (command === undefined && global.some((g) => g === '--help' || g === '-h'))) {
    io.out.write(HELP);
    return 0;
  }
  if (command === undefined) {
    io.err.write(HELP);
    return 2;
  }
  // provider install and demo have their own flags and never need the daemon's token
  if (command === 'provider') {
    if (args[0] !== 'install') throw usage(args[0] ? `unknown provider command "${args[0]}" (there is: provider install)` : 'provider needs a command: provider install');
    const { runProviderInstall } = await import('./provider-install.js');
    return runProviderInstall(args.slice(1), io.out, io.err);
  }
  if (command === 'demo') {
    const { runDemo } = await import('./demo.js');
    return runDemo(args);
  }

  const commandFlags = {
    ...connectionFlags,
    type: { type: 'string' },
    wait: { type: 'boolean' },
    interval: { type: 'string' },
    cluster: { type: 'string' },
    kind: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
  } as const;
  const known: Record<string, string[]> = {
    status: [],
    backup: ['type', 'wait', 'interval'],
    runs: ['cluster', 'kind', 'state', 'limit'],
    alarms: ['all', 'cluster', 'limit'],
  };
  if (!(command in known)) throw usage(`unknown command "${command}"`);
  const g = parse(global, connectionFlags, 0).values;
  const { values, positionals } = parse(args, commandFlags, command === 'backup' ? 2 : command === 'status' ? 1 : 0);
  for (const flag of Object.keys(values)) {
    if (!(flag in connectionFlags) && !known[command]!.includes(flag)) throw usage(`flag --${flag} does not apply to "${command}"`);
  }
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  const client = new Client({ endpoint: (values.endpoint ?? g.endpoint) as string | undefined, tokenFile: (values['token-file'] ?? g['token-file']) as string | undefined });
  const cmdIo: Io = { ...io, json: Boolean(values.json ?? g.json) };

  switch (command) {
    case 'status':
      return status(client, cmdIo, positionals[0]);
    case 'backup': {
      if (positionals[0] !== 'now') throw usage(positionals[0] ? `unknown backup command "${positionals[0]}" (there is: backup now CLUSTER --type full|incremental)` : 'usage: obbackup backup now CLUSTER --type full|incremental [--wait]');
      const cluster = positionals[1];
      if (!cluster) throw usage('backup now needs the cluster name: obbackup backup now CLUSTER --type full|incremental');
      const type = values.type as string | undefined;
      if (type !== 'full' && type !== 'incremental') throw usage(type === undefined ? '--type full or --type incremental is required' : `--type must be full or incremental, got "${type}"`);
      const interval = positiveNumber(values.interval as string | undefined, '--interval') ?? 1;
      return backupNow(client, cmdIo, cluster, type, Boolean(values.wait), interval * 1000);
    }
    case 'runs': {
      const kind = values.kind as string | undefined;
      if (kind !== undefined && !['backup', 'cleanup', 'secondary'].includes(kind)) throw usage(`--kind must be backup, cleanup or secondary, got "${kind}"`);
      return runs(client, cmdIo, { cluster: values.cluster as string | undefined, kind, state: values.state as string | undefined, limit: positiveNumber(values.limit as string | undefined, '--limit') });
    }
    case 'alarms':
      return alarms(client, cmdIo, { all: Boolean(values.all), cluster: values.cluster as string | undefined, limit: positiveNumber(values.limit as string | undefined, '--limit') });
  }
  return 2;
}

const isEntry = process.argv[1] !== undefined && /(?:^|[\\/])(?:obbackup(?:\.js)?|main\.ts)$/.test(process.argv[1]);
if (isEntry) {
  const io: Io = { out: process.stdout, err: process.stderr, json: false, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  // a closed pipe (obbackup status | head) is not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof CliError) {
        process.stderr.write(`obbackup: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`obbackup: unexpected failure: ${(err as Error)?.message ?? String(err)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
