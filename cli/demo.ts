// `obbackup demo [--non-interactive]`: the whole product on this machine, offline. Starts an OceanBase 4.x
// simulator and an OSS endpoint (in this process), obbackupd (a child, exactly as users run it), installs
// the provider into a demo-local mirror, deploys examples/quickstart with cdktf, runs a full backup now
// with progress, prints the cluster status and where to look next, then waits for Ctrl-C (or, with
// --non-interactive, stops at once) and stops everything. Each step's details go to a log file; a failure
// is one line naming the step and that file.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAEMON_V8_FLAGS } from '../daemon/heap.js';
import { startObSim, type ObSim } from '../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../simulator/oss/index.js';
import { findOnPath, installProvider, ProviderInstallError } from './provider-install.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OB_VERSION = '4.2.1';
const TENANTS = ['shop', 'crm'];
const CLUSTER = 'quickstart-ob4';
const STACK = 'quickstart';
const DEFAULT_TIME_SCALE = 10;
const MARKER = '.obbackup-demo';
const BACKUP_TIMEOUT_MS = 150_000;
/** What --fail-backup makes the first tenant's backup job end with. */
const INJECTED_ERROR = 9070;

const HELP = `Usage: obbackup demo [--non-interactive] [--dir DIR] [--time-scale N] [--fail-backup]

Runs obbackup end to end on this machine, offline: an OceanBase ${OB_VERSION} simulator with two tenants, an
OSS-compatible endpoint, obbackupd on its embedded SQLite store, the Terraform provider in a local mirror,
\`cdktf deploy\` of examples/quickstart, and a full backup now. Then it prints the cluster status and where
to look next, and keeps everything running until Ctrl-C.

  --non-interactive  stop everything after the backup; exit 0 only when the backup succeeded
  --dir DIR          work directory (default ${join(tmpdir(), 'obbackup-demo')}); emptied at start, kept at
                     the end for its logs; it holds a marker file, other directories are never emptied
  --time-scale N     how much faster than real time the OceanBase simulator runs while the backup runs
                     (default ${DEFAULT_TIME_SCALE}); otherwise it keeps real time, so its clock stays close to yours
  --fail-backup      make the simulated cluster fail the backup (OceanBase error ${INJECTED_ERROR}) to see how a failed
                     backup is reported; the demo then stops and exits 1
`;

/** A step failed: `message` is one line; `log` is where the details are. */
class StepError extends Error {
  constructor(
    message: string,
    readonly log?: string,
  ) {
    super(message);
  }
}

class Interrupted extends Error {}

const firstLine = (text: string) => text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return firstLine(e?.message ?? String(err)) + (e?.code && !String(e.message).includes(e.code) ? ` (${e.code})` : '');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

interface Layout {
  dir: string;
  logs: string;
  demoLog: string;
  daemonDir: string;
  daemonLog: string;
  deployLog: string;
  mirror: string;
  providerBuild: string;
  cliConfig: string;
  stack: string;
  backupDir: string;
  outputs: string;
  /** 0700 directory of 0600 files: the simulators' generated secrets, for env.sh to read. */
  secrets: string;
  envFile: string;
}

function layout(dir: string): Layout {
  const logs = join(dir, 'logs');
  return {
    dir,
    logs,
    demoLog: join(logs, 'demo.log'),
    daemonDir: join(dir, 'obbackupd'),
    daemonLog: join(logs, 'obbackupd.log'),
    deployLog: join(logs, 'cdktf-deploy.log'),
    mirror: join(dir, 'providers'),
    providerBuild: join(dir, 'provider-build'),
    cliConfig: join(dir, 'terraform.rc'),
    stack: join(dir, STACK),
    backupDir: join(dir, 'backup'),
    outputs: join(dir, 'outputs.json'),
    secrets: join(dir, 'secrets'),
    envFile: join(dir, 'env.sh'),
  };
}

