import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { PolicyInput } from '../model/index.js';
import { Policy } from './bindings/policy/index.js';
import type { ObCluster } from './cluster.js';
import type { Schedule } from './schedule.js';
import type { BackupStorage } from './storage.js';
import { validateWithModel } from './validation.js';

export type BackupMode = 'physical' | 'logical';

export interface LogArchiveOptions {
  /**
   * Log archiving (needed for point-in-time restore). A physical policy cannot turn it off.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How often a new archive log piece starts: '1d' to '7d'.
   * @default '1d'
   */
  readonly pieceSwitchInterval?: string;
}

export interface RetentionOptions {
  /**
   * Backups (and the archive logs they need) older than this many days are cleaned up.
   * @default 7
   */
  readonly days?: number;
  /**
   * Time of day the cleanup runs, HH:MM in the schedule's time zone.
   * @default '04:00'
   */
  readonly cleanupTime?: string;
  /**
   * Set false to keep the settings but stop cleaning up.
   * @default true
   */
  readonly enabled?: boolean;
}

export interface AlarmOptions {
  /**
   * Alarm when a data backup runs longer than this.
   * @default 360
   */
  readonly dataBackupTimeoutMinutes?: number;
  /**
   * Alarm when the log archive lags behind by more than this.
   * @default 600
   */
  readonly logBackupDelaySeconds?: number;
  /**
   * Alarm when no data backup succeeded for this many days.
   * @default 8
   */
  readonly noSuccessfulBackupDays?: number;
}

export interface SecondaryBackupOptions {
  /** Where the copies go; must differ from the policy's primary storage. */
  readonly storage: BackupStorage;
  /**
   * Days a copy is kept: at least 7 for a weekly and 30 for a monthly schedule, and shorter than the
   * primary retention when that is enabled.
   */
  readonly retentionDays: number;
  /** When completed backups are copied. */
  readonly schedule: Schedule;
  /**
   * Set false to keep the settings but stop copying.
   * @default true
   */
  readonly enabled?: boolean;
}

export interface BackupPolicyProps {
  /**
   * Policy name (a letter, then 2-63 letters, digits, '-' or '_').
   * @default the construct id
   */
  readonly name?: string;
  /** The cluster to back up; one policy per cluster. */
  readonly cluster: ObCluster;
  /** Where the backups go. */
  readonly storage: BackupStorage;
  /**
   * Physical (data backup + log archive) or logical (full exports only).
   * @default 'physical'
   */
  readonly mode?: BackupMode;
  /** When data backups run: `Schedule.weekly({...})` or `Schedule.monthly({...})`. */
  readonly schedule: Schedule;
  /**
   * Log archive settings.
   * @default enabled, a new piece every day
   */
  readonly logArchive?: LogArchiveOptions;
  /**
   * How long backups are kept before cleanup removes them.
   * @default no cleanup: backups are kept until removed by hand
   */
  readonly retention?: RetentionOptions;
  /**
   * Alarm thresholds.
   * @default 360 minutes, 600 seconds, 8 days
   */
  readonly alarms?: AlarmOptions;
  /**
   * Copies of completed backups on a second storage.
   * @default no secondary backup
   */
  readonly secondary?: SecondaryBackupOptions;
  /**
   * Keep the policy but start no scheduled run.
   * @default false
   */
  readonly paused?: boolean;
  /**
   * After obbackupd was down: 'once' runs one missed backup at start, 'skip' waits for the next slot.
   * @default 'once'
   */
  readonly catchUp?: 'once' | 'skip';
  /**
   * OceanBase 3.x: a full backup needs a major compaction newer than the log archive start and the last
   * backup. 'require': the full fails its pre-check without one; 'trigger': the run starts one (MAJOR
   * FREEZE) and waits for it. No effect on 4.x, which has no such requirement.
   * @default 'require'
   */
  readonly compactionBeforeFull?: 'require' | 'trigger';
  /**
   * Provider configuration to use.
   * @default the stack's default obbackup provider
   */
  readonly provider?: TerraformProvider;
}

/** A cluster's backup policy (OCP's 备份策略): schedule, log archive, retention, alarms, secondary copies. */
export class BackupPolicy extends Construct {
  /** The policy name as given. */
  public readonly name: string;
  /** The generated `obbackup_policy` resource, for attributes and escape hatches. */
  public readonly resource: Policy;

  public constructor(scope: Construct, id: string, props: BackupPolicyProps) {
    super(scope, id);
    this.name = props.name ?? id;
    const { logArchive, retention, alarms, secondary } = props;
    const spec: PolicyInput = {
      name: this.name,
      cluster: props.cluster.name,
      mode: props.mode,
      storage: props.storage.name,
      schedule: props.schedule.toSpec(),
      log_archive: logArchive && { enabled: logArchive.enabled, piece_switch_interval: logArchive.pieceSwitchInterval },
      cleanup: retention && { enabled: retention.enabled ?? true, retention_days: retention.days, time: retention.cleanupTime },
      alarms: alarms && {
        data_backup_timeout_minutes: alarms.dataBackupTimeoutMinutes,
        log_backup_delay_seconds: alarms.logBackupDelaySeconds,
        no_successful_backup_days: alarms.noSuccessfulBackupDays,
      },
      secondary: secondary && {
        enabled: secondary.enabled ?? true,
        storage: secondary.storage.name,
        retention_days: secondary.retentionDays,
        schedule: secondary.schedule.toSpec(),
      },
      paused: props.paused,
      catch_up: props.catchUp,
      compaction_before_full: props.compactionBeforeFull,
    };
    const schedule = (s: Schedule) => ({ period: s.period, time: s.time, timezone: s.timezone, days: s.days.map((d) => ({ ...d })) });
    this.resource = new Policy(this, 'Default', {
      name: this.name,
      // References (not the plain names) so Terraform creates the cluster and storages first.
      cluster: props.cluster.nameRef,
      storage: props.storage.nameRef,
      mode: spec.mode,
      schedule: schedule(props.schedule),
      logArchive: spec.log_archive && { enabled: spec.log_archive.enabled, pieceSwitchInterval: spec.log_archive.piece_switch_interval },
      cleanup: spec.cleanup && { enabled: spec.cleanup.enabled, retentionDays: spec.cleanup.retention_days, time: spec.cleanup.time },
      alarms: spec.alarms && {
        dataBackupTimeoutMinutes: spec.alarms.data_backup_timeout_minutes,
        logBackupDelaySeconds: spec.alarms.log_backup_delay_seconds,
        noSuccessfulBackupDays: spec.alarms.no_successful_backup_days,
      },
      secondary: secondary && {
        enabled: secondary.enabled ?? true,
        storage: secondary.storage.nameRef,
        retentionDays: secondary.retentionDays,
        schedule: schedule(secondary.schedule),
      },
      paused: spec.paused,
      catchUp: spec.catch_up,
      compactionBeforeFull: spec.compaction_before_full,
      provider: props.provider,
    });
    validateWithModel(this, 'policy', () => spec as Record<string, unknown>);
  }

  /** The next scheduled runs as obbackupd computes them (known after apply). */
  public get nextRuns() {
    return this.resource.nextRuns;
  }
}
