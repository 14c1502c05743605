// OceanBase 4.x: tenant-level backup driven from the sys tenant with `TENANT = t` (reference §1–§5).
import type { SqlSession } from './connection.js';
import {
  backupTypeOf,
  cleanPath,
  cleanText,
  errorCodeOf,
  ids,
  jobStateOf,
  lagSeconds,
  nameOf,
  notSupported,
  positive,
  progressOf,
  dbNow,
  type Dialect,
} from './dialect.js';
import { ObError } from './errors.js';
import { sameDestination } from './redact.js';
import { RowReader, rows, scnToDate, type Row } from './rows.js';
import { durationLiteral, formatDuration, parseDurationSeconds, sqlInt, sqlString, tenantIdent, tenantList, destinationUri } from './sql.js';
import type {
  ArchiveDestConfig,
  ArchivePiece,
  ArchiveStatus,
  BackupJob,
  BackupSet,
  BackupType,
  Binding,
  CleanJob,
  CompactionStatus,
  DestinationState,
  JobMarks,
  JobRef,
  RetentionState,
  TenantInfo,
} from './types.js';

const JOB_COLUMNS =
  'tenant_id, job_id, incarnation, backup_set_id, backup_type, job_level, start_timestamp, end_timestamp, status, result, comment, path';
const TASK_COLUMNS =
  'tenant_id, job_id, backup_set_id, status, macro_block_count, finish_macro_block_count, tablet_count, finish_tablet_count, input_bytes, output_bytes';
const DEFAULT_PIECE_SWITCH = '1d';
const DEFAULT_BINDING: Binding = 'OPTIONAL';
const SYS_TENANT_ID = 1;

// ---- pure row parsing (exported for unit tests) ----

export function parseTenants4x(list: Row[]): TenantInfo[] {
  return rows(list)
    .filter((r) => (r.str('tenant_type') ?? 'USER').toUpperCase() === 'USER')
    .map((r) => ({
      id: r.int('tenant_id') ?? 0,
      name: r.str('tenant_name') ?? '',
      type: (r.str('tenant_type') ?? 'USER').toUpperCase(),
      status: r.str('status'),
      role: r.str('tenant_role'),
      logMode: r.str('log_mode'),
      compatibilityMode: r.str('compatibility_mode'),
    }));
}

export function parseDestinations4x(scope: TenantInfo[], archiveRows: Row[], paramRows: Row[]): DestinationState[] {
  const archive = rows(archiveRows);
  const params = rows(paramRows);
  return scope.map((t) => {
    const mine = archive.filter((r) => r.int('tenant_id') === t.id);
    // only dest_no 0 is documented; prefer it, else the lowest
    const destNos = [...new Set(mine.map((r) => r.int('dest_no') ?? 0))].sort((a, b) => a - b);
    const destNo = destNos.includes(0) ? 0 : destNos[0];
    const value = (name: string) => {
      const r = mine.find((x) => (x.int('dest_no') ?? 0) === destNo && (x.str('name') ?? '').toLowerCase() === name);
      const v = r?.str('value') ?? null;
      return v === null || v.trim() === '' ? null : v.trim();
    };
    const binding = value('binding')?.toUpperCase() ?? null;
    const piece = value('piece_switch_interval');
    const data = params.find((r) => r.int('tenant_id') === t.id && (r.str('name') ?? '').toLowerCase() === 'data_backup_dest');
    const dataDest = data?.str('value')?.trim() || null;
    return {
      tenant: t.name,
      tenantId: t.id,
      dataDest,
      archive: {
        location: value('path'),
        binding: binding === 'MANDATORY' || binding === 'OPTIONAL' ? binding : null,
        pieceSwitchSeconds: parseDurationSeconds(piece),
        state: value('state')?.toUpperCase() ?? null,
      },
      options: {},
      secondaryDest: null,
    };
  });
}

