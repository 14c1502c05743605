// 4.x secondary backup copy: the daemon's file→file copy of 1 GiB of backup-like files next to `cp -r` of
// the same files on the same disk, in the same run. Goal: at least 0.8x of cp's throughput.
//
//   npx tsx bench/secondary-copy.ts [--size-mib 1024] [--dir /path/on/the/disk] [--rounds 6] [--concurrency 4]
//
// Both sides end durable: the daemon fsyncs every file and directory it wrote before the copy reports
// success, so `cp -r` is timed together with the `sync` that makes its copy durable too; `cp -r` alone is
// printed as well. The daemon also verifies every file (xxh3 of the source and of the file written, in
// worker threads) and checks sizes; cp does neither. CPU seconds of both sides are printed too: on a
// shared machine they say more than wall time.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { copyTree, openStorage } from '../daemon/storage/index.js';

const run$ = promisify(execFile);
const MiB = 1024 * 1024;

export interface SecondaryCopyResult {
  bytes: number;
  files: number;
  daemon_mib_s: number;
  cp_mib_s: number;
  cp_sync_mib_s: number;
  /** daemon copy throughput / (cp -r + sync) throughput: median of the per-round ratios */
  ratio: number;
  /** daemon copy throughput / cp -r throughput (page cache only, not durable) */
  ratio_cp_only: number;
  /** CPU seconds (user + system, median round) spent by the daemon copy and by cp -r + sync. */
  daemon_cpu_s: number;
  cp_cpu_s: number | null;
}

/** A backup set's shape: a few large data files and many small meta and index files, incompressible. */
async function makeBackupSet(dir: string, totalBytes: number): Promise<number> {
  const largeCount = 4;
  const smallSize = 256 * 1024;
  const smallTotal = Math.floor(totalBytes / 4);
  const smallCount = Math.max(1, Math.floor(smallTotal / smallSize));
  const largeSize = Math.floor((totalBytes - smallCount * smallSize) / largeCount);
  const block = Buffer.alloc(4 * MiB);
  const writeFileOf = async (path: string, size: number) => {
    const handle = await open(path, 'w');
    try {
      for (let left = size; left > 0; left -= block.length) {
        const n = Math.min(left, block.length);
        randomFillSync(block, 0, n);
        await handle.write(block, 0, n);
      }
    } finally {
      await handle.close();
    }
  };
  await mkdir(join(dir, 'backup_set_1_full', 'data'), { recursive: true });
  for (let i = 0; i < largeCount; i++) await writeFileOf(join(dir, 'backup_set_1_full', 'data', `macro_block_${i}.data`), largeSize);
  for (let i = 0; i < smallCount; i++) {
    const sub = join(dir, 'backup_set_1_full', 'meta', `ls_${i % 16}`);
    await mkdir(sub, { recursive: true });
    await writeFileOf(join(sub, `tablet_${i}.meta`), smallSize);
  }
  return largeCount + smallCount;
}