/** Empties `dir` if a previous demo made it (and is not running); refuses any other non-empty directory. */
function prepareDir(dir: string): Layout {
  const marker = join(dir, MARKER);
  if (existsSync(dir)) {
    if (existsSync(marker)) {
      const pid = Number((JSON.parse(readFileSync(marker, 'utf8')) as { pid?: number }).pid);
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new StepError(`another demo (pid ${pid}) is running in ${dir}: stop it with Ctrl-C, or pass --dir`);
      }
      rmSync(dir, { recursive: true, force: true });
    } else if (readdirSync(dir).length > 0) {
      throw new StepError(`${dir} exists and was not made by the demo; pass --dir with a new or empty directory`);
    }
  }
  const l = layout(dir);
  for (const d of [l.dir, l.logs, l.backupDir, l.secrets]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(marker, JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() }) + '\n');
  return l;
}

/** Where cdktf, constructs and tsx are installed (the checkout's node_modules, or the one obbackup sits in). */
function nodeModulesDir(): string {
  try {
    const cdktfPkg = createRequire(join(REPO_ROOT, 'package.json')).resolve('cdktf/package.json');
    return dirname(dirname(cdktfPkg));
  } catch {
    throw new StepError('the cdktf package is not installed: run `npm install` in the obbackup directory first');
  }
}

/** The fields of GET /v1/clusters/{name}/status the demo shows. */
interface ClusterStatusView {
  cluster?: string;
  schedule_status?: string;
  schedule_status_reason?: string;
  ob_version?: string | null;
  reachable?: boolean | null;
  last_data_backup_at?: string | null;
  last_data_backup?: { run_id: number; type: string | null } | null;
  log_backup_delay_seconds?: number | null;
  backup_size_bytes?: number | null;
  next_runs?: { at: string; type: string }[];
  alarms?: { name: string; severity: string; message: string }[];
}

interface Api {
  url: string;
  token: string;
}

interface ApiAnswer {
  status: number;
  body: any;
}

async function call(api: Api, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

function apiMessage(answer: ApiAnswer): string {
  const b = answer.body as { error?: string; message?: string } | string | undefined;
  if (b && typeof b === 'object' && b.message) return `${b.message} (HTTP ${answer.status}${b.error ? ` ${b.error}` : ''})`;
  return `HTTP ${answer.status}${typeof b === 'string' && b ? `: ${firstLine(b).slice(0, 200)}` : ''}`;
}

/**
 * The first Terraform error in cdktf's output as one line: its summary and its detail paragraph (cdktf
 * prefixes lines with the stack name, Terraform wraps them and adds "with …"/"on …" source lines).
 */
export function firstErrorLine(output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/[│╷╵]/g, '').trim());
  const i = lines.findIndex((l) => /\bError: /.test(l));
  if (i < 0) return undefined;
  const summary = lines[i]!.slice(lines[i]!.indexOf('Error: ') + 'Error: '.length).trim();
  const isSource = (l: string) => /^(with |on )|^\d+:/.test(l);
  let j = i + 1;
  while (j < lines.length && (lines[j] === '' || isSource(lines[j]!))) j++;
  const detail: string[] = [];
  for (; j < lines.length && lines[j] !== '' && !/\bError: /.test(lines[j]!) && !isSource(lines[j]!); j++) detail.push(lines[j]!);
  const text = detail.length > 0 ? `${summary}: ${detail.join(' ')}` : summary;
  return text.length > 400 ? `${text.slice(0, 397)}...` : text;
}

class Demo {
  private readonly out = process.stdout;
  private readonly tty = Boolean(process.stdout.isTTY);
  private readonly abort = new AbortController();
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private readonly children = new Set<ChildProcess>();
  private stepNo = 0;
  private currentStep = '';
  private readonly totalSteps = 7;
  private l!: Layout;
  private daemonTokenFile?: string;
  private daemonExit?: Promise<string>;
  private readonly started = performance.now();

  constructor(
    private readonly options: { nonInteractive: boolean; dir: string; timeScale: number; failBackup: boolean },
  ) {}

  private say(text = '') {
    this.out.write(`${text}\n`);
  }

  private log(text: string) {
    try {
      appendFileSync(this.l.demoLog, `${new Date().toISOString()} ${text}\n`);
    } catch {
      // the log is a help, not a requirement
    }
  }

  private checkAbort() {
    if (this.abort.signal.aborted) throw new Interrupted();
  }

