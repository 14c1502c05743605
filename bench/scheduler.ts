// Scheduler at scale: 1,000 and 10,000 policies on one obbackupd (HTTP API, engine with its scheduler
// loop, backup dispatch, the cleanup/secondary cadences and the alarm evaluation every minute) on a
// simulated clock: resident memory and CPU seconds per simulated day. Next to it, in the same run, the
// naive design: one croner job per policy (its timers re-check the wall clock every 30 s at most), its
// memory and its idle CPU extrapolated to a day. Goal: the daemon stays under 150 MB RSS at 10,000.
//
// Each measurement runs in a child process of its own, so one does not inflate the other's RSS. The
// daemon is measured twice, both applying the V8 settings of daemon/heap.ts at start as daemon/main.ts
// does: as bin/obbackupd.js ships it (one esbuild bundle under plain node with the node flags of its
// #! line, built and cached by bin/bundle.js, here with this file as the entry) and through tsx's loader
// (whose hooks run on a thread with a heap of their own), the launcher's fallback when the bundle
// cannot be built.
// The clusters are unreachable addresses (nothing can run 10,000 OceanBase clusters here): due backups
// are stored, dispatched and refused by their connect pre-check, and alarm evaluation does not read
// clusters (readClusters: false); everything else is the daemon as it runs.
//
//   npx tsx bench/scheduler.ts [--policies 1000,10000] [--days 1] [--croner-seconds 30]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ensureBundle } from '../bin/bundle.js';
import { tuneHeap } from '../daemon/heap.js';

const run$ = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const DAY = 86_400_000;
const RSS_GOAL_MB = 150;
const TIMEZONES = ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];

interface DaemonFigures {
  kind: 'daemon';
  /** shipped: the cached esbuild bundle under plain node, as bin/obbackupd.js runs; tsx: its fallback */
  variant?: 'shipped' | 'tsx';
  policies: number;
  days: number;
  rss_mb: number;
  heap_mb: number;
  cpu_s_per_day: number;
  wall_s_per_day: number;
  runs_per_day: number;
}

interface CronerFigures {
  kind: 'croner';
  policies: number;
  rss_mb: number;
  heap_mb: number;
  cpu_s_per_day: number;
  measured_s: number;
}

/** The schedule of policy i: one or two weekdays, a time spread over the day, one of a few time zones. */
function scheduleOf(i: number) {
  const day = (i % 7) + 1;
  const days = i % 3 === 0 ? [{ day, type: 'full' }, { day: ((day + 2) % 7) + 1, type: 'incremental' }] : [{ day, type: 'full' }];
  const minute = (i * 7) % (24 * 60);
  const time = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  return { period: 'weekly' as const, time, timezone: TIMEZONES[i % TIMEZONES.length]!, days };
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss / MiB, heap: m.heapUsed / MiB };
}

// ------------------------------------------------------------------------------------------------ children