/** CPU seconds (user + system) of this process's waited-for children so far, from /proc (Linux). */
async function childrenCpuSeconds(): Promise<number | undefined> {
  try {
    const stat = await readFile('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat(5) (cutime, cstime), counted from the state field as 3; USER_HZ is 100 on Linux.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function run(
  options: { sizeMiB?: number; dir?: string; rounds?: number; concurrency?: number; log?: (line: string) => void } = {},
): Promise<SecondaryCopyResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const totalBytes = (options.sizeMiB ?? 1024) * MiB;
  const work = await mkdtemp(join(options.dir ?? tmpdir(), 'obbackup-bench-copy-'));
  try {
    const source = join(work, 'primary');
    await mkdir(source);
    const files = await makeBackupSet(source, totalBytes);
    await run$('sync');
    const bytes = totalBytes;

    // Alternate which side goes first and keep each one's median round, so neither profits from its place
    // and a stall of the shared machine in one round does not decide the result.
    const rounds = options.rounds ?? 6; // even: each side goes first equally often
    const daemonTimes: number[] = [];
    const cpTimes: number[] = [];
    const cpSyncTimes: number[] = [];
    const daemonCpu: number[] = [];
    const cpCpu: number[] = [];
    const runCp = async (round: number) => {
      const cpTarget = join(work, `cp-${round}`);
      let cpOnly = 0;
      const childCpuBefore = await childrenCpuSeconds();
      const cpSync = await timed(async () => {
        cpOnly = await timed(() => run$('cp', ['-r', source, cpTarget]));
        await run$('sync');
      });
      const childCpuAfter = await childrenCpuSeconds();
      if (childCpuBefore !== undefined && childCpuAfter !== undefined) cpCpu.push(childCpuAfter - childCpuBefore);
      cpTimes.push(cpOnly);
      cpSyncTimes.push(cpSync);
      await rm(cpTarget, { recursive: true, force: true });
      await run$('sync');
    };
    const runDaemon = async (round: number) => {
      const target = join(work, `daemon-${round}`);
      await mkdir(target);
      const from = openStorage({ type: 'file', path: source });
      const to = openStorage({ type: 'file', path: target });
      let copied = 0;
      const cpuBefore = process.cpuUsage();
      const seconds = await timed(async () => {
        const report = await copyTree(from, to, { concurrency: options.concurrency ?? 4 });
        copied = report.copied_bytes;
      });
      const cpu = process.cpuUsage(cpuBefore);
      daemonCpu.push((cpu.user + cpu.system) / 1e6);
      if (copied !== bytes) throw new Error(`the daemon copied ${copied} bytes, expected ${bytes}`);
      daemonTimes.push(seconds);
      await rm(target, { recursive: true, force: true });
      await run$('sync');
    };
    for (let round = 0; round < rounds; round++) {
      // Even rounds start with cp, odd rounds with the daemon.
      if (round % 2 === 0) {
        await runCp(round);
        await runDaemon(round);
      } else {
        await runDaemon(round);
        await runCp(round);
      }
      const cpOnly = cpTimes[round];
      const cpSync = cpSyncTimes[round];
      const seconds = daemonTimes[round];
      log(`round ${round + 1}: cp -r ${cpOnly.toFixed(2)} s, cp -r + sync ${cpSync.toFixed(2)} s, daemon copy ${seconds.toFixed(2)} s (cpu ${daemonCpu.at(-1)!.toFixed(2)} s), ratio ${(cpSync / seconds).toFixed(2)}x`);
    }

    const daemonBest = median(daemonTimes);
    const cpBest = median(cpTimes);
    const cpSyncBest = median(cpSyncTimes);
    const mib = bytes / MiB;
    const result: SecondaryCopyResult = {
      bytes,
      files,
      daemon_mib_s: mib / daemonBest,
      cp_mib_s: mib / cpBest,
      cp_sync_mib_s: mib / cpSyncBest,
      // Each round's two sides ran back to back; the median of the per-round ratios is the least sensitive
      // to the shared disk's speed changing between rounds.
      ratio: median(cpSyncTimes.map((t, i) => t / daemonTimes[i])),
      ratio_cp_only: median(cpTimes.map((t, i) => t / daemonTimes[i])),
      daemon_cpu_s: median(daemonCpu),
      cp_cpu_s: cpCpu.length ? median(cpCpu) : null,
    };
    log(
      `secondary copy, ${mib.toFixed(0)} MiB in ${files} files (file→file, each file's xxh3 checked against the source, fsync of all before done), median of ${rounds} rounds (ratios: median of the per-round ratios):\n` +
        `  daemon copy      ${result.daemon_mib_s.toFixed(0)} MiB/s\n` +
        `  cp -r + sync     ${result.cp_sync_mib_s.toFixed(0)} MiB/s   ratio ${result.ratio.toFixed(2)}x (goal >= 0.8x)\n` +
        `  cp -r (no sync)  ${result.cp_mib_s.toFixed(0)} MiB/s   ratio ${result.ratio_cp_only.toFixed(2)}x\n` +
        `  CPU (user+sys)   daemon ${result.daemon_cpu_s.toFixed(2)} s, cp -r + sync ${result.cp_cpu_s?.toFixed(2) ?? 'n/a'} s` +
        ` (machine load average ${(await readFile('/proc/loadavg', 'utf8').catch(() => '? ')).split(' ')[0]})`,
    );
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string' }, dir: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' } } });
  await run({
    sizeMiB: values['size-mib'] ? Number(values['size-mib']) : undefined,
    dir: values.dir,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
  });
}
