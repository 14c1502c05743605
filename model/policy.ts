import { z } from 'zod';
import { resourceName, storageName } from './names.js';
import { scheduleSpec, timeOfDay } from './schedule.js';

export const MODES = ['physical', 'logical'] as const;
export const CATCH_UP = ['once', 'skip'] as const;
/**
 * OceanBase 3.x backs up the last major compaction, which must be newer than the log archive start and
 * the previous backup. "require": a full without one fails its pre-check (OCP's behaviour); "trigger":
 * the run sends MAJOR FREEZE and waits for the merge first. 4.x has no such requirement: no effect there.
 */
export const COMPACTION_BEFORE_FULL = ['require', 'trigger'] as const;

/** OceanBase accepts a log piece switch interval of 1 to 7 days. */
const pieceSwitchInterval = z.string().regex(/^[1-7]d$/, 'must be "1d" to "7d" (OceanBase accepts 1 to 7 days)');
const positiveInt = (max: number, what: string) =>
  z.number().int('must be an integer').min(1, `must be 1-${max} ${what}`).max(max, `must be 1-${max} ${what}`);

export const logArchiveSpec = z
  .strictObject({
    enabled: z.boolean().default(true),
    piece_switch_interval: pieceSwitchInterval.default('1d'),
  })
  .default({ enabled: true, piece_switch_interval: '1d' });

export const cleanupSpec = z
  .strictObject({
    enabled: z.boolean().default(false),
    retention_days: positiveInt(3650, 'days').default(7),
    time: timeOfDay.default('04:00'),
  })
  .default({ enabled: false, retention_days: 7, time: '04:00' });

export const alarmsSpec = z
  .strictObject({
    data_backup_timeout_minutes: positiveInt(10080, 'minutes').default(360),
    log_backup_delay_seconds: positiveInt(604800, 'seconds').default(600),
    no_successful_backup_days: positiveInt(365, 'days').default(8),
  })
  .default({ data_backup_timeout_minutes: 360, log_backup_delay_seconds: 600, no_successful_backup_days: 8 });

export const secondarySpec = z
  .strictObject({
    enabled: z.boolean().default(false),
    storage: storageName.optional(),
    retention_days: positiveInt(3650, 'days').optional(),
    schedule: scheduleSpec.optional(),
  })
  .default({ enabled: false });

/**
 * A cluster's backup policy (OCP's 备份策略). One policy per cluster. Fields left out take the
 * defaults shown; GET returns them applied.
 */
export const policySpec = z
  .strictObject({
    name: resourceName.optional(),
    version: z.number().int('must be an integer').min(1, 'must be a version returned by a read').optional(),
    cluster: resourceName,
    mode: z.enum(MODES, { message: 'must be "physical" or "logical"' }).default('physical'),
    storage: storageName,
    schedule: scheduleSpec,
    log_archive: logArchiveSpec,
    cleanup: cleanupSpec,
    alarms: alarmsSpec,
    secondary: secondarySpec,
    paused: z.boolean().default(false),
    catch_up: z.enum(CATCH_UP, { message: 'must be "once" or "skip"' }).default('once'),
    compaction_before_full: z.enum(COMPACTION_BEFORE_FULL, { message: 'must be "require" or "trigger"' }).default('require'),
  })
  .superRefine((p, ctx) => {
    const fail = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (p.mode === 'logical') {
      p.schedule.days.forEach((d, i) => {
        if (d.type !== 'full') fail(['schedule', 'days', i, 'type'], 'a logical backup supports only full backups');
      });
      if (p.secondary.enabled) fail(['secondary', 'enabled'], 'secondary backup requires a physical backup policy');
    } else if (!p.log_archive.enabled) {
      fail(['log_archive', 'enabled'], 'log archiving cannot be turned off for a physical backup');
    }
    const s = p.secondary;
    if (!s.enabled) return;
    if (s.storage === undefined) fail(['secondary', 'storage'], 'is required when secondary backup is enabled');
    else if (s.storage === p.storage) fail(['secondary', 'storage'], `must differ from the primary storage "${p.storage}"`);
    if (s.schedule === undefined) fail(['secondary', 'schedule'], 'is required when secondary backup is enabled');
    if (s.retention_days === undefined) fail(['secondary', 'retention_days'], 'is required when secondary backup is enabled');
    if (s.retention_days !== undefined && p.cleanup.enabled && s.retention_days >= p.cleanup.retention_days) {
      fail(
        ['secondary', 'retention_days'],
        `must be shorter than the primary retention (cleanup.retention_days = ${p.cleanup.retention_days}), got ${s.retention_days}`,
      );
    }
    // A copy that expires before the next copy arrives would leave gaps (OCP: weekly >= 7, monthly >= 30).
    if (s.retention_days !== undefined && s.schedule !== undefined) {
      const min = s.schedule.period === 'weekly' ? 7 : 30;
      if (s.retention_days < min) {
        fail(['secondary', 'retention_days'], `must be at least ${min} days for a ${s.schedule.period} secondary schedule, got ${s.retention_days}`);
      }
    }
  });

export type Policy = z.output<typeof policySpec>;
export type PolicyInput = z.input<typeof policySpec>;
