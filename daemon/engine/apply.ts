/**
 * Applying a policy to its cluster: destinations, log archive, the database-side retention, and (3.x)
 * the secondary destination with log piece switching. Every step reads first and writes only what
 * differs, so applying the same policy twice sends no write the second time.
 *
 *   applyPolicy(ctx: ApplyContext, policy: LoadedPolicy): Promise<ApplyOutcome>
 *       // ctx.claim(soFar) is awaited before each write a deletion would have to undo (archive on,
 *       // retention set), so an apply stopped half-way (ctx.signal) leaves a record of what it did;
 *       // ctx.checkpoint() between steps stops it (AbortError) once its policy changed in the store
 *   removePolicy(ctx: ApplyContext, applied: AppliedConfig): Promise<string[]>   // 3.x: secondary retention reset too
 *   mergeApplied(a, b): AppliedConfig | null                      // what two records claim together
 *   destinationsFor(policy, major, tenants): PolicyDestinations   // where each tenant's backups go
 *   waitArchiveDoing(ctx, tenants: Array<string|null>, timeoutMs): Promise<ArchiveWait>
 *   logicalNotAvailable(name): string                              // the 409 message
 *
 * Order (reference §1, §2, §8 and the OceanBase docs on changing destinations):
 *   4.x, per tenant in scope: archive dest differs while archiving → NOARCHIVELOG, wait STOP, set
 *     LOG_ARCHIVE_DEST (LOCATION, BINDING, PIECE_SWITCH_INTERVAL, always all three), ARCHIVELOG;
 *     data dest differs → cancel a running backup job, wait, set DATA_BACKUP_DEST (the next
 *     incremental then needs a new full: the pre-check sees no full at the new path);
 *     delete policy 'default' RECOVERY_WINDOW = cleanup.retention_days (dropped when cleanup is off);
 *     ARCHIVELOG when off, LOG_ARCHIVE_DEST_STATE=ENABLE when deferred.
 *   3.x, cluster-wide: backup_dest differs → cancel a running backup, NOARCHIVELOG and wait STOP, set
 *     backup_dest; backup_dest_option in one statement (recovery_window, piece switch interval — on
 *     while secondary backup is on); backup_backup_dest when secondary is on; backup_backup_dest_option
 *     (recovery_window = secondary.retention_days, auto_delete_obsolete_backup=true while secondary is on,
 *     reset to 0/false when it is off); ARCHIVELOG.
 * On 3.x the recovery window is set with auto_delete_obsolete_backup=false: the daemon's cleanup deletes
 * the expired sets at cleanup.time. The secondary copies have no such time: the database expires them by
 * itself. On 4.x the database's delete policy cleans by itself (hourly).
 */
import type { Policy } from '../../model/index.js';
import { ObError, redactUri, sameDestination, type ArchiveStatus, type ObDriver } from '../oceanbase/index.js';
import { destinationUri } from '../storage/index.js';
import type { LoadedPolicy, StorageTarget } from './config.js';

export interface ApplyContext {
  driver: ObDriver;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** a line per change, for the log and the policy's apply state */
  note?(message: string): void;
  /** how long to wait for the log archive to reach DOING (default 30 min); 0 = do not wait */
  archiveWaitMs?: number;
  /** looked at on each poll of that wait: true ends it (a backup's pre-check takes the wait over) */
  archiveWaitOver?(): boolean;
  /** how long to wait for a cancelled backup or a stopping archive (default 10 min) */
  stopWaitMs?: number;
  pollMs?: number;
  /** aborts the apply before its next write (AbortError); sleeps should honour it too */
  signal?: AbortSignal;
  /** awaited between steps: throws (AbortError) when the apply must stop (its policy deleted or replaced in the store) */
  checkpoint?(): Promise<void>;
  /** told what the apply has claimed so far, before each write a deletion must undo */
  claim?(soFar: AppliedConfig): Promise<void>;
}

export interface TenantDestinations {
  /** null: the whole cluster (3.x) */
  tenant: string | null;
  data: string;
  archive: string;
}

export interface PolicyDestinations {
  major: 3 | 4;
  targets: TenantDestinations[];
  /** 3.x backup_backup_dest */
  secondary: string | null;
}

/** What an apply configured, kept to undo it when the policy is deleted (URIs without credentials). */
export interface AppliedConfig {
  policy: string;
  cluster: string;
  major: 3 | 4;
  tenants: Array<string | null>;
  archive: boolean;
  retention: boolean;
  /** 3.x backup_backup_dest_option carries the secondary retention (absent in records of older versions) */
  secondaryRetention?: boolean;
  destinations: Array<{ tenant: string | null; data: string; archive: string }>;
}

export interface ApplyOutcome {
  changes: string[];
  applied: AppliedConfig;
  archive: ArchiveWait;
}

