// Secondary backup (备份备份), recorded as runs of kind `secondary` on the policy's secondary schedule.
//
//   3.x: the database copies by itself. The run points backup_backup_dest at the secondary storage (the
//        same sub-path as backup_dest has in the primary storage), sends
//        `BACKUP BACKUPSET ALL NOT BACKED UP 1 TIMES` and `BACKUP BACKUPPIECE ALL NOT BACKED UP 1 TIMES`
//        and follows the two jobs to their end. The secondary retention is the database's: applying the
//        policy sets backup_backup_dest_option (recovery_window, auto_delete_obsolete_backup; apply.ts).
//   4.x: no such SQL exists (reference §6), so the daemon copies every completed backup set and every
//        frozen archive piece from the primary storage to the same relative place on the secondary,
//        streaming and resumable, each object verified by size and checksum (storage/copy.ts); then it
//        deletes the copies older than the secondary retention, with the rule of retention.ts.
import type { Readable } from 'node:stream';
import type { BackupSet, ObDriver, SecondaryJob, SecondaryKind } from '../oceanbase/index.js';
import { copyTree, destinationUri, openStorage, sameContent, splitOssPath, type CopyReport, type Storage, type StorageConfig } from '../storage/index.js';
import { toIso } from './clock.js';
import { errorCodeOf, errorText, pollUntil, StepTracker, type NamedPolicy, type OpsContext } from './ops-context.js';
import type { Run } from './runs.js';
import { selectExpiredPieces, selectExpiredSets, type RetainedPiece, type RetainedSet } from './retention.js';

export interface SecondaryOptions {
  /** 3.x: how often a job is re-read (default 30 s) */
  pollIntervalMs?: number;
  /** 3.x: how long the database's copy jobs may take (default 12 h) */
  jobTimeoutMs?: number;
  /** 4.x: objects copied at once (default 4) */
  concurrency?: number;
}

/**
 * Where `uri` (a destination as OceanBase shows it, credentials removed) lies inside `storage`, as a
 * key prefix without leading or trailing `/`; undefined when it is not inside it.
 */
export function relativeToStorage(storage: StorageConfig, uri: string): string | undefined {
  const bare = uri.split('?')[0]!.replace(/\/+$/, '');
  let inside: string;
  let root: string;
  if (storage.type === 'file') {
    if (!bare.startsWith('file://')) return undefined;
    inside = bare.slice('file://'.length);
    root = storage.path.replace(/\/+$/, '');
  } else {
    if (!bare.startsWith('oss://')) return undefined;
    inside = bare.slice('oss://'.length);
    const { bucket, prefix } = splitOssPath(storage.path);
    root = [bucket, prefix].filter(Boolean).join('/');
  }
  if (inside === root) return '';
  if (!inside.startsWith(`${root}/`)) return undefined;
  return inside.slice(root.length + 1).replace(/^\/+/, '');
}

const join = (...parts: string[]) => parts.filter((p) => p !== '').join('/');

/** OceanBase 4.x names a backup set directory `backup_set_<id>_<full|inc>` and its markers after it. */
export function setDirectory(set: Pick<BackupSet, 'id' | 'type'>): string {
  return `backup_set_${set.id}_${set.type === 'full' ? 'full' : 'inc'}`;
}

/** Carries out a secondary run (stored as pending); never throws, the run records the outcome. */
export async function executeSecondary(ctx: OpsContext, run: Run, policy: NamedPolicy, options: SecondaryOptions = {}): Promise<void> {
  const { runs, clock } = ctx;
  if (!(await runs.transition(run.id, ['pending'], { state: 'running', started_at: clock.now() }))) return;
  const details: Record<string, unknown> = { secondary_storage: policy.secondary.storage ?? null, retention_days: policy.secondary.retention_days ?? null };
  const steps = new StepTracker(runs, run.id);
  try {
    await steps.begin('prepare', `secondary storage "${policy.secondary.storage}"`);
    if (!policy.secondary.enabled || !policy.secondary.storage) throw new Error(`policy "${policy.name}" has no secondary backup enabled`);
    const driver = await ctx.driver(policy.cluster);
    await runs.update(run.id, { ob_version: driver.identity.version });
    const primary = await ctx.storage(policy.storage);
    const secondary = await ctx.storage(policy.secondary.storage);
    await steps.end('succeeded', `OceanBase ${driver.identity.version}: ${driver.major === 3 ? "the database's backup of backups" : 'copy by the daemon'}`);
    if (driver.major === 3) await secondary3x(ctx, steps, run, driver, primary.config, secondary.config, details, options);
    else await secondary4x(ctx, steps, run, policy, driver, primary.config, secondary.config, details, options);
    await runs.update(run.id, { state: 'succeeded', finished_at: clock.now(), progress: 100, details });
  } catch (err) {
    const message = errorText(err);
    await steps.fail(message);
    await runs.update(run.id, { state: 'failed', finished_at: clock.now(), error: message, error_code: errorCodeOf(err), details });
    ctx.log.warn({ run: run.id, policy: policy.name }, `secondary backup run ${run.id} failed: ${message}`);
  }
}