  /** Runs one numbered step: prints its title, then its result (or lets the failure through). */
  private async step<T>(title: string, run: () => Promise<T>, result: (value: T) => string): Promise<T> {
    this.checkAbort();
    this.stepNo++;
    const label = `[${this.stepNo}/${this.totalSteps}] ${title}`;
    const t0 = performance.now();
    this.currentStep = label;
    this.log(`step ${label}`);
    this.out.write(`${label} ...`);
    // On a terminal the line counts the seconds of a long step; in a log it stays one line.
    const ticker = this.tty
      ? setInterval(() => this.out.write(`\r\x1b[K${label} ... ${Math.round((performance.now() - t0) / 1000)} s`), 1000)
      : undefined;
    try {
      const value = await run();
      if (ticker) clearInterval(ticker);
      const text = result(value);
      if (this.tty) this.out.write(`\r\x1b[K${label} ... `);
      else this.out.write(' ');
      this.say(`${text} (${seconds(performance.now() - t0)})`);
      return value;
    } catch (err) {
      if (ticker) clearInterval(ticker);
      if (!this.abort.signal.aborted) this.say();
      throw err;
    }
  }

  async run(): Promise<number> {
    // A reader that went away (a closed pipe) must not turn into a crash in the middle of stopping things.
    this.out.on('error', () => {});
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.abort.signal.aborted) return;
      this.say(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping everything ...`);
      this.abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Whatever happens, no child outlives the demo.
    const killChildren = () => {
      for (const c of this.children) {
        if (c.exitCode === null && c.signalCode === null && c.pid) {
          try {
            process.kill(-c.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    };
    process.on('exit', killChildren);

    let code = 1;
    try {
      code = await this.main();
    } catch (err) {
      if (err instanceof Interrupted || this.abort.signal.aborted) {
        code = 130;
      } else {
        const log = err instanceof StepError ? (err.log ?? this.l?.demoLog) : this.l?.demoLog;
        if (this.l) this.log(`failure: ${(err as Error)?.stack ?? String(err)}`);
        const step = /^\[(\d+\/\d+)\] (.*)$/.exec(this.currentStep);
        const where = step ? `step ${step[1]} "${step[2]}"` : this.currentStep || 'start-up';
        process.stderr.write(`obbackup demo: ${where} failed: ${errorText(err)}${log ? ` (log: ${log})` : ''}\n`);
        code = 1;
      }
    } finally {
      await this.stopAll();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', killChildren);
    }
    return code;
  }

  private async main(): Promise<number> {
    this.say('obbackup demo: OceanBase backup policies as code, everything on this machine');
    this.l = prepareDir(this.options.dir);
    this.say(`Work directory ${this.l.dir} (logs in ${this.l.logs})`);
    this.say('');
    const tools = this.checkTools();
    this.log(`tools: terraform ${tools.terraform}, cdktf ${tools.cdktf}, node ${process.execPath} ${process.version}`);

    // Generated secrets live in 0600 files (as the daemon keeps its token) so env.sh can read them.
    const obPassword = this.secret('obsim-root-password');
    const ossSecret = this.secret('osssim-access-key-secret');
    const ob = await this.step(
      `Start obsim: OceanBase ${OB_VERSION} with tenants ${TENANTS.join(', ')}`,
      async () => {
        const sim = await startObSim({
          obVersion: OB_VERSION,
          password: obPassword,
          tenants: TENANTS,
          dataDir: join(this.l.dir, 'obsim'),
          timeScale: 1,
        }).catch((err: unknown) => {
          throw new StepError(`obsim did not start: ${errorText(err)}`);
        });
        this.stops.push({ name: 'obsim', stop: () => sim.stop() });
        this.log(`obsim ${sim.version} on ${sim.host}:${sim.port}`);
        return sim;
      },
      (sim) => `root@sys on ${sim.host}:${sim.port}`,
    );

    const oss = await this.step(
      'Start osssim: an OSS-compatible endpoint (buckets backup, backup-dr)',
      async () => {
        const sim = await startOssSim({
          accessKeyId: 'demo-id',
          accessKeySecret: ossSecret,
          dataDir: join(this.l.dir, 'osssim'),
          buckets: ['backup', 'backup-dr'],
        }).catch((err: unknown) => {
          throw new StepError(`osssim did not start: ${errorText(err)}`);
        });
        this.stops.push({ name: 'osssim', stop: () => sim.stop() });
        this.log(`osssim on ${sim.endpoint}`);
        return sim;
      },
      (sim) => sim.endpoint,
    );

    const api = await this.step('Start obbackupd on its embedded SQLite store', () => this.startDaemon(), (a) => a.url);

    await this.step(
      'Install the Terraform provider into a demo-local mirror',
      async () => {
        try {
          const result = await installProvider({ mirror: this.l.mirror, buildDir: this.l.providerBuild });
          writeFileSync(this.l.cliConfig, result.cliConfig);
          this.log(`provider ${result.version} in ${result.dir}; node ${result.node.path} ${result.node.version ?? '?'} (${result.node.source})`);
          return result;
        } catch (err) {
          throw new StepError(err instanceof ProviderInstallError ? err.message : `provider install failed: ${errorText(err)}`);
        }
      },
      (r) => `obbackup.local/oceanbase/obbackup ${r.version}`,
    );

    await this.step(
      'cdktf deploy examples/quickstart (cluster, file storage, weekly policy)',
      () => this.deploy(api, ob, obPassword),
      (summary) => summary,
    );

    // The backup runs in simulated time sped up, the rest in real time: the backup takes seconds and the
    // simulator's clock stays within a minute or two of the daemon's.
    ob.setTimeScale(this.options.timeScale);
    if (this.options.failBackup) ob.faults.failNextBackup(TENANTS[0]!, INJECTED_ERROR, 2_000, 'injected by obbackup demo --fail-backup');
    await this.backupNow(api).finally(() => ob.setTimeScale(1));
    await this.step('Cluster status', () => this.status(api), () => 'GET /v1/clusters/' + CLUSTER + '/status');
    this.writeEnvFile(api, ob, oss);
    this.printNext(api, oss);

    if (this.options.nonInteractive) {
      this.say(`Backup succeeded; --non-interactive: stopping everything (${seconds(performance.now() - this.started)} since start).`);
      return 0;
    }
    this.say('obsim, osssim and obbackupd keep running. Press Ctrl-C to stop them.');
    this.currentStep = 'while running';
    await this.waitForStop();
    return 0;
  }

  private checkTools(): { terraform: string; cdktf: string } {
    const terraform = findOnPath('terraform');
    if (!terraform) throw new StepError('terraform is not on PATH: install Terraform 1.5 or later (https://developer.hashicorp.com/terraform/install)');
    const nm = nodeModulesDir();
    const cdktf = join(nm, '.bin', 'cdktf');
    if (!existsSync(cdktf)) throw new StepError(`cdktf-cli is not installed (${cdktf} is missing): run \`npm install\` with dev dependencies`);
    return { terraform, cdktf };
  }

  /** Spawns a command in its own process group (so the terminal's Ctrl-C reaches only the demo) with output into `log`. */
  private spawnLogged(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string }): { child: ChildProcess; logStream: WriteStream; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    const logStream = createWriteStream(options.log, { flags: 'a' });
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.children.add(child);
    child.stdout!.pipe(logStream, { end: false });
    child.stderr!.pipe(logStream, { end: false });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
      child.on('error', (err) => {
        logStream.write(`\n${err.message}\n`);
        resolvePromise({ code: -1, signal: null });
      });
      child.on('close', (code, signal) => {
        this.children.delete(child);
        resolvePromise({ code, signal });
      });
    });
    return { child, logStream, exited };
  }

  private async stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  private async startDaemon(): Promise<Api> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The demo's daemon is self-contained: no token, key or data dir from the caller's environment.
    for (const k of Object.keys(env)) if (k.startsWith('OBBACKUP_')) delete env[k];
    const { child, exited } = this.spawnLogged(
      process.execPath,
      // The same V8 flags as the executable's #! line, which `node script` would skip.
      [...DAEMON_V8_FLAGS, join(REPO_ROOT, 'bin', 'obbackupd.js'), '--listen', '127.0.0.1:0', '--data-dir', this.l.daemonDir],
      { cwd: this.l.dir, env, log: this.l.daemonLog },
    );
    let stderrTail = '';
    child.stderr!.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-2000)));
    const listening = new Promise<{ url: string; tokenFile?: string }>((resolvePromise) => {
      let buffered = '';
      let tokenFile: string | undefined;
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string; file?: string };
            if (entry.file && /token/.test(entry.msg ?? '')) tokenFile = entry.file;
            if (entry.url && /listening/.test(entry.msg ?? '')) resolvePromise({ url: entry.url, tokenFile });
          } catch {
            // not a log line
          }
        }
      });
    });
    const stop = () => this.stopChild(child, exited, 10_000);
    this.stops.push({ name: 'obbackupd', stop });
    const started = await Promise.race([
      listening,
      exited.then(({ code, signal }) => {
        const said = firstLine(stderrTail.split('\n').filter(Boolean).slice(-1)[0] ?? '');
        throw new StepError(`obbackupd exited (${signal ?? `code ${code}`}) before listening${said ? `: ${said}` : ''}`, this.l.daemonLog);
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new StepError('obbackupd did not start listening within 60 s', this.l.daemonLog)), 60_000).unref()),
      new Promise<never>((_, reject) => this.abort.signal.addEventListener('abort', () => reject(new Interrupted()), { once: true })),
    ]);
    this.daemonExit = exited.then(({ code, signal }) => `obbackupd exited unexpectedly (${signal ?? `code ${code}`})`);
    const tokenFile = started.tokenFile ?? join(this.l.daemonDir, 'token');
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new StepError(`cannot read the API token ${tokenFile}: ${errorText(err)}`, this.l.daemonLog);
    }
    this.daemonTokenFile = tokenFile;
    const api = { url: started.url, token };
    const health = await fetch(`${api.url}/healthz`, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
      throw new StepError(`obbackupd does not answer on ${api.url}/healthz: ${errorText(err)}`, this.l.daemonLog);
    });
    if (!health.ok) throw new StepError(`obbackupd answers ${health.status} on /healthz`, this.l.daemonLog);
    return api;
  }

  /** Copies the quickstart outside the checkout, links its packages, and runs `cdktf deploy` on it. */
  private async deploy(api: Api, ob: ObSim, obPassword: string): Promise<string> {
    const nm = nodeModulesDir();
    cpSync(join(REPO_ROOT, 'examples', STACK), this.l.stack, {
      recursive: true,
      filter: (src) => !/(^|\/)(cdktf\.out|\.terraform|node_modules)(\/|$)/.test(src.slice(REPO_ROOT.length)),
    });
    writeFileSync(join(this.l.stack, 'package.json'), JSON.stringify({ name: 'obbackup-demo-quickstart', private: true, type: 'module' }, null, 2) + '\n');
    const modules = join(this.l.stack, 'node_modules');
    mkdirSync(modules);
    symlinkSync(REPO_ROOT, join(modules, 'obbackup'), 'dir');
    for (const m of ['cdktf', 'constructs', 'tsx', '.bin']) symlinkSync(join(nm, m), join(modules, m), 'dir');

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CHECKPOINT_DISABLE: '1',
      DISABLE_VERSION_CHECK: '1',
      CI: 'true',
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
      TF_CLI_CONFIG_FILE: this.l.cliConfig,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      OBBACKUP_ENDPOINT: api.url,
      OBBACKUP_TOKEN: api.token,
      OB_HOST: ob.host,
      OB_PORT: String(ob.port),
      BACKUP_DIR: this.l.backupDir,
      TF_VAR_ob_password: obPassword,
    };
    for (const k of ['TF_LOG', 'TF_LOG_PATH', 'OB_TENANTS', 'TF_DATA_DIR', 'TF_WORKSPACE']) delete env[k];
    const args = ['deploy', STACK, '--auto-approve', '--skip-provider-lock', '--outputs-file', this.l.outputs, '--no-color'];
    writeFileSync(this.l.deployLog, `$ cd ${this.l.stack} && cdktf ${args.join(' ')}\n`);
    const { child, exited } = this.spawnLogged(join(nm, '.bin', 'cdktf'), args, { cwd: this.l.stack, env, log: this.l.deployLog });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const onAbort = () => void this.stopChild(child, exited, 5_000);
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => void this.stopChild(child, exited, 5_000), 150_000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    this.abort.signal.removeEventListener('abort', onAbort);
    this.checkAbort();
    if (code !== 0) {
      const reason = firstErrorLine(output) ?? (signal ? `cdktf was stopped (${signal}) after 150 s` : `cdktf exited with code ${code}`);
      throw new StepError(reason, this.l.deployLog);
    }
    const applied = /Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed/.exec(output);
    let nextRun = '';
    try {
      const outputs = JSON.parse(readFileSync(this.l.outputs, 'utf8')) as Record<string, Record<string, unknown>>;
      const runs = outputs[STACK]?.next_runs as { at: string; type: string }[] | undefined;
      if (runs?.[0]) nextRun = `${runs[0].type} at ${runs[0].at}`;
    } catch {
      // outputs are a nicety
    }
    const added = applied ? `${applied[1]} added, ${applied[2]} changed` : 'applied';
    return `${added}${nextRun ? `; next scheduled run: ${nextRun}` : ''}`;
  }

  /** POST /v1/clusters/{name}/backups, then follows the run with a progress line until it succeeds (or throws). */
  private async backupNow(api: Api): Promise<void> {
    this.checkAbort();
    this.stepNo++;
    const label = `[${this.stepNo}/${this.totalSteps}] Backup now: full backup of ${CLUSTER} (simulated time x${this.options.timeScale})`;
    this.currentStep = label;
    this.log(`step ${label}`);
    this.say(label);
    const t0 = performance.now();
    const started = await call(api, 'POST', `/v1/clusters/${CLUSTER}/backups`, { type: 'full' }).catch((err: unknown) => {
      throw new StepError(`POST /v1/clusters/${CLUSTER}/backups failed: ${errorText(err)}`, this.l.daemonLog);
    });
    if (started.status !== 202 && started.status !== 201 && started.status !== 200) {
      throw new StepError(`obbackupd refused the backup: ${apiMessage(started)}`, this.l.daemonLog);
    }
    const runId = (started.body?.id ?? started.body?.run?.id) as number | undefined;
    if (runId === undefined) throw new StepError(`obbackupd answered ${started.status} without a run id`, this.l.daemonLog);
    this.say(`      run ${runId} accepted; following GET /v1/runs/${runId}`);

    const progress = new ProgressLine(this.out, this.tty);
    let run: any;
    for (;;) {
      this.checkAbort();
      if (performance.now() - t0 > BACKUP_TIMEOUT_MS) {
        progress.end();
        throw new StepError(`the backup did not finish within ${BACKUP_TIMEOUT_MS / 1000} s (run ${runId} is ${run?.state ?? 'unknown'})`, this.l.daemonLog);
      }
      const answer = await Promise.race([
        call(api, 'GET', `/v1/runs/${runId}`),
        this.daemonExit!.then((why) => {
          throw new StepError(why, this.l.daemonLog);
        }),
      ]).catch((err: unknown) => {
        progress.end();
        if (err instanceof StepError) throw err;
        throw new StepError(`GET /v1/runs/${runId} failed: ${errorText(err)}`, this.l.daemonLog);
      });
      if (answer.status !== 200) {
        progress.end();
        throw new StepError(`GET /v1/runs/${runId}: ${apiMessage(answer)}`, this.l.daemonLog);
      }
      run = answer.body;
      progress.update(run);
      if (!['pending', 'waiting', 'running'].includes(run.state)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    progress.end();
    this.log(`run ${runId}: ${JSON.stringify({ state: run.state, error: run.error, jobs: run.jobs })}`);
    if (run.state !== 'succeeded') {
      const why: string = run.error ?? run.reason ?? 'no reason given';
      const code = run.error_code && !why.includes(String(run.error_code)) ? ` (OceanBase error ${run.error_code})` : '';
      throw new StepError(`backup ${run.state}: ${why}${code}`, this.l.daemonLog);
    }
    const sets = (run.jobs as { tenant?: string; backup_set_id?: number | null }[] | undefined)
      ?.filter((j) => j.backup_set_id !== undefined && j.backup_set_id !== null)
      .map((j) => `${j.tenant ?? 'cluster'} #${j.backup_set_id}`);
    const size = run.output_bytes ?? run.input_bytes;
    this.say(
      `      backup succeeded in ${seconds(performance.now() - t0)}` +
        `${sets && sets.length > 0 ? `: backup sets ${sets.join(', ')}` : run.backup_set_id ? `: backup set ${run.backup_set_id}` : ''}` +
        `${size ? `, ${formatBytes(size)}` : ''}`,
    );
  }

  private async status(api: Api): Promise<void> {
    const answer = await call(api, 'GET', `/v1/clusters/${CLUSTER}/status`).catch((err: unknown) => {
      throw new StepError(`GET /v1/clusters/${CLUSTER}/status failed: ${errorText(err)}`, this.l.daemonLog);
    });
    if (answer.status !== 200) throw new StepError(`GET /v1/clusters/${CLUSTER}/status: ${apiMessage(answer)}`, this.l.daemonLog);
    const s = answer.body as ClusterStatusView;
    const last = s.last_data_backup;
    const delay = s.log_backup_delay_seconds;
    this.statusRows = [
      ['cluster', `${s.cluster ?? CLUSTER}${s.ob_version ? ` (OceanBase ${s.ob_version}${s.reachable === false ? ', unreachable' : ''})` : ''}`],
      ['schedule status', `${s.schedule_status ?? '-'}${s.schedule_status_reason ? ` (${s.schedule_status_reason})` : ''}`],
      ['last data backup', s.last_data_backup_at ? `${s.last_data_backup_at}${last?.type ? ` (${last.type}, run ${last.run_id})` : ''}` : 'none'],
      ['log backup delay', delay === null || delay === undefined ? '-' : `${delay} s`],
      ['backup size', formatBytes(s.backup_size_bytes)],
      ['next runs', s.next_runs?.length ? s.next_runs.slice(0, 3).map((r) => `${r.type} ${r.at}`).join('; ') : '-'],
      ['active alarms', s.alarms?.length ? s.alarms.map((a) => `${a.severity} ${a.name}: ${a.message}`).join('; ') : 'none'],
    ];
  }

  private statusRows: [string, string][] = [];

  private secret(name: string): string {
    const value = randomBytes(18).toString('base64url');
    writeFileSync(join(this.l.secrets, name), `${value}\n`, { mode: 0o600 });
    return value;
  }

  /** The running demo's settings for a shell, so the stack can be changed and redeployed by hand. */
  private writeEnvFile(api: Api, ob: ObSim, oss: OssSim) {
    const token = this.daemonTokenFile ?? join(this.l.daemonDir, 'token');
    const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    writeFileSync(
      this.l.envFile,
      [
        `# Settings of the obbackup demo started ${new Date().toISOString()} (valid while it runs).`,
        `# Use: . ${this.l.envFile}; cd ${this.l.stack}; npx cdktf diff --skip-provider-lock`,
        `export OBBACKUP_ENDPOINT=${q(api.url)}`,
        `export OBBACKUP_TOKEN="$(cat ${q(token)})"`,
        `export TF_CLI_CONFIG_FILE=${q(this.l.cliConfig)}`,
        `export CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=1`,
        `export OB_HOST=${q(ob.host)} OB_PORT=${ob.port} BACKUP_DIR=${q(this.l.backupDir)}`,
        `export TF_VAR_ob_password="$(cat ${q(join(this.l.secrets, 'obsim-root-password'))})"`,
        `export OSS_ENDPOINT=${q(oss.endpoint)} OSS_ACCESS_KEY_ID=demo-id`,
        `export TF_VAR_oss_access_key_secret="$(cat ${q(join(this.l.secrets, 'osssim-access-key-secret'))})"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  private printNext(api: Api, oss: OssSim) {
    for (const [k, v] of this.statusRows) this.say(`      ${k.padEnd(17)} ${v}`);
    const token = this.daemonTokenFile ?? join(this.l.daemonDir, 'token');
    this.say('');
    this.say('Where to look next');
    this.say(`  REST API      ${api.url}  (OpenAPI at ${api.url}/openapi.json; bearer token required)`);
    this.say(`  token file    ${token}`);
    // npx finds the obbackup bin only inside the package's own directory.
    const cli = process.cwd() === REPO_ROOT ? 'npx obbackup' : `node ${join(REPO_ROOT, 'bin', 'obbackup.js')}`;
    this.say(`  CLI           OBBACKUP_ENDPOINT=${api.url} OBBACKUP_TOKEN="$(cat ${token})" ${cli} status`);
    this.say(`                (also: ${cli} runs, ${cli} alarms, ${cli} backup now ${CLUSTER} --type incremental --wait)`);
    this.say(`  the stack     ${this.l.stack}`);
    this.say(`                edit stack.ts, then: . ${this.l.envFile} && cd ${this.l.stack} && npx cdktf deploy --skip-provider-lock`);
    this.say(`  backups       ${this.l.backupDir}`);
    this.say(`  OSS endpoint  ${oss.endpoint}  (buckets backup, backup-dr; env.sh sets it up for examples/oss-secondary)`);
    this.say(`  logs          ${this.l.logs}`);
    this.say('');
  }

  private async waitForStop(): Promise<void> {
    await new Promise<void>((resolvePromise, reject) => {
      if (this.abort.signal.aborted) return resolvePromise();
      this.abort.signal.addEventListener('abort', () => resolvePromise(), { once: true });
      this.daemonExit!.then((why) => {
        if (!this.abort.signal.aborted) reject(new StepError(why, this.l.daemonLog));
      });
    });
  }

  private async stopAll() {
    if (this.stops.length === 0) return;
    const names: string[] = [];
    for (const { name, stop } of this.stops.reverse()) {
      try {
        await stop();
        names.push(name);
      } catch (err) {
        this.say(`obbackup demo: stopping ${name} failed: ${errorText(err)}`);
      }
    }
    this.stops.length = 0;
    if (names.length > 0) this.say(`Stopped ${names.join(', ')}. Files kept in ${this.l.dir}`);
  }
}

/** One line of backup progress: redrawn in place on a terminal, printed on change otherwise. */
class ProgressLine {
  private last = '';
  private lastBucket = -1;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  update(run: { state: string; progress?: number | null; steps?: { name: string; state: string; message?: string | null }[]; jobs?: { tenant?: string; status?: string }[] }) {
    const pct = typeof run.progress === 'number' ? Math.max(0, Math.min(100, run.progress)) : null;
    const width = 24;
    const filled = pct === null ? 0 : Math.round((pct / 100) * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const step = [...(run.steps ?? [])].reverse().find((s) => s.state === 'running') ?? run.steps?.[run.steps.length - 1];
    // The step's message already names the jobs while tracking; job states are the fallback.
    const jobs = (run.jobs ?? []).filter((j) => j.status).map((j) => `${j.tenant ?? 'cluster'} ${j.status}`).join(', ');
    const what = step ? `${step.name}${step.message ? `: ${step.message}` : jobs ? `: ${jobs}` : ''}` : run.state;
    const line = `      ${bar} ${pct === null ? '    ' : `${String(Math.round(pct)).padStart(3)}%`}  ${what}`;
    if (this.tty) {
      const cols = this.out.columns || 120;
      this.out.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
      this.drawn = true;
      return;
    }
    const bucket = pct === null ? -1 : Math.floor(pct / 25);
    const key = `${run.state}|${step?.name ?? ''}|${bucket}`;
    if (key !== this.last || bucket !== this.lastBucket) {
      this.out.write(`${line}\n`);
      this.last = key;
      this.lastBucket = bucket;
    }
  }

  end() {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** `obbackup demo …` (argv after `demo`). Returns the exit code. */
export async function runDemo(argv: string[]): Promise<number> {
  let values: { 'non-interactive'?: boolean; dir?: string; 'time-scale'?: string; 'fail-backup'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'non-interactive': { type: 'boolean' },
        dir: { type: 'string' },
        'time-scale': { type: 'string' },
        'fail-backup': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`obbackup demo: ${firstLine((e as Error).message)} (see obbackup demo --help)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeScale = values['time-scale'] === undefined ? DEFAULT_TIME_SCALE : Number(values['time-scale']);
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    process.stderr.write(`obbackup demo: --time-scale must be a number above 0, got "${values['time-scale']}"\n`);
    return 2;
  }
  const dir = resolve(values.dir ?? join(tmpdir(), 'obbackup-demo'));
  return new Demo({ nonInteractive: Boolean(values['non-interactive']), dir, timeScale, failBackup: Boolean(values['fail-backup']) }).run();
}