export function parseArchiveStatus4x(scope: TenantInfo[], list: Row[], now: Date): ArchiveStatus[] {
  const all = rows(list);
  return scope.map((t) => {
    const mine = all.filter((r) => r.int('tenant_id') === t.id).sort((a, b) => (a.int('dest_no') ?? 0) - (b.int('dest_no') ?? 0));
    const r = mine[0];
    if (!r) {
      return {
        tenant: t.name,
        tenantId: t.id,
        state: 'STOP',
        doing: false,
        roundId: null,
        pieceId: null,
        startedAt: null,
        checkpointAt: null,
        lagSeconds: null,
        inputBytes: null,
        outputBytes: null,
        comment: null,
        observedAt: now,
      };
    }
    const state = (r.str('status') ?? 'STOP').toUpperCase();
    const checkpointAt = scnToDate(r.first('checkpoint_scn'));
    return {
      tenant: t.name,
      tenantId: t.id,
      state,
      doing: state === 'DOING',
      roundId: r.int('round_id'),
      pieceId: r.int('used_piece_id', 'base_piece_id'),
      startedAt: scnToDate(r.first('start_scn')),
      checkpointAt,
      lagSeconds: lagSeconds(now, checkpointAt),
      inputBytes: r.num('input_bytes'),
      outputBytes: r.num('output_bytes'),
      comment: cleanText(r.str('comment')),
      observedAt: now,
    };
  });
}

function jobFromRow(r: RowReader, scope: TenantInfo[] | null, finished: boolean): BackupJob {
  const tenantId = r.int('tenant_id') ?? 0;
  const result = r.int('result');
  const backupSetId = r.int('backup_set_id');
  return {
    tenant: scope ? nameOf(scope, tenantId) : null,
    tenantId,
    jobId: r.int('job_id') ?? 0,
    type: backupTypeOf(r.str('backup_type')),
    state: jobStateOf(r.str('status'), result, finished),
    status: (r.str('status') ?? '').toUpperCase(),
    backupSetId: backupSetId && backupSetId > 0 ? backupSetId : null,
    progress: null,
    startedAt: r.date('start_timestamp'),
    endedAt: r.date('end_timestamp'),
    inputBytes: null,
    outputBytes: null,
    errorCode: errorCodeOf(result),
    errorText: errorCodeOf(result) === null ? null : cleanText(r.str('comment')),
    path: cleanPath(r.str('path')),
  };
}

/**
 * Jobs from CDB_OB_BACKUP_JOBS (running) and _JOB_HISTORY (finished), with progress and sizes from the
 * tasks (one task = one backup set). The tenant-1 parent row of a sys-initiated job is left out.
 */