export interface ArchiveWait {
  doing: boolean;
  /** tenant (or "cluster") → state, when not DOING */
  states: Record<string, string>;
}

export class ApplyError extends Error {}

export function logicalNotAvailable(policy: string): string {
  return `policy "${policy}" uses mode "logical": logical backup is not available yet in obbackup; only physical backup can be applied and run. Use mode "physical".`;
}

const DAY = 86_400;

/** Each tenant's own directories (4.x needs an empty one per tenant and per kind); 3.x one per cluster. */
export function destinationsFor(policy: LoadedPolicy, major: 3 | 4, tenants: string[]): PolicyDestinations {
  const base = policy.cluster.name;
  const uri = (storage: StorageTarget, sub: string) => destinationUri(storage.config, sub);
  if (major === 3) {
    const dest = uri(policy.storage, base);
    return {
      major,
      targets: [{ tenant: null, data: dest, archive: dest }],
      secondary: policy.spec.secondary.enabled && policy.secondary ? uri(policy.secondary, base) : null,
    };
  }
  return {
    major,
    targets: tenants.map((t) => ({ tenant: t, data: uri(policy.storage, `${base}/${t}/data`), archive: uri(policy.storage, `${base}/${t}/archive`) })),
    secondary: null,
  };
}

function pieceInterval(spec: Policy, major: 3 | 4): string {
  // 3.x: pieces only for secondary backup (OCP turns "log splitting" on with it); 4.x always has pieces.
  if (major === 3) return spec.secondary.enabled ? spec.log_archive.piece_switch_interval : '0';
  return spec.log_archive.piece_switch_interval;
}

const label = (tenant: string | null) => (tenant === null ? 'cluster' : `tenant ${tenant}`);