// ------------------------------------------------------------------------------------------------ 3.x

async function secondary3x(
  ctx: OpsContext,
  steps: StepTracker,
  run: Run,
  driver: ObDriver,
  primary: StorageConfig,
  secondary: StorageConfig,
  details: Record<string, unknown>,
  options: SecondaryOptions,
): Promise<void> {
  const { runs, clock } = ctx;
  await steps.begin('destination');
  const dest = await driver.getDestination(null);
  const sub = dest.dataDest ? relativeToStorage(primary, dest.dataDest) : undefined;
  if (sub === undefined) {
    throw new Error(`backup_dest of the cluster is not inside the primary storage (${dest.dataDest ?? 'not set'}); apply the policy first`);
  }
  const changed = await driver.setSecondaryDestination(destinationUri(secondary, sub));
  await steps.end('succeeded', changed ? 'backup_backup_dest set to the secondary storage' : 'backup_backup_dest already points at the secondary storage');

  const jobs: Record<string, unknown>[] = [];
  for (const kind of ['backupset', 'backuppiece'] as SecondaryKind[]) {
    await steps.begin(kind === 'backupset' ? 'copy backup sets' : 'copy archive pieces');
    const before = Math.max(0, ...(await driver.listSecondaryJobs(kind)).map((j) => j.jobId));
    const started = await driver.startSecondaryBackup(kind, { notBackedUpTimes: 1 });
    if (!started.started) {
      await steps.end('skipped', `nothing to copy: ${started.reason}`);
      jobs.push({ kind, skipped: started.reason });
      continue;
    }
    const ended = await pollUntil<SecondaryJob[]>(clock, options.pollIntervalMs ?? 30_000, options.jobTimeoutMs ?? 12 * 3_600_000, async () => {
      const mine = (await driver.listSecondaryJobs(kind)).filter((j) => j.jobId > before);
      return mine.length > 0 && mine.every((j) => j.state !== 'running') ? mine : undefined;
    });
    if (!ended) throw new Error(`the database's ${kind} copy job did not finish in time`);
    for (const j of ended) jobs.push({ kind, job_id: j.jobId, status: j.status, error_code: j.errorCode, error: j.errorText });
    await runs.update(run.id, { jobs: ended.map((j) => ({ job_id: j.jobId, status: j.status, error_code: j.errorCode, error: j.errorText })) });
    const failed = ended.find((j) => j.state !== 'succeeded');
    if (failed) {
      const err = new Error(`BACKUP ${kind.toUpperCase()} job ${failed.jobId} ${failed.state}: ${failed.errorText ?? `error ${failed.errorCode ?? ''}`.trim()}`);
      (err as Error & { code?: number }).code = failed.errorCode ?? undefined;
      throw err;
    }
    await steps.end('succeeded', `job ${ended.map((j) => j.jobId).join(', ')} finished`);
  }
  details.jobs = jobs;
}

// ------------------------------------------------------------------------------------------------ 4.x

interface CopyTarget {
  tenant: string;
  object: 'set' | 'piece';
  objectId: string;
  backupType: 'full' | 'incremental' | null;
  prevFullId: number | null;
  prevIncId: number | null;
  startedAt: Date | null;
  endedAt: Date | null;
  /** directory (ends in `/`) and marker prefixes, relative to the storage root */
  prefixes: string[];
}

async function listKeys(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys;
}

/** Copies one object unless the target already holds the same bytes; the size is checked after. */
async function copyObject(source: Storage, target: Storage, key: string): Promise<{ bytes: number; copied: boolean }> {
  const object = await source.stat(key);
  if (!object) return { bytes: 0, copied: false };
  const present = await target.stat(key);
  if (present && (await sameContent(source, object, target, present))) return { bytes: object.size, copied: false };
  const receipt = await target.write(key, (await source.read(key)) as Readable, object.size);
  if (receipt.size !== object.size) throw new Error(`copy of ${key} wrote ${receipt.size} bytes, expected ${object.size}`);
  return { bytes: object.size, copied: true };
}