async function daemonChild(policies: number, days: number): Promise<DaemonFigures> {
  // first thing, as daemon/main.ts does
  tuneHeap();
  const { startDaemon } = await import('../daemon/app.js');
  const { ManualClock } = await import('../daemon/engine/clock.js');
  const { createLogger } = await import('../daemon/log.js');
  const { openStore } = await import('../daemon/store/index.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-bench-sched-'));
  const storageDir = path.join(dataDir, 'backups');
  fs.mkdirSync(storageDir);
  try {
    // resources straight into the store, as if PUT over a long time
    const store = await openStore({ url: 'sqlite:', dataDir });
    const now = new Date().toISOString();
    await store.db
      .insertInto('storages')
      .values({ name: 'nfs', version: 1, spec: JSON.stringify({ type: 'file', path: storageDir, capacity_alarm_threshold: 80 }), secrets: null, created_at: now, updated_at: now })
      .execute();
    for (let from = 0; from < policies; from += 500) {
      const ids = Array.from({ length: Math.min(500, policies - from) }, (_, k) => from + k);
      await store.db
        .insertInto('clusters')
        .values(ids.map((i) => ({ name: `c${i}`, version: 1, spec: JSON.stringify({ host: '127.0.0.1', port: 1, user: 'root@sys' }), secrets: null, created_at: now, updated_at: now })))
        .execute();
      await store.db
        .insertInto('policies')
        .values(
          ids.map((i) => ({
            name: `p${i}`,
            version: 1,
            cluster: `c${i}`,
            storage: 'nfs',
            secondary_storage: null,
            spec: JSON.stringify({
              cluster: `c${i}`,
              mode: 'physical',
              storage: 'nfs',
              schedule: scheduleOf(i),
              log_archive: { enabled: true, piece_switch_interval: '1d' },
              cleanup: { enabled: false, retention_days: 7, time: '04:00' },
              alarms: { data_backup_timeout_minutes: 360, log_backup_delay_seconds: 600, no_successful_backup_days: 8 },
              secondary: { enabled: false },
              paused: false,
              catch_up: 'once',
            }),
            secrets: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    await store.close();

    const clock = new ManualClock(Date.now());
    const daemon = await startDaemon({
      listen: '127.0.0.1:0',
      dataDir,
      env: {},
      logger: createLogger({ level: 'silent' }),
      engine: {
        clock,
        verifyClusters: false,
        applyPolicies: false,
        driver: { connectTimeoutMs: 1_000, queryTimeoutMs: 2_000 },
        backup: { lostLimitMs: 0 },
        ops: { readClusters: false },
      },
    });
    const engine = daemon.engine!;
    let peak = memory();
    const sample = () => {
      const m = memory();
      if (m.rss > peak.rss) peak = { ...m, heap: Math.max(m.heap, peak.heap) };
    };
    const step = async (ms: number) => {
      await engine.settled(600_000);
      await clock.advance(ms);
      await engine.settled(600_000);
      sample();
    };
    if (process.env.BENCH_TRACE) console.error('started', memory());
    // first hour: start-up, first ticks
    for (let i = 0; i < 60; i++) await step(60_000);
    if (process.env.BENCH_TRACE) console.error('1h', memory());
    const runsBefore = Number((await daemon.store.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < days * 24 * 60; i++) {
      await step(60_000);
      if (process.env.BENCH_TRACE && i % 60 === 59) {
        (globalThis as { gc?: () => void }).gc?.();
        console.error(`${(i + 1) / 60}h`, memory());
      }
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - wall0) / 1000;
    const runsAfter = Number((await daemon.store.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
    await daemon.close();
    return {
      kind: 'daemon',
      policies,
      days,
      rss_mb: Math.round(peak.rss),
      heap_mb: Math.round(peak.heap),
      cpu_s_per_day: (cpu.user + cpu.system) / 1e6 / days,
      wall_s_per_day: wall / days,
      runs_per_day: (runsAfter - runsBefore) / days,
    };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function cronerChild(policies: number, seconds: number): Promise<CronerFigures> {
  const { Cron } = await import('croner');
  const jobs = [];
  for (let i = 0; i < policies; i++) {
    const s = scheduleOf(i);
    const [hh, mm] = s.time.split(':').map(Number);
    const pattern = `${mm} ${hh} * * ${s.days.map((d) => d.day % 7).join(',')}`;
    jobs.push(new Cron(pattern, { timezone: s.timezone, protect: true }, () => undefined));
  }
  // croner sleeps at most 30 s at a time: let every job reach that rhythm before measuring
  await new Promise((r) => setTimeout(r, 31_000));
  const cpu0 = process.cpuUsage();
  let peak = memory();
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    const m = memory();
    if (m.rss > peak.rss) peak = m;
  }
  const cpu = process.cpuUsage(cpu0);
  for (const j of jobs) j.stop();
  return {
    kind: 'croner',
    policies,
    rss_mb: Math.round(peak.rss),
    heap_mb: Math.round(peak.heap),
    cpu_s_per_day: ((cpu.user + cpu.system) / 1e6) * (DAY / 1000 / seconds),
    measured_s: seconds,
  };
}

/** The node flags on the #! line of bin/obbackupd.js: what the shipped executable runs with. */
function shippedNodeFlags(): string[] {
  const shebang = fs.readFileSync(path.resolve(path.dirname(SELF), '../bin/obbackupd.js'), 'utf8').split('\n')[0]!;
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}

async function child(args: string[], bundle?: string): Promise<DaemonFigures | CronerFigures> {
  const tsx = path.resolve(path.dirname(SELF), '../node_modules/.bin/tsx');
  const [cmd, argv] = bundle ? [process.execPath, [...shippedNodeFlags(), bundle, ...args]] : [tsx, [SELF, ...args]];
  const { stdout } = await run$(cmd, argv, { maxBuffer: 16 * MiB, timeout: 3 * 3_600_000 });
  const line = stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as DaemonFigures | CronerFigures;
}


// ------------------------------------------------------------------------------------------------ run

export interface SchedulerBenchResult {
  daemon: DaemonFigures[];
  croner: CronerFigures[];
}

export async function run(options: { policies?: number[]; days?: number; cronerSeconds?: number } = {}): Promise<SchedulerBenchResult> {
  const counts = options.policies ?? [1000, 10000];
  const days = options.days ?? 1;
  const cronerSeconds = options.cronerSeconds ?? 30;
  const result: SchedulerBenchResult = { daemon: [], croner: [] };
  // this file and the daemon, bundled and cached exactly as bin/obbackupd.js bundles daemon/main.ts
  const { file: bundle } = await ensureBundle({ entry: SELF, name: 'scheduler-bench' });
  for (const n of counts) {
    const args = ['--child', 'daemon', '--policies', String(n), '--days', String(days)];
    result.daemon.push({ ...((await child(args, bundle)) as DaemonFigures), variant: 'shipped' });
    result.daemon.push({ ...((await child(args)) as DaemonFigures), variant: 'tsx' });
    result.croner.push((await child(['--child', 'croner', '--policies', String(n), '--croner-seconds', String(cronerSeconds)])) as CronerFigures);
  }
  console.log(`scheduler: ${days} simulated day(s) per daemon measurement (peak RSS, CPU per day); croner: ${cronerSeconds} s of its timers, CPU extrapolated to a day`);
  console.log('policies  what                            peak RSS  heap   CPU s/day  wall s/day  runs/day');
  for (const n of counts) {
    for (const d of result.daemon.filter((x) => x.policies === n)) {
      const what = d.variant === 'shipped' ? 'obbackupd (bundle, as shipped)' : 'obbackupd (tsx fallback)';
      console.log(`${String(n).padStart(8)}  ${what.padEnd(30)}  ${`${d.rss_mb} MB`.padStart(8)}  ${`${d.heap_mb}`.padStart(4)}  ${d.cpu_s_per_day.toFixed(1).padStart(9)}  ${d.wall_s_per_day.toFixed(1).padStart(10)}  ${Math.round(d.runs_per_day).toString().padStart(8)}`);
    }
    const c = result.croner.find((x) => x.policies === n)!;
    console.log(`${String(n).padStart(8)}  ${'one croner job per policy'.padEnd(30)}  ${`${c.rss_mb} MB`.padStart(8)}  ${`${c.heap_mb}`.padStart(4)}  ${c.cpu_s_per_day.toFixed(1).padStart(9)}  ${'-'.padStart(10)}  ${'-'.padStart(8)}`);
  }
  const at10k = result.daemon.filter((d) => d.policies === 10000);
  if (at10k.length > 0) {
    for (const d of at10k) console.log(`goal: under ${RSS_GOAL_MB} MB RSS with 10,000 policies (${d.variant}): ${d.rss_mb} MB — ${d.rss_mb < RSS_GOAL_MB ? 'met' : 'NOT met'}`);
    const shipped = at10k.find((d) => d.variant === 'shipped')!;
    if (shipped.rss_mb >= RSS_GOAL_MB) {
      throw new Error(`obbackupd as shipped peaked at ${shipped.rss_mb} MB RSS with 10,000 policies (goal < ${RSS_GOAL_MB} MB)`);
    }
  }
  return result;
}

const invoked = process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;
if (invoked) {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      policies: { type: 'string' },
      days: { type: 'string' },
      'croner-seconds': { type: 'string' },
    },
  });
  const policies = (values.policies ?? '1000,10000').split(',').map(Number);
  if (values.child === 'daemon') {
    console.log(JSON.stringify(await daemonChild(policies[0]!, Number(values.days ?? 1))));
    process.exit(0);
  } else if (values.child === 'croner') {
    console.log(JSON.stringify(await cronerChild(policies[0]!, Number(values['croner-seconds'] ?? 30))));
    process.exit(0);
  } else {
    await run({ policies, days: values.days ? Number(values.days) : undefined, cronerSeconds: values['croner-seconds'] ? Number(values['croner-seconds']) : undefined }).catch((err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    });
  }
}