export function parseJobs4x(scope: TenantInfo[] | null, running: Row[], history: Row[], tasks: Row[]): BackupJob[] {
  const byKey = new Map<string, BackupJob>();
  for (const r of rows(running)) {
    const j = jobFromRow(r, scope, false);
    if (j.tenantId !== SYS_TENANT_ID) byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  for (const r of rows(history)) {
    const j = jobFromRow(r, scope, true);
    if (j.tenantId !== SYS_TENANT_ID) byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  const taskRows = rows(tasks);
  for (const j of byKey.values()) {
    const t = taskRows.filter((r) => r.int('tenant_id') === j.tenantId && r.int('job_id') === j.jobId);
    if (t.length === 0) continue;
    const sum = (col: string) => t.reduce<number | null>((acc, r) => (r.num(col) === null ? acc : (acc ?? 0) + r.num(col)!), null);
    j.progress = progressOf(sum('finish_macro_block_count'), sum('macro_block_count')) ?? progressOf(sum('finish_tablet_count'), sum('tablet_count'));
    j.inputBytes = sum('input_bytes');
    j.outputBytes = sum('output_bytes');
    if (j.backupSetId === null) j.backupSetId = t[0].int('backup_set_id');
  }
  return [...byKey.values()].sort((a, b) => a.tenantId - b.tenantId || a.jobId - b.jobId);
}

export function parseBackupSets4x(scope: TenantInfo[], list: Row[]): BackupSet[] {
  return rows(list).map((r) => {
    const tenantId = r.int('tenant_id') ?? 0;
    const status = (r.str('status') ?? '').toUpperCase();
    return {
      tenant: nameOf(scope, tenantId),
      tenantId,
      id: r.int('backup_set_id') ?? 0,
      type: backupTypeOf(r.str('backup_type')),
      status: status === 'SUCCESS' || status === 'COMPLETED' ? 'success' : status === 'FAILED' ? 'failed' : 'running',
      fileStatus: r.str('file_status')?.toUpperCase() ?? null,
      startedAt: r.date('start_timestamp'),
      endedAt: r.date('end_timestamp'),
      sizeBytes: r.num('output_bytes'),
      path: cleanPath(r.str('path')),
      copyId: 0,
      prevFullId: positive(r.int('prev_full_backup_set_id')),
      prevIncId: positive(r.int('prev_inc_backup_set_id')),
      minRestoreAt: scnToDate(r.first('min_restore_scn')),
    };
  });
}


export function parseCompaction4x(scope: TenantInfo[], list: Row[]): CompactionStatus[] {
  return rows(list)
    .filter((r) => scope.some((t) => t.id === r.int('tenant_id')))
    .map((r) => {
      const tenantId = r.int('tenant_id') ?? 0;
      const status = r.str('status')?.toUpperCase() ?? null;
      const frozen = r.str('frozen_scn');
      const last = r.str('last_scn');
      const error = (r.str('is_error') ?? 'NO').toUpperCase() === 'YES';
      return {
        tenant: nameOf(scope, tenantId),
        tenantId,
        frozenVersion: frozen,
        frozenAt: r.date('frozen_time') ?? scnToDate(frozen),
        lastMergedVersion: last,
        lastFinishedAt: r.date('last_finish_time'),
        idle: status === 'IDLE' && frozen !== null && frozen === last && !error,
        error,
        status,
      };
    });
}

export function parseRetention4x(scope: TenantInfo[], list: Row[]): RetentionState[] {
  const all = rows(list);
  return scope.map((t) => {
    const r = all.find((x) => x.int('tenant_id') === t.id && (x.str('policy_name') ?? '').toLowerCase() === 'default');
    const seconds = r ? parseDurationSeconds(r.str('recovery_window')) : null;
    return {
      tenant: t.name,
      tenantId: t.id,
      // a policy without a window never expires anything (reference §5)
      recoveryWindowSeconds: seconds === 0 ? null : seconds,
      autoDelete: r !== undefined,
    };
  });
}

export function parseCleanJobs4x(scope: TenantInfo[], running: Row[], history: Row[]): CleanJob[] {
  const one = (r: RowReader, finished: boolean): CleanJob => {
    const tenantId = r.int('tenant_id') ?? 0;
    const result = r.int('result');
    return {
      tenant: nameOf(scope, tenantId),
      tenantId,
      jobId: r.int('job_id') ?? 0,
      type: r.str('type'),
      state: jobStateOf(r.str('status'), result, finished),
      status: (r.str('status') ?? '').toUpperCase(),
      startedAt: r.date('start_timestamp'),
      endedAt: r.date('end_timestamp'),
      parameter: r.str('parameter'),
      errorCode: errorCodeOf(result),
      errorText: errorCodeOf(result) === null ? null : cleanText(r.str('comment')),
    };
  };
  const byKey = new Map<string, CleanJob>();
  for (const r of rows(running)) {
    const j = one(r, false);
    byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  for (const r of rows(history)) {
    const j = one(r, true);
    byKey.set(`${j.tenantId}/${j.jobId}`, j);
  }
  return [...byKey.values()].filter((j) => j.tenantId !== SYS_TENANT_ID).sort((a, b) => a.tenantId - b.tenantId || a.jobId - b.jobId);
}

export function parsePieces4x(scope: TenantInfo[], list: Row[]): ArchivePiece[] {
  return rows(list).map((r) => {
    const tenantId = r.int('tenant_id') ?? 0;
    return {
      tenant: nameOf(scope, tenantId),
      tenantId,
      roundId: r.int('round_id') ?? 0,
      pieceId: r.int('piece_id') ?? 0,
      copyId: 0,
      status: r.str('status')?.toUpperCase() ?? null,
      fileStatus: r.str('file_status')?.toUpperCase() ?? null,
      startAt: scnToDate(r.first('start_scn')),
      checkpointAt: scnToDate(r.first('checkpoint_scn')),
      endAt: scnToDate(r.first('end_scn')),
      sizeBytes: r.num('output_bytes'),
      path: cleanPath(r.str('path')),
    };
  });
}

/** `LOCATION=… BINDING=… PIECE_SWITCH_INTERVAL=…`: always all three (the attributes are not incremental). */
export function archiveDestValue(location: string, binding: Binding, pieceSwitchInterval: string): string {
  return `LOCATION=${destinationUri(location, 'log archive destination')} BINDING=${binding} PIECE_SWITCH_INTERVAL=${durationLiteral(pieceSwitchInterval, 'piece switch interval')}`;
}


export class Dialect4x implements Dialect {
  readonly major = 4 as const;

  async tenants(s: SqlSession): Promise<TenantInfo[]> {
    return parseTenants4x(
      await s.select(
        "SELECT tenant_id, tenant_name, tenant_type, status, tenant_role, log_mode, compatibility_mode FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER' ORDER BY tenant_id",
      ),
    );
  }

  async destinations(s: SqlSession, scope: TenantInfo[]): Promise<DestinationState[]> {
    if (scope.length === 0) return [];
    const archive = await s.select(`SELECT tenant_id, dest_no, name, value FROM oceanbase.CDB_OB_ARCHIVE_DEST WHERE tenant_id IN (${ids(scope)})`);
    const params = await s.select(`SELECT tenant_id, name, value FROM oceanbase.CDB_OB_BACKUP_PARAMETER WHERE tenant_id IN (${ids(scope)})`);
    return parseDestinations4x(scope, archive, params);
  }

  async archiveStatus(s: SqlSession, scope: TenantInfo[]): Promise<ArchiveStatus[]> {
    if (scope.length === 0) return [];
    const list = await s.select(
      `SELECT tenant_id, dest_no, round_id, status, start_scn, checkpoint_scn, base_piece_id, used_piece_id, input_bytes, output_bytes, comment FROM oceanbase.CDB_OB_ARCHIVELOG WHERE tenant_id IN (${ids(scope)})`,
    );
    return parseArchiveStatus4x(scope, list, await dbNow(s));
  }

  async jobMarks(s: SqlSession, scope: TenantInfo[]): Promise<JobMarks> {
    const marks: JobMarks = {};
    for (const t of scope) marks[String(t.id)] = 0;
    if (scope.length === 0) return marks;
    for (const view of ['CDB_OB_BACKUP_JOBS', 'CDB_OB_BACKUP_JOB_HISTORY']) {
      const list = await s.select(
        `SELECT tenant_id, MAX(job_id) AS job_id FROM oceanbase.${view} WHERE tenant_id IN (${ids(scope)}) GROUP BY tenant_id`,
      );
      for (const r of rows(list)) {
        const key = String(r.int('tenant_id'));
        marks[key] = Math.max(marks[key] ?? 0, r.int('job_id') ?? 0);
      }
    }
    return marks;
  }

  async jobsAfter(s: SqlSession, scope: TenantInfo[], marks: JobMarks): Promise<BackupJob[]> {
    if (scope.length === 0) return [];
    const floor = Math.min(...scope.map((t) => marks[String(t.id)] ?? 0));
    const running = await s.select(`SELECT ${JOB_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE tenant_id IN (${ids(scope)})`);
    const history = await s.select(
      `SELECT ${JOB_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id IN (${ids(scope)}) AND job_id > ${sqlInt(floor)}`,
    );
    const tasks = await s.select(`SELECT ${TASK_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_TASKS WHERE tenant_id IN (${ids(scope)})`);
    const jobs = parseJobs4x(scope, running, history, tasks).filter((j) => j.jobId > (marks[String(j.tenantId)] ?? 0));
    return this.withSetSizes(s, jobs);
  }

  async job(s: SqlSession, ref: JobRef): Promise<BackupJob | null> {
    const where = `tenant_id = ${sqlInt(ref.tenantId)} AND job_id = ${sqlInt(ref.jobId)}`;
    const running = await s.select(`SELECT ${JOB_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE ${where}`);
    const history = running.length ? [] : await s.select(`SELECT ${JOB_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE ${where}`);
    const tasks = running.length ? await s.select(`SELECT ${TASK_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_TASKS WHERE ${where}`) : [];
    const job = parseJobs4x(null, running, history, tasks)[0];
    if (!job) return null;
    job.tenant = ref.tenant;
    return (await this.withSetSizes(s, [job]))[0];
  }

  /** finished jobs: sizes (and full progress) from their backup set */
  private async withSetSizes(s: SqlSession, jobs: BackupJob[]): Promise<BackupJob[]> {
    for (const j of jobs) {
      if (j.state === 'running' || j.backupSetId === null) continue;
      const set = await s.select(
        `SELECT input_bytes, output_bytes FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = ${sqlInt(j.tenantId)} AND backup_set_id = ${sqlInt(j.backupSetId)}`,
      );
      if (set[0]) {
        const r = new RowReader(set[0]);
        j.inputBytes = r.num('input_bytes') ?? j.inputBytes;
        j.outputBytes = r.num('output_bytes') ?? j.outputBytes;
      }
      if (j.state === 'succeeded') j.progress = 1;
    }
    return jobs;
  }

  async runningJobs(s: SqlSession, scope: TenantInfo[]): Promise<BackupJob[]> {
    if (scope.length === 0) return [];
    const running = await s.select(`SELECT ${JOB_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE tenant_id IN (${ids(scope)})`);
    if (running.length === 0) return [];
    const tasks = await s.select(`SELECT ${TASK_COLUMNS} FROM oceanbase.CDB_OB_BACKUP_TASKS WHERE tenant_id IN (${ids(scope)})`);
    return parseJobs4x(scope, running, [], tasks).filter((j) => j.state === 'running');
  }

  async backupSets(s: SqlSession, scope: TenantInfo[]): Promise<BackupSet[]> {
    if (scope.length === 0) return [];
    return parseBackupSets4x(
      scope,
      await s.select(
        `SELECT tenant_id, backup_set_id, incarnation, backup_type, prev_full_backup_set_id, prev_inc_backup_set_id, start_timestamp, end_timestamp, status, file_status, min_restore_scn, input_bytes, output_bytes, path FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id IN (${ids(scope)}) ORDER BY tenant_id, backup_set_id`,
      ),
    );
  }

  async compaction(s: SqlSession, scope: TenantInfo[]): Promise<CompactionStatus[]> {
    if (scope.length === 0) return [];
    return parseCompaction4x(
      scope,
      await s.select(
        `SELECT tenant_id, frozen_scn, frozen_time, global_broadcast_scn, last_scn, last_finish_time, start_time, status, is_error, is_suspended, info FROM oceanbase.CDB_OB_MAJOR_COMPACTION WHERE tenant_id IN (${ids(scope)})`,
      ),
    );
  }

  async retention(s: SqlSession, scope: TenantInfo[]): Promise<RetentionState[]> {
    if (scope.length === 0) return [];
    return parseRetention4x(
      scope,
      await s.select(`SELECT tenant_id, policy_name, recovery_window FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY WHERE tenant_id IN (${ids(scope)})`),
    );
  }

  async cleanJobs(s: SqlSession, scope: TenantInfo[], limit: number): Promise<CleanJob[]> {
    if (scope.length === 0) return [];
    const cols = 'tenant_id, job_id, type, status, start_timestamp, end_timestamp, parameter, result, comment';
    // two queries, not UNION ALL: 4.2.1 rejects the union over these views (ob-operator PR #103)
    const running = await s.select(`SELECT ${cols} FROM oceanbase.CDB_OB_BACKUP_DELETE_JOBS WHERE tenant_id IN (${ids(scope)})`);
    const history = await s.select(
      `SELECT ${cols} FROM oceanbase.CDB_OB_BACKUP_DELETE_JOB_HISTORY WHERE tenant_id IN (${ids(scope)}) ORDER BY job_id DESC LIMIT ${sqlInt(limit)}`,
    );
    return parseCleanJobs4x(scope, running, history);
  }

  async secondaryJobs(): Promise<never> {
    throw notSupported(4, 'Backup of backups (BACKUP BACKUPSET / BACKUPPIECE)');
  }

  async archivePieces(s: SqlSession, scope: TenantInfo[]): Promise<ArchivePiece[]> {
    if (scope.length === 0) return [];
    return parsePieces4x(
      scope,
      await s.select(
        `SELECT tenant_id, dest_id, round_id, piece_id, dest_no, status, start_scn, checkpoint_scn, end_scn, input_bytes, output_bytes, file_status, path FROM oceanbase.CDB_OB_ARCHIVELOG_PIECE_FILES WHERE tenant_id IN (${ids(scope)}) ORDER BY tenant_id, round_id, piece_id`,
      ),
    );
  }

  async upgrading(s: SqlSession): Promise<boolean> {
    const list = await s.select("SELECT value FROM oceanbase.GV$OB_PARAMETERS WHERE name = 'enable_upgrade_mode'");
    return rows(list).some((r) => r.bool('value') === true);
  }

  setDataDest(uri: string, tenant: string | null): string[] {
    return [`ALTER SYSTEM SET DATA_BACKUP_DEST = ${sqlString(destinationUri(uri, 'data backup destination'))} TENANT = ${tenantIdent(requireTenant(tenant))}`];
  }

  setArchiveDest(cfg: ArchiveDestConfig, tenant: string | null, current: DestinationState, force: boolean): string[] {
    const t = requireTenant(tenant);
    const binding: Binding = cfg.binding ?? current.archive.binding ?? DEFAULT_BINDING;
    const interval =
      cfg.pieceSwitchInterval ??
      (current.archive.pieceSwitchSeconds ? formatDuration(current.archive.pieceSwitchSeconds) : DEFAULT_PIECE_SWITCH);
    const wantSeconds = parseDurationSeconds(interval);
    const unchanged =
      sameDestination(current.archive.location, cfg.location) &&
      (current.archive.binding ?? DEFAULT_BINDING) === binding &&
      current.archive.pieceSwitchSeconds === wantSeconds;
    if (unchanged && !force) return [];
    return [`ALTER SYSTEM SET LOG_ARCHIVE_DEST = ${sqlString(archiveDestValue(cfg.location, binding, interval))} TENANT = ${tenantIdent(t)}`];
  }

  setArchiveDestState(state: 'ENABLE' | 'DEFER', tenant: string): string[] {
    return [`ALTER SYSTEM SET LOG_ARCHIVE_DEST_STATE = ${sqlString(state)} TENANT = ${tenantIdent(tenant)}`];
  }

  setDestOptions(): string[] {
    throw notSupported(4, 'backup_dest_option');
  }

  setSecondaryDestOptions(): string[] {
    throw notSupported(4, 'backup_backup_dest_option');
  }

  startArchive(tenants: string[] | null): string {
    return `ALTER SYSTEM ARCHIVELOG ${tenantList(requireTenants(tenants))}`;
  }

  stopArchive(tenants: string[] | null): string {
    return `ALTER SYSTEM NOARCHIVELOG ${tenantList(requireTenants(tenants))}`;
  }

  encryption(password: string): string {
    return `SET ENCRYPTION ON IDENTIFIED BY ${sqlString(password)} ONLY`;
  }

  startBackup(type: BackupType, tenants: string[] | null, description?: string): string {
    const inc = type === 'incremental' ? 'INCREMENTAL ' : '';
    if (tenants === null) return `ALTER SYSTEM BACKUP ${inc}DATABASE`;
    const desc = description ? ` DESCRIPTION ${sqlString(description)}` : '';
    return `ALTER SYSTEM BACKUP ${inc}${tenantList(tenants)}${desc}`;
  }

  cancelBackup(tenants: string[] | null): string {
    return `ALTER SYSTEM CANCEL BACKUP ${tenantList(requireTenants(tenants))}`;
  }

  majorFreeze(tenants: string[] | null): string {
    return tenants === null ? 'ALTER SYSTEM MAJOR FREEZE TENANT = all_user' : `ALTER SYSTEM MAJOR FREEZE ${tenantList(tenants)}`;
  }

  setRetention(windowSeconds: number | null, tenant: string | null, current: RetentionState): string[] {
    const t = tenantIdent(requireTenant(tenant));
    const drop = `ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = ${t}`;
    if (windowSeconds === null) return current.autoDelete ? [drop] : [];
    if (current.autoDelete && current.recoveryWindowSeconds === windowSeconds) return [];
    const add = `ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW ${sqlString(formatDuration(windowSeconds))} TENANT = ${t}`;
    // one policy per tenant, named default: a changed window is DROP then ADD (as ob-operator does)
    return current.autoDelete ? [drop, add] : [add];
  }

  deleteObsoleteBackup(): string {
    throw notSupported(4, 'DELETE OBSOLETE BACKUP (4.x cleans up by its delete policy only)');
  }

  deleteBackupSet(): string {
    throw notSupported(4, 'DELETE BACKUPSET (4.x cleans up by its delete policy only)');
  }

  cancelDelete(tenant: string | null): string {
    return `ALTER SYSTEM CANCEL DELETE BACKUP TENANT = ${tenantIdent(requireTenant(tenant))}`;
  }

  setSecondaryDest(): string[] {
    throw notSupported(4, 'backup_backup_dest (backup of backups)');
  }

  startSecondary(): string {
    throw notSupported(4, 'Backup of backups (BACKUP BACKUPSET / BACKUPPIECE)');
  }

  cancelSecondary(): string {
    throw notSupported(4, 'Backup of backups (BACKUP BACKUPSET / BACKUPPIECE)');
  }
}

function requireTenant(tenant: string | null): string {
  if (tenant === null) throw new ObError('invalid_argument', 'OceanBase 4.x backs up per tenant: a tenant name is required');
  return tenant;
}

function requireTenants(tenants: string[] | null): string[] {
  if (tenants === null || tenants.length === 0) {
    throw new ObError('invalid_argument', 'OceanBase 4.x backs up per tenant: at least one tenant name is required');
  }
  return tenants;
}
