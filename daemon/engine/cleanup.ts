// Cleanup of expired backups, on File and OSS storage alike, by SQL (OCP cannot clean OSS by itself):
// a pure plan (which sets have expired under the policy's retention_days; see retention.ts) and the
// executor that carries it out as a run of kind `cleanup`.
//
//   3.x: `ALTER SYSTEM DELETE BACKUPSET n` for each expired set, oldest first (the database refuses any
//        other order), one clean job at a time, each waited for.
//   4.x: the database has no statement to delete a set (reference §5: expired backups are cleaned only
//        by the delete policy). The run makes sure the 'default' delete policy carries the retention,
//        then waits for the database's hourly clean job to remove what the plan selected.
// Either way the run ends by reading the sets again: every selected set gone, the newest full still there.
import type { BackupSet } from '../oceanbase/index.js';
import { errorCodeOf, errorText, pollUntil, StepTracker, type NamedPolicy, type OpsContext } from './ops-context.js';
import type { Run } from './runs.js';
import { retentionCutoff, selectExpiredSets, type RetainedSet } from './retention.js';

const GONE = new Set(['DELETED', 'DELETING', 'EXPIRED']);

export interface CleanupOptions {
  /** how often a wait re-reads the cluster (default 30 s) */
  pollIntervalMs?: number;
  /** 3.x: how long one DELETE BACKUPSET job may take (default 30 min) */
  deleteTimeoutMs?: number;
  /** 4.x: how long to wait for the database's clean job, which runs hourly (default 2 h) */
  autoCleanTimeoutMs?: number;
}

type PlannedSet = BackupSet & RetainedSet;

export interface CleanupPlan {
  retentionDays: number;
  cutoff: Date;
  expired: BackupSet[];
  kept: BackupSet[];
  /** per tenant (`cluster` on 3.x), the full the kept backups start from */
  anchors: BackupSet[];
}

const groupOf = (s: BackupSet) => (s.tenant === null ? 'cluster' : s.tenant);

/**
 * Which primary backup sets have expired at `now`: sets already deleted and secondary copies (3.x
 * copy_id > 0) are left out of the decision; what remains follows the recovery-window rule.
 */
export function planCleanup(sets: readonly BackupSet[], now: Date, retentionDays: number): CleanupPlan {
  const live: PlannedSet[] = sets
    .filter((s) => s.copyId === 0 && !GONE.has(s.fileStatus ?? ''))
    .map((s) => ({ ...s, group: groupOf(s), succeeded: s.status === 'success', running: s.status === 'running', endedAt: s.endedAt }));
  const decision = selectExpiredSets(live, now, retentionDays);
  return {
    retentionDays,
    cutoff: retentionCutoff(now, retentionDays),
    expired: decision.expired,
    kept: decision.kept,
    anchors: [...decision.anchors.values()],
  };
}

const describeSet = (s: BackupSet) => ({
  tenant: s.tenant,
  backup_set_id: s.id,
  type: s.type,
  status: s.status,
  ended_at: s.endedAt?.toISOString() ?? null,
  size_bytes: s.sizeBytes,
});

const setKey = (s: BackupSet) => `${s.tenantId}/${s.id}`;

