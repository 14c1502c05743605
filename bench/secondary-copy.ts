// 4.x secondary backup copy: the daemon's file→file copy of 1 GiB of backup-like files next to `cp -r` of
// the same files on the same disk, in the same run. Goal: at least 0.8x of cp's throughput.
//
//   npx tsx bench/secondary-copy.ts [--size-mib 1024] [--dir /path/on/the/disk]
//
// Both sides end durable: the daemon fsyncs each file before giving it its name, so `cp -r` is timed
// together with the `sync` that makes its copy durable too; `cp -r` alone is printed as well.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
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
  /** daemon copy throughput / (cp -r + sync) throughput */
  ratio: number;
  /** daemon copy throughput / cp -r throughput (page cache only, not durable) */
  ratio_cp_only: number;
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

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function run(options: { sizeMiB?: number; dir?: string; log?: (line: string) => void } = {}): Promise<SecondaryCopyResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const totalBytes = (options.sizeMiB ?? 1024) * MiB;
  const work = await mkdtemp(join(options.dir ?? tmpdir(), 'obbackup-bench-copy-'));
  try {
    const source = join(work, 'primary');
    await mkdir(source);
    const files = await makeBackupSet(source, totalBytes);
    await run$('sync');
    const bytes = totalBytes;

    // Alternate the two sides and keep each one's best round, so neither profits from going second.
    const rounds = 2;
    let daemonBest = Infinity;
    let cpBest = Infinity;
    let cpSyncBest = Infinity;
    for (let round = 0; round < rounds; round++) {
      const cpTarget = join(work, `cp-${round}`);
      let cpOnly = 0;
      const cpSync = await timed(async () => {
        cpOnly = await timed(() => run$('cp', ['-r', source, cpTarget]));
        await run$('sync');
      });
      cpBest = Math.min(cpBest, cpOnly);
      cpSyncBest = Math.min(cpSyncBest, cpSync);
      await rm(cpTarget, { recursive: true, force: true });
      await run$('sync');

      const target = join(work, `daemon-${round}`);
      await mkdir(target);
      const from = openStorage({ type: 'file', path: source });
      const to = openStorage({ type: 'file', path: target });
      let copied = 0;
      const seconds = await timed(async () => {
        const report = await copyTree(from, to, { concurrency: 4 });
        copied = report.copied_bytes;
      });
      if (copied !== bytes) throw new Error(`the daemon copied ${copied} bytes, expected ${bytes}`);
      daemonBest = Math.min(daemonBest, seconds);
      await rm(target, { recursive: true, force: true });
      await run$('sync');
      log(`round ${round + 1}: cp -r ${cpOnly.toFixed(2)} s, cp -r + sync ${cpSync.toFixed(2)} s, daemon copy ${seconds.toFixed(2)} s`);
    }

    const mib = bytes / MiB;
    const result: SecondaryCopyResult = {
      bytes,
      files,
      daemon_mib_s: mib / daemonBest,
      cp_mib_s: mib / cpBest,
      cp_sync_mib_s: mib / cpSyncBest,
      ratio: cpSyncBest / daemonBest,
      ratio_cp_only: cpBest / daemonBest,
    };
    log(
      `secondary copy, ${mib.toFixed(0)} MiB in ${files} files (file→file, verified, fsync per file):\n` +
        `  daemon copy      ${result.daemon_mib_s.toFixed(0)} MiB/s\n` +
        `  cp -r + sync     ${result.cp_sync_mib_s.toFixed(0)} MiB/s   ratio ${result.ratio.toFixed(2)}x (goal >= 0.8x)\n` +
        `  cp -r (no sync)  ${result.cp_mib_s.toFixed(0)} MiB/s   ratio ${result.ratio_cp_only.toFixed(2)}x`,
    );
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string' }, dir: { type: 'string' } } });
  await run({ sizeMiB: values['size-mib'] ? Number(values['size-mib']) : undefined, dir: values.dir });
}
