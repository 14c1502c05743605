// The one interface both OceanBase dialects implement: reads get a session to run SELECTs on and return
// parsed records; writes only build the statement text. Everything version-specific lives behind it.
import type { SqlSession } from './connection.js';
import { ObError } from './errors.js';
import { redact, stripUriCredentials } from './redact.js';
import { RowReader } from './rows.js';
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
  JobState,
  ObMajor,
  RetentionState,
  SecondaryJob,
  SecondaryKind,
  TenantInfo,
} from './types.js';

export interface SecondaryRequest {
  /** copy everything not yet copied this many times (`… ALL NOT BACKED UP n TIMES`); default 1 */
  notBackedUpTimes?: number;
  /** copy this one backup set / piece instead */
  objectId?: number;
  /** a destination for this statement only; default: the backup_backup_dest parameter */
  dest?: string;
  /** restrict to one tenant */
  tenant?: string;
}

export interface Dialect {
  readonly major: ObMajor;

  // ---- reads ----
  tenants(s: SqlSession): Promise<TenantInfo[]>;
  /** 3.x: one cluster-level record; 4.x: one per tenant of `scope` */
  destinations(s: SqlSession, scope: TenantInfo[]): Promise<DestinationState[]>;
  /** 3.x: the cluster record first, then tenants of `scope`; 4.x: one per tenant of `scope` */
  archiveStatus(s: SqlSession, scope: TenantInfo[]): Promise<ArchiveStatus[]>;
  /** the newest job id per tenant id, taken before a start */
  jobMarks(s: SqlSession, scope: TenantInfo[]): Promise<JobMarks>;
  /** jobs created after `marks` (running or already finished) */
  jobsAfter(s: SqlSession, scope: TenantInfo[], marks: JobMarks): Promise<BackupJob[]>;
  job(s: SqlSession, ref: JobRef): Promise<BackupJob | null>;
  runningJobs(s: SqlSession, scope: TenantInfo[]): Promise<BackupJob[]>;
  backupSets(s: SqlSession, scope: TenantInfo[]): Promise<BackupSet[]>;
  compaction(s: SqlSession, scope: TenantInfo[]): Promise<CompactionStatus[]>;
  /** 3.x reads `options` of `destinations` (pass them in); 4.x reads the delete policies */
  retention(s: SqlSession, scope: TenantInfo[], destinations: DestinationState[]): Promise<RetentionState[]>;
  cleanJobs(s: SqlSession, scope: TenantInfo[], limit: number): Promise<CleanJob[]>;
  secondaryJobs(s: SqlSession, kind: SecondaryKind, scope: TenantInfo[]): Promise<SecondaryJob[]>;
  archivePieces(s: SqlSession, scope: TenantInfo[]): Promise<ArchivePiece[]>;
  upgrading(s: SqlSession): Promise<boolean>;

  // ---- statement text ----
  setDataDest(uri: string, tenant: string | null): string[];
  /** statements that make the archive destination `cfg`; [] when `current` already is */
  setArchiveDest(cfg: ArchiveDestConfig, tenant: string | null, current: DestinationState, force: boolean): string[];
  setArchiveDestState(state: 'ENABLE' | 'DEFER', tenant: string): string[];
  /** 3.x: the whole backup_dest_option string */
  setDestOptions(options: Record<string, string>): string[];
  startArchive(tenants: string[] | null): string;
  stopArchive(tenants: string[] | null): string;
  encryption(password: string): string;
  startBackup(type: BackupType, tenants: string[] | null, description?: string): string;
  cancelBackup(tenants: string[] | null): string;
  majorFreeze(tenants: string[] | null): string;
  /** statements that make the retention `windowSeconds` (null = keep forever); [] when it already is */
  setRetention(windowSeconds: number | null, tenant: string | null, current: RetentionState, destination: DestinationState): string[];
  deleteObsoleteBackup(): string;
  deleteBackupSet(id: number, tenant: string | null): string;
  cancelDelete(tenant: string | null): string;
  setSecondaryDest(uri: string): string[];
  /** 3.x: the whole backup_backup_dest_option string */
  setSecondaryDestOptions(options: Record<string, string>): string[];
  startSecondary(kind: SecondaryKind, req: SecondaryRequest): string;
  cancelSecondary(kind: SecondaryKind): string;
}

