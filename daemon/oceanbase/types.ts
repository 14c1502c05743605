// What the driver returns: the same shapes for OceanBase 3.x and 4.x. `tenant: null` is the cluster-level
// record of 3.x (tenant 1); on 4.x every record belongs to a user tenant.

export type ObMajor = 3 | 4;

export interface ClusterIdentity {
  major: ObMajor;
  /** the OceanBase version without suffix, e.g. `4.2.1.0` or `3.2.4` */
  version: string;
  /** `@@version_comment`, e.g. `OceanBase_CE 4.2.1.0 (r…) (Built …)` */
  versionComment: string | null;
  /** `version()`: `3.2.4-OceanBase …` on 3.x, `5.7.25-OceanBase-v4.2.1.0` on 4.x */
  serverVersion: string | null;
}

export interface TenantInfo {
  id: number;
  name: string;
  /** SYS / USER / META on 4.x; USER for every non-sys tenant on 3.x */
  type: string;
  /** NORMAL when the tenant may be backed up; null where the version does not say */
  status: string | null;
  /** PRIMARY / STANDBY on 4.x */
  role: string | null;
  /** ARCHIVELOG / NOARCHIVELOG on 4.x */
  logMode: string | null;
  compatibilityMode: string | null;
}

export type Binding = 'OPTIONAL' | 'MANDATORY';

export interface ArchiveDestConfig {
  /** destination URI */
  location: string;
  /** 4.x only; OceanBase's default is OPTIONAL */
  binding?: Binding;
  /** log piece switch interval, `1d`–`7d`; `0` turns pieces off on 3.x */
  pieceSwitchInterval?: string;
}

export interface DestinationState {
  tenant: string | null;
  tenantId: number;
  /** data backup destination as the database shows it (3.x: with credentials; 4.x: without); null when unset */
  dataDest: string | null;
  archive: {
    location: string | null;
    binding: Binding | null;
    /** seconds; 0 = no pieces; null = not shown */
    pieceSwitchSeconds: number | null;
    /** ENABLE / DEFER on 4.x; null on 3.x */
    state: string | null;
  };
  /** 3.x `backup_dest_option` parsed (`k=v&k=v`); empty on 4.x */
  options: Record<string, string>;
  /** 3.x `backup_backup_dest` (secondary backup destination); null when unset or on 4.x */
  secondaryDest: string | null;
  /** 3.x `backup_backup_dest_option` parsed (the secondary copies' recovery window); absent on 4.x */
  secondaryOptions?: Record<string, string>;
}

export interface ArchiveStatus {
  tenant: string | null;
  tenantId: number;
  /** raw OceanBase state: STOP, PREPARE, BEGINNING, DOING, INTERRUPTED, STOPPING, SUSPENDING, SUSPEND, MIXED, PAUSED */
  state: string;
  doing: boolean;
  roundId: number | null;
  pieceId: number | null;
  /** when the round started (3.x MIN_FIRST_TIME, 4.x START_SCN) */
  startedAt: Date | null;
  /** archived up to (3.x MAX_NEXT_TIME, 4.x CHECKPOINT_SCN) */
  checkpointAt: Date | null;
  /** database clock minus checkpoint, in seconds; null without a checkpoint */
  lagSeconds: number | null;
  inputBytes: number | null;
  outputBytes: number | null;
  comment: string | null;
  /** the database's clock when this was read */
  observedAt: Date;
}

export type BackupType = 'full' | 'incremental';
export type JobState = 'running' | 'succeeded' | 'failed' | 'canceled';

/** Identifies an OceanBase backup job: 4.x (tenant, job_id); 3.x the cluster backup set (bs_key). */
export interface JobRef {
  tenant: string | null;
  tenantId: number;
  jobId: number;
}

export interface BackupJob extends JobRef {
  type: BackupType;
  state: JobState;
  /** the raw STATUS */
  status: string;
  backupSetId: number | null;
  /** 0..1, from finished / total macro blocks; null when unknown */
  progress: number | null;
  startedAt: Date | null;
  endedAt: Date | null;
  inputBytes: number | null;
  outputBytes: number | null;
  /** the OceanBase error number of a failed job (absolute value) */
  errorCode: number | null;
  /** the OceanBase error text of a failed job, redacted */
  errorText: string | null;
  /** destination path, credentials removed */
  path: string | null;
}

/** The newest job id seen per tenant (key: tenant id) before a start, so what the start created can be found. */
export type JobMarks = Record<string, number>;

export interface BackupSet {
  tenant: string | null;
  tenantId: number;
  id: number;
  type: BackupType;
  /** success / failed / running (the set's STATUS) */
  status: 'success' | 'failed' | 'running';
  /** AVAILABLE, COPYING, DELETING, EXPIRED, INCOMPLETE, BROKEN, DELETED, … */
  fileStatus: string | null;
  startedAt: Date | null;
  endedAt: Date | null;
  sizeBytes: number | null;
  path: string | null;
  /** 0 = primary copy, > 0 = secondary copies (3.x) */
  copyId: number;
  prevFullId: number | null;
  prevIncId: number | null;
  /** 4.x: earliest point a restore from this set can reach */
  minRestoreAt: Date | null;
}

export interface CompactionStatus {
  tenant: string | null;
  tenantId: number;
  /** 3.x frozen version, 4.x frozen SCN, as text */
  frozenVersion: string | null;
  frozenAt: Date | null;
  /** 3.x last merged version, 4.x last SCN */
  lastMergedVersion: string | null;
  lastFinishedAt: Date | null;
  /** the last freeze is merged everywhere and nothing is running */
  idle: boolean;
  error: boolean;
  /** raw status text (IDLE / MERGING / COMPACTING / …) */
  status: string | null;
}

export interface RetentionState {
  tenant: string | null;
  tenantId: number;
  /** seconds of the recovery window; null = nothing expires */
  recoveryWindowSeconds: number | null;
  /** expired backups are deleted by the database itself */
  autoDelete: boolean;
}

export interface CleanJob {
  tenant: string | null;
  tenantId: number;
  jobId: number;
  type: string | null;
  state: JobState;
  status: string;
  startedAt: Date | null;
  endedAt: Date | null;
  parameter: string | null;
  errorCode: number | null;
  errorText: string | null;
}

export type SecondaryKind = 'backupset' | 'backuppiece';

export interface SecondaryJob {
  kind: SecondaryKind;
  tenant: string | null;
  tenantId: number;
  jobId: number;
  /** backup set id or piece id the job copies (0 / null when it copies "all not backed up") */
  objectId: number | null;
  state: JobState;
  status: string;
  maxBackupTimes: number | null;
  errorCode: number | null;
  errorText: string | null;
  dest: string | null;
}

export interface ArchivePiece {
  tenant: string | null;
  tenantId: number;
  roundId: number;
  pieceId: number;
  copyId: number;
  /** ACTIVE / FREEZING / FROZEN / INACTIVE */
  status: string | null;
  fileStatus: string | null;
  startAt: Date | null;
  checkpointAt: Date | null;
  endAt: Date | null;
  sizeBytes: number | null;
  path: string | null;
}

export type StartResult = { started: true } | { started: false; reason: string; code: number };
