// OceanBase 3.x: cluster-level backup from the sys tenant; tenant 1 rows are the cluster record
// (reference §1–§6).
import type { SqlSession } from './connection.js';
import {
  DEST_OPTION_DEFAULTS,
  backupTypeOf,
  cleanPath,
  cleanText,
  errorCodeOf,
  formatOptionString,
  jobStateOf,
  lagSeconds,
  nameOf,
  notSupported,
  parseOptionString,
  positive,
  progressOf,
  dbNow,
  type Dialect,
  type SecondaryRequest,
} from './dialect.js';
import { asBool, RowReader, rows, type Row } from './rows.js';
import { sameDestination } from './redact.js';
import { destinationUri, durationLiteral, formatDuration, parseDurationSeconds, sqlInt, sqlString, tenantIdent } from './sql.js';
import type {
  ArchiveDestConfig,
  ArchivePiece,
  ArchiveStatus,
  BackupJob,
  BackupSet,
  BackupType,
  CleanJob,
  CompactionStatus,
  DestinationState,
  JobMarks,
  JobRef,
  RetentionState,
  SecondaryJob,
  SecondaryKind,
  TenantInfo,
} from './types.js';

const CLUSTER_TENANT_ID = 1;
const CLUSTER_KEY = String(CLUSTER_TENANT_ID);
const PROGRESS_COLUMNS =
  'tenant_id, bs_key, backup_type, partition_count, macro_block_count, finish_partition_count, finish_macro_block_count, input_bytes, output_bytes, start_time, completion_time, status';
const DEST_PARAMS = ['backup_dest', 'backup_dest_option', 'backup_backup_dest', 'backup_backup_dest_option'];

// ---- pure row parsing (exported for unit tests) ----

export function parseTenants3x(list: Row[]): TenantInfo[] {
  return rows(list)
    .filter((r) => r.int('tenant_id') !== CLUSTER_TENANT_ID)
    .map((r) => ({
      id: r.int('tenant_id') ?? 0,
      name: r.str('tenant_name') ?? '',
      type: 'USER',
      status: r.str('status'),
      role: null,
      logMode: null,
      compatibilityMode: r.str('compatibility_mode'),
    }));
}

/** `__all_virtual_sys_parameter_stat` rows (one per server) → the cluster's destination settings. */
export function parseDestinations3x(list: Row[]): DestinationState {
  const all = rows(list);
  const value = (name: string): string | null => {
    for (const r of all) {
      if ((r.str('name') ?? '').toLowerCase() !== name) continue;
      const v = (r.str('value') ?? '').trim();
      if (v !== '') return v;
    }
    return null;
  };
  const options = parseOptionString(value('backup_dest_option'));
  const dest = value('backup_dest');
  return {
    tenant: null,
    tenantId: CLUSTER_TENANT_ID,
    dataDest: dest,
    archive: {
      // one destination for data and log archive on 3.x
      location: dest,
      binding: null,
      pieceSwitchSeconds: parseDurationSeconds(options.log_archive_piece_switch_interval ?? DEST_OPTION_DEFAULTS.log_archive_piece_switch_interval),
      state: null,
    },
    options,
    secondaryDest: value('backup_backup_dest'),
    secondaryOptions: parseOptionString(value('backup_backup_dest_option')),
  };
}

/** CDB_OB_BACKUP_ARCHIVELOG: the cluster record (tenant 1) first, then the tenants of the scope. */
export function parseArchiveStatus3x(scope: TenantInfo[], list: Row[], now: Date): ArchiveStatus[] {
  const all = rows(list);
  const one = (tenantId: number, tenant: string | null): ArchiveStatus => {
    const r = all.find((x) => x.int('tenant_id') === tenantId);
    const state = (r?.str('status') ?? 'STOP').toUpperCase();
    const checkpointAt = r?.date('max_next_time') ?? null;
    return {
      tenant,
      tenantId,
      state,
      doing: state === 'DOING',
      roundId: r?.int('log_archive_round') ?? null,
      pieceId: r?.int('backup_piece_id') ?? null,
      startedAt: r?.date('min_first_time') ?? null,
      checkpointAt,
      lagSeconds: lagSeconds(now, checkpointAt),
      inputBytes: r?.num('input_bytes') ?? null,
      outputBytes: r?.num('output_bytes') ?? null,
      comment: null,
      observedAt: now,
    };
  };
  return [one(CLUSTER_TENANT_ID, null), ...scope.map((t) => one(t.id, t.name))];
}