// ---------------------------------------------------------------------------------------------------
// helpers shared by both dialects

export function notSupported(major: ObMajor, what: string): ObError {
  return new ObError('not_supported', `${what} is not available on OceanBase ${major}.x`);
}

/** `FULL`/`D` → full; `INC`/`I` → incremental (reference §12 #1: accept all four) */
export function backupTypeOf(raw: string | null): BackupType {
  const t = (raw ?? '').trim().toUpperCase();
  if (t === 'I' || t === 'INC' || t === 'INCREMENTAL') return 'incremental';
  return 'full';
}

const RUNNING_JOB = new Set(['INIT', 'DOING', 'RUNNING', 'SCHEDULE', 'BACKUP', 'CANCELING', 'PREPARE', 'BEGINNING', 'STOPPING']);

/**
 * A job STATUS (4.x ObBackupStatus; 3.x progress/clean/secondary statuses) with its RESULT code → state.
 * `finished` is true for history rows, where any non-failure status means the job is over.
 */
export function jobStateOf(status: string | null, result: number | null, finished: boolean): JobState {
  const s = (status ?? '').trim().toUpperCase();
  const code = result === null ? 0 : Math.abs(result);
  if (s === 'CANCELED' || s === 'CANCELLED') return 'canceled';
  if (s === 'FAILED' || s === 'ERROR') return code === 4072 ? 'canceled' : 'failed';
  if (s === 'COMPLETED' || s === 'SUCCESS' || s === 'FINISH' || s === 'FINISHED' || s === 'STOP') {
    if (code === 0) return 'succeeded';
    return code === 4072 ? 'canceled' : 'failed';
  }
  if (RUNNING_JOB.has(s) && !finished) return 'running';
  if (finished) {
    if (s === 'CANCEL') return 'canceled';
    return code === 0 ? 'succeeded' : 'failed';
  }
  return 'running';
}

/** A RESULT column → the absolute OceanBase error number, null for success */
export function errorCodeOf(result: number | null): number | null {
  if (result === null || result === 0) return null;
  return Math.abs(result);
}

export function cleanText(text: string | null): string | null {
  if (text === null) return null;
  const t = text.trim();
  return t === '' ? null : redact(t);
}

export function cleanPath(path: string | null): string | null {
  if (path === null || path.trim() === '') return null;
  return stripUriCredentials(path.trim());
}

export function progressOf(done: number | null, total: number | null): number | null {
  if (done === null || total === null || total <= 0) return null;
  return Math.max(0, Math.min(1, done / total));
}

export function positive(n: number | null): number | null {
  return n !== null && n > 0 ? n : null;
}

/** The database's clock (lags are measured against it, not against the daemon's). */
export async function dbNow(s: SqlSession): Promise<Date> {
  const r = await s.select('SELECT NOW(6) AS now');
  return (r[0] ? new RowReader(r[0]).date('now') : null) ?? new Date();
}

export function ids(scope: TenantInfo[]): string {
  return scope.map((t) => String(t.id)).join(', ');
}

export function nameOf(scope: TenantInfo[], id: number): string | null {
  return scope.find((t) => t.id === id)?.name ?? null;
}

export function lagSeconds(now: Date, checkpoint: Date | null): number | null {
  if (checkpoint === null) return null;
  return Math.max(0, (now.getTime() - checkpoint.getTime()) / 1000);
}

// 3.x backup_dest_option: `k=v&k=v`; setting it replaces the whole string (reference §1)
export const DEST_OPTION_DEFAULTS: Record<string, string> = {
  log_archive_checkpoint_interval: '120s',
  recovery_window: '0',
  auto_delete_obsolete_backup: 'false',
  log_archive_piece_switch_interval: '0',
};

export function parseOptionString(text: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The option string with the known keys first in their documented order, then any others. */
export function formatOptionString(options: Record<string, string>): string {
  const known = Object.keys(DEST_OPTION_DEFAULTS).filter((k) => options[k] !== undefined);
  const rest = Object.keys(options)
    .filter((k) => !(k in DEST_OPTION_DEFAULTS))
    .sort();
  return [...known, ...rest].map((k) => `${k}=${options[k]}`).join('&');
}