export async function applyPolicy(ctx: ApplyContext, policy: LoadedPolicy): Promise<ApplyOutcome> {
  if (policy.spec.mode !== 'physical') throw new ApplyError(logicalNotAvailable(policy.name));
  const d = ctx.driver;
  const major = d.major;
  const tenants = major === 3 ? [] : (await d.scope()).map((t) => t.name);
  if (major === 4 && tenants.length === 0) {
    throw new ApplyError(`${d.where}: the cluster has no user tenant to back up`);
  }
  const dests = destinationsFor(policy, major, tenants);
  const changes: string[] = [];
  const note = (m: string) => {
    changes.push(m);
    ctx.note?.(m);
  };
  const spec = policy.spec;
  const interval = pieceInterval(spec, major);
  const retentionSeconds = spec.cleanup.enabled ? spec.cleanup.retention_days * DAY : null;
  const secondaryDays = major === 3 && dests.secondary ? (spec.secondary.retention_days ?? null) : null;
  const checkpoint = async () => {
    ctx.signal?.throwIfAborted();
    await ctx.checkpoint?.();
  };
  const claimed: AppliedConfig = { policy: policy.name, cluster: policy.cluster.name, major, tenants: [], archive: false, retention: false, destinations: [] };
  // Recorded before the write: an apply stopped right after sending it is still undone.
  const claim = async (target: TenantDestinations, what: 'archive' | 'retention' | 'secondaryRetention') => {
    await checkpoint();
    const known = claimed.tenants.includes(target.tenant);
    if (known && claimed[what]) return;
    if (!known) {
      claimed.tenants.push(target.tenant);
      claimed.destinations.push({ tenant: target.tenant, data: redactUri(target.data), archive: redactUri(target.archive) });
    }
    claimed[what] = true;
    await ctx.claim?.(structuredClone(claimed));
  };

  if (major === 4) {
    for (const target of dests.targets) {
      await checkpoint();
      const t = target.tenant!;
      const current = await d.getDestination(t);
      const want = { location: target.archive, binding: 'OPTIONAL' as const, pieceSwitchInterval: interval };
      const wantSeconds = Number(interval.replace(/d$/, '')) * DAY;
      const archiveDiffers =
        !sameDestination(current.archive.location, target.archive) ||
        (current.archive.binding ?? 'OPTIONAL') !== 'OPTIONAL' ||
        current.archive.pieceSwitchSeconds !== wantSeconds;
      if (archiveDiffers) {
        const tenantInfo = (await d.listTenants()).find((x) => x.name === t);
        if ((tenantInfo?.logMode ?? '').toUpperCase() === 'ARCHIVELOG') {
          await checkpoint();
          if (await d.stopArchive(t)) note(`${label(t)}: log archive stopped to change its destination`);
          await waitArchiveStopped(ctx, t);
        }
        await checkpoint();
        if (await d.setArchiveDestination(want, t)) note(`${label(t)}: log archive destination set to ${redactUri(target.archive)}`);
      }
      if (!sameDestination(current.dataDest, target.data)) {
        await checkpoint();
        await cancelRunning(ctx, [t], note);
        await checkpoint();
        if (await d.setDataDestination(target.data, t)) note(`${label(t)}: data backup destination set to ${redactUri(target.data)}`);
      }
      if (retentionSeconds !== null) await claim(target, 'retention');
      await checkpoint();
      if (await d.setRetention(retentionSeconds, t)) {
        note(retentionSeconds === null ? `${label(t)}: delete backup policy dropped` : `${label(t)}: delete backup policy set to ${spec.cleanup.retention_days}d`);
      }
      const state = (await d.getDestination(t)).archive.state;
      if (state && state.toUpperCase() === 'DEFER') {
        await checkpoint();
        if (await d.setArchiveDestState('ENABLE', t)) note(`${label(t)}: log archive destination enabled again`);
      }
      await claim(target, 'archive');
      if (await d.startArchive(t)) note(`${label(t)}: log archive started (ARCHIVELOG)`);
    }
  } else {
    const target = dests.targets[0]!;
    const current = await d.getDestination(null);
    if (!sameDestination(current.dataDest, target.data)) {
      if (current.dataDest) {
        await checkpoint();
        await cancelRunning(ctx, [null], note);
        await checkpoint();
        if (await d.stopArchive(null)) note('cluster: log archive stopped to change the backup destination');
        await waitArchiveStopped(ctx, null);
      }
      await checkpoint();
      if (await d.setDataDestination(target.data, null)) note(`cluster: backup_dest set to ${redactUri(target.data)}`);
    }
    const options: Record<string, string> = {
      log_archive_piece_switch_interval: interval,
      recovery_window: retentionSeconds === null ? '0' : `${spec.cleanup.retention_days}d`,
      auto_delete_obsolete_backup: 'false',
    };
    if (retentionSeconds !== null) await claim(target, 'retention');
    await checkpoint();
    if (await d.setDestOptions(options)) {
      note(`cluster: backup_dest_option set (recovery_window=${options.recovery_window}, log_archive_piece_switch_interval=${interval})`);
    }
    await checkpoint();
    if (dests.secondary && (await d.setSecondaryDestination(dests.secondary))) {
      note(`cluster: backup_backup_dest set to ${redactUri(dests.secondary)}`);
    }
    const secondaryOptions = secondaryRetentionOptions(secondaryDays);
    if (secondaryDays !== null) await claim(target, 'secondaryRetention');
    await checkpoint();
    if (await d.setSecondaryDestOptions(secondaryOptions)) {
      note(
        secondaryDays === null
          ? 'cluster: backup_backup_dest_option reset (no secondary retention)'
          : `cluster: backup_backup_dest_option set (recovery_window=${secondaryOptions.recovery_window}, auto_delete_obsolete_backup=true)`,
      );
    }
    await claim(target, 'archive');
    if (await d.startArchive(null)) note('cluster: log archive started (ARCHIVELOG)');
  }

  const archiveTargets = major === 3 ? [null] : tenants;
  const archive = ctx.archiveWaitMs === 0 ? await archiveState(ctx, archiveTargets) : await waitArchiveDoing(ctx, archiveTargets, ctx.archiveWaitMs ?? 30 * 60_000);
  return {
    changes,
    archive,
    applied: {
      policy: policy.name,
      cluster: policy.cluster.name,
      major,
      tenants: major === 3 ? [null] : tenants,
      archive: true,
      retention: retentionSeconds !== null,
      secondaryRetention: secondaryDays !== null,
      destinations: dests.targets.map((t) => ({ tenant: t.tenant, data: redactUri(t.data), archive: redactUri(t.archive) })),
    },
  };
}

/** Both records together (same policy and cluster): every tenant either claims, each flag if either has it. */
export function mergeApplied(a: AppliedConfig | null | undefined, b: AppliedConfig | null | undefined): AppliedConfig | null {
  if (!a || !b) return a ?? b ?? null;
  const destinations = [...b.destinations, ...a.destinations.filter((x) => !b.destinations.some((y) => y.tenant === x.tenant))];
  return {
    ...b,
    tenants: [...new Set([...a.tenants, ...b.tenants])],
    archive: a.archive || b.archive,
    retention: a.retention || b.retention,
    secondaryRetention: (a.secondaryRetention ?? false) || (b.secondaryRetention ?? false),
    destinations,
  };
}