/**
 * 3.x jobs are cluster backup sets: CDB_OB_BACKUP_PROGRESS while running (rows per tenant, the tenant-1
 * row names the set), CDB_OB_BACKUP_SET_FILES (copy 0, tenant 1) once finished.
 */
export function parseJobs3x(progress: Row[], sets: Row[]): BackupJob[] {
  const jobs = new Map<number, BackupJob>();
  const prog = rows(progress);
  for (const key of new Set(prog.map((r) => r.int('bs_key') ?? 0))) {
    const mine = prog.filter((r) => r.int('bs_key') === key);
    const head = mine.find((r) => r.int('tenant_id') === CLUSTER_TENANT_ID) ?? mine[0];
    const sum = (col: string) => mine.reduce<number | null>((acc, r) => (r.num(col) === null ? acc : (acc ?? 0) + r.num(col)!), null);
    // the progress view says RUNNING (docs) or DOING (ob-operator 1.x); both mean running
    const state = jobStateOf(head.str('status'), null, false);
    jobs.set(key, {
      tenant: null,
      tenantId: CLUSTER_TENANT_ID,
      jobId: key,
      type: backupTypeOf(head.str('backup_type')),
      state,
      status: (head.str('status') ?? '').toUpperCase(),
      backupSetId: key,
      progress: progressOf(sum('finish_macro_block_count'), sum('macro_block_count')) ?? progressOf(sum('finish_partition_count'), sum('partition_count')),
      startedAt: head.date('start_time'),
      endedAt: state === 'running' ? null : head.date('completion_time'),
      inputBytes: sum('input_bytes'),
      outputBytes: sum('output_bytes'),
      errorCode: null,
      errorText: null,
      path: null,
    });
  }
  for (const r of rows(sets)) {
    if ((r.int('copy_id') ?? 0) !== 0 || r.int('tenant_id') !== CLUSTER_TENANT_ID) continue;
    const key = r.int('bs_key', 'backup_set_id') ?? 0;
    const status = (r.str('status') ?? '').toUpperCase();
    const result = r.int('result');
    // the set row exists from the start (status DOING) and turns SUCCESS / FAILED at the end
    const state = jobStateOf(status, result, false);
    const live = jobs.get(key);
    if (state === 'running' && live) {
      live.path ??= cleanPath(r.str('backup_dest', 'path'));
      continue;
    }
    jobs.set(key, {
      tenant: null,
      tenantId: CLUSTER_TENANT_ID,
      jobId: key,
      type: backupTypeOf(r.str('backup_type')),
      state,
      status,
      backupSetId: key,
      progress: state === 'succeeded' ? 1 : (live?.progress ?? null),
      startedAt: r.date('start_time'),
      endedAt: state === 'running' ? null : r.date('completion_time', 'end_time'),
      inputBytes: r.num('input_bytes'),
      outputBytes: r.num('output_bytes'),
      errorCode: state === 'failed' ? errorCodeOf(result) : null,
      errorText: state === 'failed' ? cleanText(r.str('error_msg', 'comment')) : null,
      path: cleanPath(r.str('backup_dest', 'path')),
    });
  }
  return [...jobs.values()].sort((a, b) => a.jobId - b.jobId);
}