async function secondary4x(
  ctx: OpsContext,
  steps: StepTracker,
  run: Run,
  policy: NamedPolicy,
  driver: ObDriver,
  primaryConfig: StorageConfig,
  secondaryConfig: StorageConfig,
  details: Record<string, unknown>,
  options: SecondaryOptions,
): Promise<void> {
  const { runs, clock, store } = ctx;
  const targetName = policy.secondary.storage!;
  await steps.begin('select');
  const [sets, pieces] = await Promise.all([driver.listBackupSets(), driver.listArchivePieces()]);
  const primary = openStorage(primaryConfig);
  const secondary = openStorage(secondaryConfig);
  try {
    const targets: CopyTarget[] = [];
    const roots = new Set<string>();
    const outside: string[] = [];
    for (const s of sets) {
      if (s.status !== 'success' || s.fileStatus !== 'AVAILABLE' || s.copyId !== 0 || !s.path) continue;
      const rel = relativeToStorage(primaryConfig, s.path);
      if (rel === undefined) {
        outside.push(`set ${s.id}`);
        continue;
      }
      roots.add(rel);
      const dir = setDirectory(s);
      targets.push({
        tenant: s.tenant ?? '',
        object: 'set',
        objectId: String(s.id),
        backupType: s.type,
        prevFullId: s.prevFullId,
        prevIncId: s.prevIncId,
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        prefixes: [`${join(rel, dir)}/`, join(rel, 'backup_sets', `${dir}_`)],
      });
    }
    const pieceDirs = new Map<string, string[]>();
    for (const p of pieces) {
      if (p.status !== 'FROZEN' || (p.fileStatus ?? 'AVAILABLE') !== 'AVAILABLE' || !p.path) continue;
      const rel = relativeToStorage(primaryConfig, p.path);
      if (rel === undefined) {
        outside.push(`piece ${p.roundId}/${p.pieceId}`);
        continue;
      }
      roots.add(rel);
      // the directory carries the destination id OceanBase chose: find it as it is on the storage
      if (!pieceDirs.has(rel)) pieceDirs.set(rel, await listKeys(primary, join(rel, 'piece_d')));
      const pattern = new RegExp(`^${escapeRegExp(rel ? `${rel}/` : '')}(piece_d\\d+r${p.roundId}p${p.pieceId})/`);
      const dir = pieceDirs.get(rel)!.map((k) => pattern.exec(k)?.[1]).find((d) => d !== undefined);
      if (!dir) continue;
      targets.push({
        tenant: p.tenant ?? '',
        object: 'piece',
        objectId: `${p.roundId}/${p.pieceId}`,
        backupType: null,
        prevFullId: null,
        prevIncId: null,
        startedAt: p.startAt,
        endedAt: p.checkpointAt ?? p.endAt,
        prefixes: [`${join(rel, dir)}/`, join(rel, 'pieces', `${dir}_`)],
      });
    }
    const done = await store.db
      .selectFrom('secondary_copies')
      .select(['tenant', 'object', 'object_id'])
      .where('policy', '=', policy.name)
      .where('target_storage', '=', targetName)
      .execute();
    const copiedKey = (t: { tenant: string; object: string; objectId?: string; object_id?: string }) => `${t.tenant}|${t.object}|${t.objectId ?? t.object_id}`;
    const known = new Set(done.map(copiedKey));
    const todo = targets.filter((t) => !known.has(copiedKey(t)));
    details.to_copy = todo.map((t) => ({ tenant: t.tenant || null, object: t.object, id: t.objectId }));
    if (outside.length > 0) details.not_in_primary_storage = outside;
    await steps.end('succeeded', `${todo.length} to copy (${todo.filter((t) => t.object === 'set').length} backup sets, ${todo.filter((t) => t.object === 'piece').length} archive pieces); ${targets.length - todo.length} already copied`);

    await steps.begin('copy');
    let bytes = 0;
    let copied = 0;
    let skipped = 0;
    const total = todo.length;
    for (const [i, t] of todo.entries()) {
      let size = 0;
      const [dir, marker] = t.prefixes as [string, string];
      const report: CopyReport = await copyTree(primary, secondary, { sourcePrefix: dir, concurrency: options.concurrency ?? 4 });
      size += report.total_bytes;
      copied += report.copied_objects;
      skipped += report.skipped_objects;
      for (const key of await listKeys(primary, marker)) {
        const r = await copyObject(primary, secondary, key);
        size += r.bytes;
        if (r.copied) copied += 1;
        else skipped += 1;
      }
      bytes += size;
      await store.db
        .insertInto('secondary_copies')
        .values({
          policy: policy.name,
          cluster: policy.cluster,
          target_storage: targetName,
          tenant: t.tenant,
          object: t.object,
          object_id: t.objectId,
          backup_type: t.backupType,
          prev_full_id: t.prevFullId,
          prev_inc_id: t.prevIncId,
          object_started_at: t.startedAt ? toIso(t.startedAt) : null,
          object_ended_at: t.endedAt ? toIso(t.endedAt) : null,
          prefixes: JSON.stringify(t.prefixes),
          bytes: size,
          run_id: run.id,
          copied_at: toIso(clock.now()),
          deleted_at: null,
          deleted_run_id: null,
        })
        .execute();
      await runs.update(run.id, { progress: Math.round(((i + 1) / total) * 1000) / 10, output_bytes: bytes });
      await steps.note(`${i + 1}/${total}: ${t.object} ${t.tenant ? `${t.tenant}:` : ''}${t.objectId} (${size} bytes)`);
    }
    // the destination's own files (format, round markers) so the copy is a destination OceanBase can restore from
    for (const rel of roots) {
      for (const key of await listKeys(primary, join(rel, ''))) {
        const inner = rel ? key.slice(rel.length + 1) : key;
        if (/^format\.ob(bak|arc)$|^format$|^rounds\//.test(inner)) {
          const r = await copyObject(primary, secondary, key);
          if (r.copied) copied += 1;
        }
      }
    }
    Object.assign(details, { copied_objects: copied, skipped_objects: skipped, copied_bytes: bytes });
    await runs.update(run.id, { output_bytes: bytes });
    await steps.end(total === 0 ? 'skipped' : 'succeeded', total === 0 ? 'everything was already on the secondary storage' : `${total} object(s), ${copied} file(s) copied and verified (size and checksum), ${skipped} already there`);

    await steps.begin('retention');
    await steps.end('succeeded', await applySecondaryRetention(ctx, run, policy, secondary, details));
  } finally {
    await Promise.all([primary.close(), secondary.close()]);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Deletes the copies on the secondary storage that are older than the secondary retention (4.x). */
async function applySecondaryRetention(ctx: OpsContext, run: Run, policy: NamedPolicy, secondary: Storage, details: Record<string, unknown>): Promise<string> {
  const days = policy.secondary.retention_days;
  if (days === undefined) return 'no secondary retention set: copies are kept';
  const rows = await ctx.store.db
    .selectFrom('secondary_copies')
    .selectAll()
    .where('policy', '=', policy.name)
    .where('target_storage', '=', policy.secondary.storage!)
    .where('deleted_at', 'is', null)
    .execute();
  const date = (v: string | null) => (v ? new Date(v) : null);
  const setRows = rows
    .filter((r) => r.object === 'set')
    .map((r) => ({
      row: r,
      group: r.tenant,
      id: Number(r.object_id),
      type: (r.backup_type === 'full' ? 'full' : 'incremental') as RetainedSet['type'],
      succeeded: true,
      endedAt: date(r.object_ended_at),
      startedAt: date(r.object_started_at),
      prevFullId: r.prev_full_id === null ? null : Number(r.prev_full_id),
      prevIncId: r.prev_inc_id === null ? null : Number(r.prev_inc_id),
    }));
  const decision = selectExpiredSets(setRows, ctx.clock.now(), days);
  const pieceRows = rows
    .filter((r) => r.object === 'piece')
    .map((r): RetainedPiece & { row: typeof r } => {
      const [roundId, pieceId] = r.object_id.split('/').map(Number) as [number, number];
      return { row: r, group: r.tenant, roundId, pieceId, active: false, startAt: date(r.object_started_at), endAt: date(r.object_ended_at) };
    });
  const expiredPieces = selectExpiredPieces(pieceRows, decision.anchors);
  const doomed = [...decision.expired.map((s) => s.row), ...expiredPieces.map((p) => p.row)];
  let bytes = 0;
  for (const row of doomed) {
    for (const prefix of JSON.parse(row.prefixes) as string[]) bytes += (await secondary.deletePrefix(prefix)).bytes;
    await ctx.store.db
      .updateTable('secondary_copies')
      .set({ deleted_at: toIso(ctx.clock.now()), deleted_run_id: run.id })
      .where('id', '=', row.id)
      .execute();
  }
  details.deleted = doomed.map((r) => ({ tenant: r.tenant || null, object: r.object, id: r.object_id }));
  details.deleted_bytes = bytes;
  return doomed.length === 0
    ? `nothing older than ${days} days to delete`
    : `deleted ${decision.expired.length} backup set copies and ${expiredPieces.length} piece copies older than ${days} days (${bytes} bytes)`;
}