/** Undoes what applying started: running backups cancelled, log archive off, retention dropped. */
export async function removePolicy(ctx: ApplyContext, applied: AppliedConfig, opts: { cancelBackups: boolean }): Promise<string[]> {
  const d = ctx.driver;
  const changes: string[] = [];
  const note = (m: string) => {
    changes.push(m);
    ctx.note?.(m);
  };
  const major = d.major;
  const known = major === 4 ? new Set((await d.listTenants()).map((t) => t.name)) : null;
  const tenants = applied.tenants.filter((t) => t === null || known === null || known.has(t));
  if (opts.cancelBackups) {
    const running = await d.runningJobs();
    const mine = running.filter((j) => major === 3 || tenants.includes(j.tenant));
    if (mine.length > 0) {
      if (await d.cancelBackup(major === 3 ? undefined : [...new Set(mine.map((j) => j.tenant!))])) note('running data backup cancelled');
    }
  }
  for (const t of tenants) {
    if (applied.archive && (await d.stopArchive(major === 3 ? null : t))) note(`${label(t)}: log archive stopped (NOARCHIVELOG)`);
    if (applied.retention) {
      if (major === 4) {
        if (await d.setRetention(null, t)) note(`${label(t)}: delete backup policy dropped`);
      } else if (await d.setDestOptions({ recovery_window: '0', auto_delete_obsolete_backup: 'false', log_archive_piece_switch_interval: '0' })) {
        note('cluster: recovery window and log piece switching turned off');
      }
    }
    if (major === 3 && applied.secondaryRetention && (await d.setSecondaryDestOptions(secondaryRetentionOptions(null)))) {
      note('cluster: secondary recovery window turned off (backup_backup_dest_option reset)');
    }
  }
  return changes;
}

/** 3.x backup_backup_dest_option for a secondary retention of `days` (null: none, the defaults). */
function secondaryRetentionOptions(days: number | null): Record<string, string> {
  return days === null ? { recovery_window: '0', auto_delete_obsolete_backup: 'false' } : { recovery_window: `${days}d`, auto_delete_obsolete_backup: 'true' };
}

async function cancelRunning(ctx: ApplyContext, tenants: Array<string | null>, note: (m: string) => void): Promise<void> {
  const d = ctx.driver;
  const running = (await d.runningJobs()).filter((j) => tenants.includes(null) || tenants.includes(j.tenant));
  if (running.length === 0) return;
  const list = d.major === 3 ? undefined : [...new Set(running.map((j) => j.tenant!))];
  if (await d.cancelBackup(list)) note(`running data backup cancelled before changing the destination (job ${running.map((j) => j.jobId).join(', ')})`);
  const deadline = ctx.now().getTime() + (ctx.stopWaitMs ?? 10 * 60_000);
  for (;;) {
    const still = (await d.runningJobs()).filter((j) => running.some((r) => r.jobId === j.jobId && r.tenantId === j.tenantId));
    if (still.length === 0) return;
    if (ctx.now().getTime() >= deadline) throw new ApplyError(`${d.where}: the cancelled backup is still running; the destination was not changed`);
    await ctx.sleep(ctx.pollMs ?? 2_000);
  }
}

function stateKey(s: ArchiveStatus): string {
  return s.tenant ?? 'cluster';
}

async function archiveRows(ctx: ApplyContext, tenants: Array<string | null>): Promise<ArchiveStatus[]> {
  const rows = await ctx.driver.getArchiveStatus();
  return tenants.map((t) => rows.find((r) => r.tenant === t) ?? { tenant: t, state: 'STOP', doing: false } as ArchiveStatus);
}

async function archiveState(ctx: ApplyContext, tenants: Array<string | null>): Promise<ArchiveWait> {
  const rows = await archiveRows(ctx, tenants);
  const states = Object.fromEntries(rows.filter((r) => !r.doing).map((r) => [stateKey(r), r.state]));
  return { doing: rows.every((r) => r.doing), states };
}

async function waitArchiveStopped(ctx: ApplyContext, tenant: string | null): Promise<void> {
  const deadline = ctx.now().getTime() + (ctx.stopWaitMs ?? 10 * 60_000);
  for (;;) {
    const [row] = await archiveRows(ctx, [tenant]);
    if (!row || row.state === 'STOP' || row.state === 'NULL' || row.state === '') return;
    if (ctx.now().getTime() >= deadline) {
      throw new ApplyError(`${ctx.driver.where}: ${label(tenant)} log archive is still ${row.state}; the destination was not changed`);
    }
    await ctx.sleep(ctx.pollMs ?? 2_000);
  }
}

/** Polls until every target's archive is DOING, INTERRUPTED (an operator must act) or the time is up. */
export async function waitArchiveDoing(ctx: ApplyContext, tenants: Array<string | null>, timeoutMs: number): Promise<ArchiveWait> {
  const deadline = ctx.now().getTime() + timeoutMs;
  for (;;) {
    const result = await archiveState(ctx, tenants);
    if (result.doing) return result;
    if (ctx.archiveWaitOver?.()) return result;
    if (Object.values(result.states).some((s) => s === 'INTERRUPTED')) return result;
    if (ctx.now().getTime() >= deadline) return result;
    await ctx.sleep(ctx.pollMs ?? 2_000);
  }
}

export { ObError };
