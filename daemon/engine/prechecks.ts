/**
 * Pre-checks before a data backup (OCP's "Pre check" step), each a pure read with a message a person acts
 * on. The backup run records each as a step; "backup now" runs them before answering (409 on failure).
 *
 *   checkStorage(target)                         storage reachable, usage under its threshold
 *   checkArchive(driver, targets)                log archive DOING (`startable`: off, and the policy may start it)
 *   checkNoRunningBackup(driver)                 no data backup job running on the cluster
 *   checkFullBeforeIncremental(driver, targets)  a successful full at the current destination
 *   checkCompaction(driver, { canTrigger })      3.x: a major compaction newer than the archive start and the last backup
 *                                                (`startable` with canTrigger: a MAJOR FREEZE and its merge would fix it)
 */
import { compactionNeededReason, type BackupSet, type ObDriver } from '../oceanbase/index.js';
import { openStorage } from '../storage/index.js';
import type { StorageTarget } from './config.js';
import { messageOf } from './tasks.js';

/** OCP's texts, exactly. */
export const FULL_BACKUP_NEEDED = 'full data backup needed before incremental data backup.';
export const COMPACTION_NEEDED = 'Cluster compaction needed before full data backup';

export type PrecheckName = 'storage' | 'log_archive' | 'no_running_backup' | 'full_before_incremental' | 'compaction';

export interface PrecheckResult {
  name: PrecheckName;
  ok: boolean;
  message: string;
  /**
   * The run can fix it: log_archive not DOING (start it and wait); compaction missing with the policy's
   * compaction_before_full "trigger" (MAJOR FREEZE and wait for the merge)
   */
  startable?: boolean;
  /** compaction only: why one is needed */
  reason?: string;
}

const pass = (name: PrecheckName, message: string): PrecheckResult => ({ name, ok: true, message });
const fail = (name: PrecheckName, message: string, extra: Partial<PrecheckResult> = {}): PrecheckResult => ({ name, ok: false, message, ...extra });

export async function checkStorage(target: StorageTarget): Promise<PrecheckResult> {
  const storage = openStorage(target.config, { requestTimeoutMs: 30_000 });
  try {
    const usage = await storage.usage();
    const used = usage.used_percent;
    if (used !== null && used >= target.capacityThreshold) {
      return fail('storage', `storage "${target.name}" (${storage.label}) is ${used}% full, at or over its capacity alarm threshold of ${target.capacityThreshold}%`);
    }
    return pass('storage', `storage "${target.name}" reachable${used === null ? '' : `, ${used}% used (threshold ${target.capacityThreshold}%)`}`);
  } catch (err) {
    return fail('storage', `storage "${target.name}" is not reachable: ${messageOf(err)}`);
  } finally {
    await storage.close().catch(() => undefined);
  }
}

const STARTING = new Set(['PREPARE', 'BEGINNING']);
const OFF = new Set(['STOP', 'STOPPING', 'NULL', '']);

/** `targets`: [null] for a 3.x cluster, the tenants in scope on 4.x. */
export async function checkArchive(driver: ObDriver, targets: Array<string | null>): Promise<PrecheckResult> {
  const rows = await driver.getArchiveStatus();
  const states = targets.map((t) => ({ t, state: (rows.find((r) => r.tenant === t)?.state ?? 'STOP').toUpperCase() }));
  const notDoing = states.filter((s) => s.state !== 'DOING');
  if (notDoing.length === 0) return pass('log_archive', 'log archive is DOING');
  const described = notDoing.map((s) => `${s.t === null ? 'cluster' : `tenant ${s.t}`} ${s.state}`).join(', ');
  const blocked = notDoing.filter((s) => !OFF.has(s.state) && !STARTING.has(s.state) && s.state !== 'SUSPEND' && s.state !== 'SUSPENDING');
  if (blocked.length > 0) {
    const interrupted = blocked.some((s) => s.state === 'INTERRUPTED');
    return fail(
      'log_archive',
      `log archive is not DOING (${described})${interrupted ? '; an interrupted archive needs an operator: fix the cause, then NOARCHIVELOG and ARCHIVELOG' : ''}`,
    );
  }
  return fail('log_archive', `log archive is not DOING (${described})`, { startable: true });
}

export async function checkNoRunningBackup(driver: ObDriver): Promise<PrecheckResult> {
  const running = await driver.runningJobs();
  if (running.length === 0) return pass('no_running_backup', 'no data backup is running on the cluster');
  const jobs = running.map((j) => `${j.tenant === null ? '' : `tenant ${j.tenant} `}job ${j.jobId} (${j.type}, ${j.status})`).join(', ');
  return fail('no_running_backup', `a data backup is already running on the cluster: ${jobs}`);
}

const UNUSABLE_FILES = new Set(['DELETED', 'DELETING', 'EXPIRED', 'BROKEN', 'INCOMPLETE']);

function usableFull(set: BackupSet): boolean {
  return set.type === 'full' && set.status === 'success' && set.copyId === 0 && !UNUSABLE_FILES.has((set.fileStatus ?? '').toUpperCase());
}

/** An incremental needs a successful full at the destination the database uses now (per tenant on 4.x). */
export async function checkFullBeforeIncremental(driver: ObDriver, targets: Array<string | null>): Promise<PrecheckResult> {
  const [sets, dests] = await Promise.all([driver.listBackupSets(), driver.getDestinations()]);
  const lacking: string[] = [];
  for (const t of targets) {
    const dest = dests.find((d) => d.tenant === t)?.dataDest ?? null;
    const fulls = sets.filter((s) => s.tenant === t && usableFull(s) && (dest === null || s.path === null || samePath(s.path, dest)));
    if (dest === null || fulls.length === 0) lacking.push(t === null ? 'cluster' : `tenant ${t}`);
  }
  if (lacking.length === 0) return pass('full_before_incremental', 'a successful full backup exists at the current destination');
  return fail('full_before_incremental', FULL_BACKUP_NEEDED, { reason: `no successful full backup at the current destination for ${lacking.join(', ')}` });
}

function samePath(a: string, b: string): boolean {
  const strip = (u: string) => u.split('?')[0]!.replace(/\/+$/, '');
  return strip(a) === strip(b);
}

/**
 * 3.x only: the full backup takes the last major freeze, which must be newer than the archive start and the
 * last backup. `canTrigger`: a missing or running compaction is `startable` (a merge error is not: an
 * operator must clear it).
 */
export async function checkCompaction(driver: ObDriver, opts: { canTrigger?: boolean } = {}): Promise<PrecheckResult> {
  const [compaction] = await driver.getCompaction();
  const archive = (await driver.getArchiveStatus()).find((r) => r.tenant === null);
  const sets = (await driver.listBackupSets()).filter((s) => s.copyId === 0 && s.status === 'success');
  const lastBackupStartedAt = sets.reduce<Date | null>((latest, s) => (s.startedAt && (!latest || s.startedAt > latest) ? s.startedAt : latest), null);
  const reason = compaction
    ? compactionNeededReason({ compaction, archiveStartedAt: archive?.startedAt ?? null, lastBackupStartedAt })
    : 'the compaction state cannot be read';
  if (reason === null) return pass('compaction', 'a major compaction newer than the log archive start and the last backup exists');
  const fixable = opts.canTrigger === true && compaction !== undefined && !compaction.error;
  return fail('compaction', COMPACTION_NEEDED, fixable ? { reason, startable: true } : { reason });
}