export function parseBackupSets3x(list: Row[]): BackupSet[] {
  return rows(list)
    .filter((r) => r.int('tenant_id') === CLUSTER_TENANT_ID)
    .map((r) => {
      const status = (r.str('status') ?? '').toUpperCase();
      return {
        tenant: null,
        tenantId: CLUSTER_TENANT_ID,
        id: r.int('bs_key', 'backup_set_id') ?? 0,
        type: backupTypeOf(r.str('backup_type')),
        status: status === 'SUCCESS' || status === 'COMPLETED' ? 'success' : status === 'FAILED' ? 'failed' : 'running',
        fileStatus: r.str('file_status')?.toUpperCase() ?? null,
        startedAt: r.date('start_time'),
        endedAt: r.date('completion_time', 'end_time'),
        sizeBytes: r.num('output_bytes'),
        path: cleanPath(r.str('backup_dest', 'path')),
        copyId: r.int('copy_id') ?? 0,
        prevFullId: positive(r.int('prev_full_backup_set_id')),
        prevIncId: positive(r.int('prev_inc_backup_set_id')),
        minRestoreAt: null,
      };
    });
}


/**
 * `__all_zone` rows → the cluster's compaction state. Zone '' holds frozen_version, frozen_time,
 * global_broadcast_version, last_merged_version, is_merge_error; each zone its merge_status (the word is
 * in `info` on some versions and in `value` on others — reference §12 #7), last_merged_version and time.
 */
export function parseCompaction3x(list: Row[]): CompactionStatus {
  const all = rows(list);
  const global = (name: string) => all.find((r) => (r.str('zone') ?? '') === '' && r.str('name') === name);
  const zones = all.filter((r) => (r.str('zone') ?? '') !== '');
  const zoneValues = (name: string) => zones.filter((r) => r.str('name') === name);
  const frozen = global('frozen_version')?.str('value') ?? null;
  const frozenTime = global('frozen_time');
  const lastMerged = global('last_merged_version')?.str('value') ?? null;
  const broadcast = global('global_broadcast_version')?.str('value') ?? null;
  const error = asBool(global('is_merge_error')?.str('value')) === true;
  const statuses = zoneValues('merge_status').map((r) => {
    const v = (r.str('value') ?? '').trim();
    return (/^\d*$/.test(v) ? (r.str('info') ?? '') : v).trim().toUpperCase();
  });
  const zoneMerged = zoneValues('last_merged_version').map((r) => r.str('value'));
  const zoneTimes = zoneValues('last_merged_time')
    .map((r) => r.date('value'))
    .filter((d): d is Date => d !== null);
  const merging = statuses.some((s) => s !== '' && s !== 'IDLE');
  const allMerged = frozen !== null && zoneMerged.every((v) => v === frozen) && (lastMerged === null || lastMerged === frozen);
  return {
    tenant: null,
    tenantId: CLUSTER_TENANT_ID,
    frozenVersion: frozen,
    frozenAt: frozenTime?.date('value') ?? null,
    lastMergedVersion: lastMerged,
    lastFinishedAt: zoneTimes.length ? new Date(Math.min(...zoneTimes.map((d) => d.getTime()))) : null,
    idle: !merging && !error && allMerged && (broadcast === null || broadcast === frozen),
    error,
    status: merging ? (statuses.find((s) => s !== 'IDLE') ?? 'MERGING') : error ? 'ERROR' : 'IDLE',
  };
}

export interface CompactionCheckInput {
  compaction: CompactionStatus;
  /** when the current log archive round started (CDB_OB_BACKUP_ARCHIVELOG MIN_FIRST_TIME) */
  archiveStartedAt: Date | null;
  /** when the newest successful backup set started, if any */
  lastBackupStartedAt: Date | null;
}

/**
 * The 3.x rule behind OCP's "Cluster compaction needed before full data backup": a backup takes the last
 * frozen (major) version, so a major compaction must have been frozen after the archive round started and
 * after the previous backup, and be merged everywhere. Returns the reason when one is needed, else null.
 */
export function compactionNeededReason(input: CompactionCheckInput): string | null {
  const { compaction: c, archiveStartedAt, lastBackupStartedAt } = input;
  if (c.frozenAt === null) return 'no major compaction has been recorded';
  if (!c.idle) return c.error ? 'the last major compaction reported an error' : 'a major compaction is still running';
  if (archiveStartedAt !== null && c.frozenAt.getTime() <= archiveStartedAt.getTime()) {
    return 'the last major compaction is older than the log archive start';
  }
  if (lastBackupStartedAt !== null && c.frozenAt.getTime() <= lastBackupStartedAt.getTime()) {
    return 'the last major compaction is older than the last backup';
  }
  return null;
}