/** Carries out a cleanup run (already stored as pending) for `policy`; never throws, the run records the outcome. */
export async function executeCleanup(ctx: OpsContext, run: Run, policy: NamedPolicy, options: CleanupOptions = {}): Promise<void> {
  const poll = options.pollIntervalMs ?? 30_000;
  const { runs, clock } = ctx;
  if (!(await runs.transition(run.id, ['pending'], { state: 'running', started_at: clock.now() }))) return;
  const days = policy.cleanup.retention_days;
  const steps = new StepTracker(runs, run.id);
  const details: Record<string, unknown> = { retention_days: days };
  try {
    await steps.begin('select', `reading backup sets (retention ${days} days)`);
    const driver = await ctx.driver(policy.cluster);
    await runs.update(run.id, { ob_version: driver.identity.version });
    const before = await driver.listBackupSets();
    const plan = planCleanup(before, clock.now(), days);
    Object.assign(details, {
      cutoff: plan.cutoff.toISOString(),
      expired: plan.expired.map(describeSet),
      anchors: plan.anchors.map(describeSet),
      kept_count: plan.kept.length,
    });
    await runs.update(run.id, { details });
    const summary = plan.expired.length === 0
      ? `nothing has expired: no successful full backup ended before ${plan.cutoff.toISOString()} that newer backups could start from`
      : `${plan.expired.length} backup set${plan.expired.length === 1 ? '' : 's'} expired (ended before the full ${plan.anchors.map((a) => `${a.tenant ? `${a.tenant}:` : ''}${a.id}`).join(', ')}, which is kept)`;
    await steps.end('succeeded', summary);

    await steps.begin('delete');
    if (driver.major === 3) {
      for (const set of [...plan.expired].sort((a, b) => a.id - b.id)) {
        await steps.note(`DELETE BACKUPSET ${set.id}`);
        await driver.deleteBackupSet(set.id);
        const done = await pollUntil(clock, poll, options.deleteTimeoutMs ?? 30 * 60_000, async () => {
          const jobs = await driver.listCleanJobs(5);
          return jobs.some((j) => j.state === 'running') ? undefined : true;
        });
        if (!done) throw new Error(`OceanBase did not finish deleting backup set ${set.id} in time`);
      }
    } else {
      const tenants = [...new Set(plan.expired.map((s) => s.tenant).filter((t): t is string => t !== null))];
      // the delete policy is per tenant; every tenant of the scope gets it, not only those with something expired now
      const scope = new Set([...tenants, ...(await driver.targets()).filter((t): t is string => t !== null)]);
      const changed: string[] = [];
      for (const tenant of scope) if (await driver.setRetention(days * 86_400, tenant)) changed.push(tenant);
      if (changed.length > 0) await steps.note(`delete policy set to ${days}d for ${changed.join(', ')}`);
      if (plan.expired.length > 0) {
        await steps.note(`waiting for OceanBase's clean job to delete ${plan.expired.length} expired set(s)`);
        const wanted = new Set(plan.expired.map(setKey));
        const done = await pollUntil(clock, poll, options.autoCleanTimeoutMs ?? 2 * 3_600_000, async () => {
          const now = await driver.listBackupSets();
          const remaining = now.filter((s) => wanted.has(setKey(s)) && s.copyId === 0 && s.fileStatus !== 'DELETED');
          if (remaining.length === 0) return true;
          const failed = (await driver.listCleanJobs(5)).find((j) => j.state === 'failed' && j.endedAt && j.endedAt.getTime() >= new Date(run.scheduled_at).getTime());
          if (failed) throw new Error(`OceanBase's clean job ${failed.jobId} failed: ${failed.errorText ?? `error ${failed.errorCode}`}`);
          return undefined;
        });
        if (!done) throw new Error('OceanBase has not deleted the expired backup sets within the wait (is its delete policy in place?)');
      }
    }
    await steps.end(plan.expired.length === 0 ? 'skipped' : 'succeeded', plan.expired.length === 0 ? 'nothing to delete' : `deleted ${plan.expired.length} set(s)`);

    await steps.begin('verify');
    const after = await driver.listBackupSets();
    const byKey = new Map(after.filter((s) => s.copyId === 0).map((s) => [setKey(s), s]));
    const left = plan.expired.filter((s) => {
      const now = byKey.get(setKey(s));
      return now !== undefined && now.fileStatus !== 'DELETED';
    });
    if (left.length > 0) throw new Error(`backup set(s) ${left.map((s) => s.id).join(', ')} are still there after the cleanup`);
    const lostAnchor = plan.anchors.find((a) => byKey.get(setKey(a))?.fileStatus !== 'AVAILABLE');
    if (lostAnchor) throw new Error(`the full backup set ${lostAnchor.id} that later backups need is no longer available`);
    const freed = plan.expired.reduce((sum, s) => sum + (s.sizeBytes ?? 0), 0);
    details.deleted_bytes = freed;
    await steps.end('succeeded', `${plan.expired.length} expired set(s) gone, ${plan.kept.length} kept`);
    await runs.update(run.id, { state: 'succeeded', finished_at: clock.now(), progress: 100, output_bytes: freed, details });
  } catch (err) {
    const message = errorText(err);
    await steps.fail(message);
    await runs.update(run.id, { state: 'failed', finished_at: clock.now(), error: message, error_code: errorCodeOf(err), details });
    ctx.log.warn({ run: run.id, policy: policy.name }, `cleanup run ${run.id} failed: ${message}`);
  }
}