export function parseRetention3x(destination: DestinationState): RetentionState {
  const opts = destination.options;
  const seconds = parseDurationSeconds(opts.recovery_window ?? DEST_OPTION_DEFAULTS.recovery_window);
  return {
    tenant: null,
    tenantId: CLUSTER_TENANT_ID,
    recoveryWindowSeconds: seconds === null || seconds === 0 ? null : seconds,
    autoDelete: asBool(opts.auto_delete_obsolete_backup ?? DEST_OPTION_DEFAULTS.auto_delete_obsolete_backup) === true,
  };
}

/** CDB_OB_BACKUP_CLEAN_HISTORY (BS_KEY = clean job id, empty ERROR_MSG = success) + the live clean info. */
export function parseCleanJobs3x(history: Row[], live: Row[]): CleanJob[] {
  const out: CleanJob[] = [];
  for (const r of rows(history)) {
    if (r.int('tenant_id') !== CLUSTER_TENANT_ID) continue;
    const err = cleanText(r.str('error_msg'));
    const status = (r.str('status') ?? 'STOP').toUpperCase();
    out.push({
      tenant: null,
      tenantId: CLUSTER_TENANT_ID,
      jobId: r.int('bs_key', 'job_id') ?? 0,
      type: r.str('type'),
      state: err ? 'failed' : status === 'STOP' || status === 'COMPLETED' || status === '' ? 'succeeded' : jobStateOf(status, null, true),
      status,
      startedAt: r.date('start_time'),
      endedAt: r.date('end_time'),
      parameter: r.str('parameter'),
      errorCode: errorCodeOf(r.int('result')),
      errorText: err,
    });
  }
  for (const r of rows(live)) {
    const status = (r.str('status') ?? 'STOP').toUpperCase();
    if (r.int('tenant_id') !== CLUSTER_TENANT_ID || status === 'STOP') continue;
    const jobId = r.int('job_id') ?? 0;
    if (out.some((j) => j.jobId === jobId)) continue;
    out.push({
      tenant: null,
      tenantId: CLUSTER_TENANT_ID,
      jobId,
      type: r.str('type'),
      state: 'running',
      status,
      startedAt: r.date('start_time'),
      endedAt: null,
      parameter: r.str('parameter'),
      errorCode: null,
      errorText: null,
    });
  }
  return out.sort((a, b) => a.jobId - b.jobId);
}

export function parseSecondaryJobs3x(kind: SecondaryKind, scope: TenantInfo[], running: Row[], history: Row[]): SecondaryJob[] {
  const byKey = new Map<string, SecondaryJob>();
  const one = (r: RowReader, finished: boolean): SecondaryJob => {
    const tenantId = r.int('tenant_id') ?? CLUSTER_TENANT_ID;
    const result = r.int('result');
    const state = jobStateOf(r.str('status'), result, finished);
    return {
      kind,
      tenant: tenantId === CLUSTER_TENANT_ID ? null : (r.str('tenant_name') ?? nameOf(scope, tenantId)),
      tenantId,
      jobId: r.int('job_id') ?? 0,
      objectId: kind === 'backupset' ? r.int('backup_set_id', 'bs_key') : r.int('backup_piece_id'),
      state,
      status: (r.str('status') ?? '').toUpperCase(),
      maxBackupTimes: r.int('max_backup_times'),
      errorCode: state === 'failed' ? errorCodeOf(result) : null,
      errorText: state === 'failed' ? cleanText(r.str('comment')) : null,
      dest: cleanPath(r.str('backup_dest', 'backup_backup_dest')),
    };
  };
  for (const r of rows(running)) {
    const j = one(r, false);
    byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  for (const r of rows(history)) {
    const j = one(r, true);
    byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  return [...byKey.values()].sort((a, b) => a.jobId - b.jobId || a.tenantId - b.tenantId);
}

export function parsePieces3x(scope: TenantInfo[], list: Row[]): ArchivePiece[] {
  return rows(list).map((r) => {
    const tenantId = r.int('tenant_id') ?? CLUSTER_TENANT_ID;
    return {
      tenant: tenantId === CLUSTER_TENANT_ID ? null : nameOf(scope, tenantId),
      tenantId,
      roundId: r.int('round_id', 'log_archive_round') ?? 0,
      pieceId: r.int('backup_piece_id', 'piece_id') ?? 0,
      copyId: r.int('copy_id') ?? 0,
      status: r.str('status')?.toUpperCase() ?? null,
      fileStatus: r.str('file_status')?.toUpperCase() ?? null,
      startAt: r.date('start_ts'),
      checkpointAt: r.date('checkpoint_ts'),
      endAt: r.date('max_ts'),
      sizeBytes: r.num('output_bytes'),
      path: cleanPath(r.str('backup_dest', 'path')),
    };
  });
}

/** Merges `changes` into the current option string, answering null when nothing would change. */
export function mergeDestOptions(current: Record<string, string>, changes: Record<string, string>): Record<string, string> | null {
  const next = { ...current, ...changes };
  const effective = (opts: Record<string, string>, key: string) => normalizeOption(key, opts[key] ?? DEST_OPTION_DEFAULTS[key] ?? '');
  const keys = new Set([...Object.keys(current), ...Object.keys(changes)]);
  for (const k of keys) {
    if (effective(current, k) !== effective(next, k)) return next;
  }
  return null;
}

function normalizeOption(key: string, value: string): string {
  if (key === 'auto_delete_obsolete_backup') return String(asBool(value) === true);
  const secs = parseDurationSeconds(value);
  return secs === null ? value.trim().toLowerCase() : `${secs}s`;
}


async function maxOf(s: SqlSession, sql: string): Promise<number> {
  const r = await s.select(sql);
  return r[0] ? (new RowReader(r[0]).int('v') ?? 0) : 0;
}

export class Dialect3x implements Dialect {
  readonly major = 3 as const;

  async tenants(s: SqlSession): Promise<TenantInfo[]> {
    return parseTenants3x(await s.select('SELECT tenant_id, tenant_name FROM oceanbase.__all_tenant ORDER BY tenant_id'));
  }

  async destinations(s: SqlSession): Promise<DestinationState[]> {
    const names = DEST_PARAMS.map((n) => sqlString(n)).join(', ');
    return [parseDestinations3x(await s.select(`SELECT name, value FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name IN (${names})`))];
  }

  async archiveStatus(s: SqlSession, scope: TenantInfo[]): Promise<ArchiveStatus[]> {
    const list = await s.select(
      'SELECT tenant_id, incarnation, log_archive_round, status, start_piece_id, backup_piece_id, min_first_time, max_next_time, input_bytes, output_bytes FROM oceanbase.CDB_OB_BACKUP_ARCHIVELOG',
    );
    return parseArchiveStatus3x(scope, list, await dbNow(s));
  }

  async jobMarks(s: SqlSession): Promise<JobMarks> {
    const running = await maxOf(s, `SELECT MAX(bs_key) AS v FROM oceanbase.CDB_OB_BACKUP_PROGRESS WHERE tenant_id = ${CLUSTER_TENANT_ID}`);
    const done = await maxOf(s, `SELECT MAX(bs_key) AS v FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${CLUSTER_TENANT_ID}`);
    return { [CLUSTER_KEY]: Math.max(running, done) };
  }

  async jobsAfter(s: SqlSession, _scope: TenantInfo[], marks: JobMarks): Promise<BackupJob[]> {
    const after = sqlInt(marks[CLUSTER_KEY] ?? 0);
    const progress = await s.select(`SELECT ${PROGRESS_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_PROGRESS WHERE bs_key > ${after}`);
    // SELECT *: the 3.x column list of this view is only partly documented (reference §3)
    const sets = await s.select(`SELECT * FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${CLUSTER_TENANT_ID} AND bs_key > ${after}`);
    return parseJobs3x(progress, sets);
  }

  async job(s: SqlSession, ref: JobRef): Promise<BackupJob | null> {
    const key = sqlInt(ref.jobId);
    const progress = await s.select(`SELECT ${PROGRESS_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_PROGRESS WHERE bs_key = ${key}`);
    const sets = await s.select(`SELECT * FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${CLUSTER_TENANT_ID} AND bs_key = ${key}`);
    return parseJobs3x(progress, sets)[0] ?? null;
  }

  async runningJobs(s: SqlSession): Promise<BackupJob[]> {
    const progress = await s.select(`SELECT ${PROGRESS_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_PROGRESS`);
    if (progress.length === 0) return [];
    const keys = [...new Set(rows(progress).map((r) => r.int('bs_key') ?? 0))];
    const sets = await s.select(
      `SELECT * FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${CLUSTER_TENANT_ID} AND bs_key IN (${keys.map(sqlInt).join(', ')})`,
    );
    return parseJobs3x(progress, sets).filter((j) => j.state === 'running');
  }

  async backupSets(s: SqlSession): Promise<BackupSet[]> {
    return parseBackupSets3x(await s.select(`SELECT * FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${CLUSTER_TENANT_ID} ORDER BY bs_key, copy_id`));
  }

  async compaction(s: SqlSession): Promise<CompactionStatus[]> {
    return [parseCompaction3x(await s.select('SELECT zone, name, value, info FROM oceanbase.__all_zone'))];
  }

  async retention(_s: SqlSession, _scope: TenantInfo[], destinations: DestinationState[]): Promise<RetentionState[]> {
    return destinations.map(parseRetention3x);
  }

  async cleanJobs(s: SqlSession, _scope: TenantInfo[], limit: number): Promise<CleanJob[]> {
    const history = await s.select(
      `SELECT tenant_id, bs_key, copy_id, start_time, end_time, incarnation, type, status, parameter, error_msg, comment FROM oceanbase.CDB_OB_BACKUP_CLEAN_HISTORY WHERE tenant_id = ${CLUSTER_TENANT_ID} ORDER BY start_time DESC LIMIT ${sqlInt(limit)}`,
    );
    const live = await s.select(`SELECT * FROM oceanbase.__all_virtual_backup_clean_info WHERE tenant_id = ${CLUSTER_TENANT_ID}`);
    return parseCleanJobs3x(history, live);
  }

  async secondaryJobs(s: SqlSession, kind: SecondaryKind, scope: TenantInfo[]): Promise<SecondaryJob[]> {
    const view = kind === 'backupset' ? 'CDB_OB_BACKUP_BACKUPSET_JOB' : 'CDB_OB_BACKUP_BACKUPPIECE_JOB';
    // SELECT *: these views' column lists are the least certain part of the reference (§12 #10)
    const running = await s.select(`SELECT * FROM oceanbase.${view}`);
    const history = await s.select(`SELECT * FROM oceanbase.${view}_HISTORY`);
    return parseSecondaryJobs3x(kind, scope, running, history);
  }

  async archivePieces(s: SqlSession, scope: TenantInfo[]): Promise<ArchivePiece[]> {
    return parsePieces3x(scope, await s.select('SELECT * FROM oceanbase.CDB_OB_BACKUP_PIECE_FILES ORDER BY tenant_id, round_id, backup_piece_id, copy_id'));
  }

  async upgrading(s: SqlSession): Promise<boolean> {
    const list = await s.select("SELECT value FROM oceanbase.__all_virtual_sys_parameter_stat WHERE name = 'enable_upgrade_mode'");
    return rows(list).some((r) => r.bool('value') === true);
  }

  setDataDest(uri: string): string[] {
    return [`ALTER SYSTEM SET backup_dest = ${sqlString(destinationUri(uri, 'backup destination'))}`];
  }

  /** 3.x has one destination for data and archive; the piece switch interval lives in backup_dest_option. */
  setArchiveDest(cfg: ArchiveDestConfig, _tenant: string | null, current: DestinationState, force: boolean): string[] {
    const out: string[] = [];
    if (force || !sameDestination(current.dataDest, cfg.location)) out.push(...this.setDataDest(cfg.location));
    if (cfg.pieceSwitchInterval !== undefined) {
      const interval = cfg.pieceSwitchInterval === '0' ? '0' : durationLiteral(cfg.pieceSwitchInterval, 'piece switch interval');
      const merged = mergeDestOptions(current.options, { log_archive_piece_switch_interval: interval });
      if (merged) out.push(...this.setDestOptions(merged));
    }
    return out;
  }

  setArchiveDestState(): string[] {
    throw notSupported(3, 'LOG_ARCHIVE_DEST_STATE');
  }

  setDestOptions(options: Record<string, string>): string[] {
    return [`ALTER SYSTEM SET backup_dest_option = ${sqlString(formatOptionString(options))}`];
  }

  startArchive(): string {
    return 'ALTER SYSTEM ARCHIVELOG';
  }

  stopArchive(): string {
    return 'ALTER SYSTEM NOARCHIVELOG';
  }

  encryption(password: string): string {
    return `SET ENCRYPTION ON IDENTIFIED BY ${sqlString(password)} ONLY`;
  }

  startBackup(type: BackupType): string {
    // 3.x backs up the whole cluster in one backup set
    return type === 'incremental' ? 'ALTER SYSTEM BACKUP INCREMENTAL DATABASE' : 'ALTER SYSTEM BACKUP DATABASE';
  }

  cancelBackup(): string {
    return 'ALTER SYSTEM CANCEL BACKUP';
  }

  majorFreeze(): string {
    return 'ALTER SYSTEM MAJOR FREEZE';
  }

  setRetention(windowSeconds: number | null, _tenant: string | null, _current: RetentionState, destination: DestinationState): string[] {
    const changes =
      windowSeconds === null
        ? { recovery_window: '0', auto_delete_obsolete_backup: 'false' }
        : { recovery_window: formatDuration(windowSeconds), auto_delete_obsolete_backup: 'true' };
    const merged = mergeDestOptions(destination.options, changes);
    return merged ? this.setDestOptions(merged) : [];
  }

  deleteObsoleteBackup(): string {
    return 'ALTER SYSTEM DELETE OBSOLETE BACKUP';
  }

  deleteBackupSet(id: number): string {
    return `ALTER SYSTEM DELETE BACKUPSET ${sqlInt(id)}`;
  }

  cancelDelete(): string {
    return 'ALTER SYSTEM CANCEL DELETE BACKUP';
  }

  /** `backup_backup_dest_option`: the same `k=v&k=v` form as backup_dest_option; setting it replaces the whole string */
  setSecondaryDestOptions(options: Record<string, string>): string[] {
    return [`ALTER SYSTEM SET backup_backup_dest_option = ${sqlString(formatOptionString(options))}`];
  }

  setSecondaryDest(uri: string): string[] {
    return [`ALTER SYSTEM SET backup_backup_dest = ${sqlString(destinationUri(uri, 'secondary backup destination'))}`];
  }

  startSecondary(kind: SecondaryKind, req: SecondaryRequest): string {
    const what = kind === 'backupset' ? 'BACKUPSET' : 'BACKUPPIECE';
    const target =
      req.objectId !== undefined ? `${what} = ${sqlInt(req.objectId)}` : `${what} ALL NOT BACKED UP ${sqlInt(req.notBackedUpTimes ?? 1)} TIMES`;
    const tenant = req.tenant ? ` TENANT_NAME = ${sqlString(tenantIdent(req.tenant))}` : '';
    const dest = req.dest ? ` BACKUP_BACKUP_DEST = ${sqlString(destinationUri(req.dest, 'secondary backup destination'))}` : '';
    return `ALTER SYSTEM BACKUP ${target}${tenant}${dest}`;
  }

  cancelSecondary(kind: SecondaryKind): string {
    return kind === 'backupset' ? 'ALTER SYSTEM CANCEL BACKUP BACKUPSET' : 'ALTER SYSTEM CANCEL BACKUP BACKUPPIECE';
  }
}
