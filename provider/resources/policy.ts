// obbackup_policy: a cluster's scheduled backup policy; plans show the next runs it will make.
import { nextRuns } from '../../model/index.js';
import type { Schedule } from '../../model/index.js';
import { t } from '../cty/types.js';
import { Unknown, valueEquals } from '../cty/values.js';
import type { Value } from '../cty/values.js';
import { fromPlain } from '../framework/convert.js';
import { attr } from '../framework/schema.js';
import type { AttributeSpec } from '../framework/schema.js';
import { specResource } from './spec.js';

/** How many upcoming runs `next_runs` lists. */
export const NEXT_RUN_COUNT = 5;

const runType = t.list(t.object({ at: t.string, type: t.string }));
const scheduleType = t.object({
  period: t.string,
  time: t.string,
  timezone: t.string,
  days: t.list(t.object({ day: t.number, type: t.string })),
});

const scheduleAttributes = (): Record<string, AttributeSpec> => ({
  period: attr.string({ required: true, description: '"weekly" or "monthly".' }),
  time: attr.string({ required: true, description: 'Time of day, HH:MM.' }),
  timezone: attr.string({ optional: true, computed: true, description: 'IANA time zone (default "UTC").' }),
  days: attr.nested(
    'list',
    {
      day: attr.number({ required: true, description: 'ISO weekday 1-7 (1 = Monday) for weekly; day of month 1-31 for monthly.' }),
      type: attr.string({ required: true, description: '"full" or "incremental".' }),
    },
    { required: true, description: 'Backup days; a monthly schedule selects at most 10.' },
  ),
});

export function upcomingRuns(schedule: Schedule, after = new Date()): Value {
  return fromPlain(
    runType,
    nextRuns(schedule, after, NEXT_RUN_COUNT).map((r) => ({ at: r.at.toISOString(), type: r.type })),
  );
}

export const policyResource = specResource({
  typeName: 'obbackup_policy',
  kind: 'policy',
  schema: {
    version: 0,
    description: "A cluster's backup policy: schedule, log archive, cleanup, alarms and secondary backup.",
    attributes: {
      name: attr.string({ required: true, requiresReplace: true, description: 'Policy name. Import ID.' }),
      cluster: attr.string({ required: true, requiresReplace: true, description: 'Name of the obbackup_cluster (one policy per cluster).' }),
      mode: attr.string({ optional: true, computed: true, description: '"physical" (default) or "logical".' }),
      storage: attr.string({ required: true, description: 'Name of the primary obbackup_storage.' }),
      schedule: attr.nested('single', scheduleAttributes(), { required: true, description: 'When data backups run.' }),
      log_archive: attr.nested(
        'single',
        {
          enabled: attr.bool({ optional: true, computed: true, description: 'Always on for physical backup (default true).' }),
          piece_switch_interval: attr.string({ optional: true, computed: true, description: '"1d" to "7d" (default "1d").' }),
        },
        { optional: true, computed: true, description: 'Log archiving.' },
      ),
      cleanup: attr.nested(
        'single',
        {
          enabled: attr.bool({ optional: true, computed: true, description: 'Delete expired backups (default false).' }),
          retention_days: attr.number({ optional: true, computed: true, description: 'Days to keep backups (default 7).' }),
          time: attr.string({ optional: true, computed: true, description: 'Time of day for cleanup, HH:MM (default "04:00").' }),
        },
        { optional: true, computed: true, description: 'Expired backup cleanup.' },
      ),
      alarms: attr.nested(
        'single',
        {
          data_backup_timeout_minutes: attr.number({ optional: true, computed: true, description: 'Alarm when a data backup runs longer (default 360).' }),
          log_backup_delay_seconds: attr.number({ optional: true, computed: true, description: 'Alarm when log archiving lags more (default 600).' }),
          no_successful_backup_days: attr.number({ optional: true, computed: true, description: 'Alarm after this many days without a successful backup (default 8).' }),
        },
        { optional: true, computed: true, description: 'Alarm thresholds.' },
      ),
      secondary: attr.nested(
        'single',
        {
          enabled: attr.bool({ optional: true, computed: true, description: 'Copy backups to a second storage (default false).' }),
          storage: attr.string({ optional: true, description: 'Secondary storage name; must differ from the primary.' }),
          retention_days: attr.number({ optional: true, description: 'Days to keep secondary copies.' }),
          schedule: attr.nested('single', scheduleAttributes(), { optional: true, description: 'When secondary copies run.' }),
        },
        { optional: true, computed: true, description: 'Secondary backup.' },
      ),
      paused: attr.bool({ optional: true, computed: true, description: 'Pause scheduled runs (default false).' }),
      catch_up: attr.string({ optional: true, computed: true, description: '"once" (default): run one missed backup after downtime; "skip".' }),
      compaction_before_full: attr.string({
        optional: true,
        computed: true,
        description:
          'OceanBase 3.x: a full backup needs a major compaction newer than the log archive start and the last backup. "require" (default): the full fails its pre-check without one; "trigger": the run starts one (MAJOR FREEZE) and waits for it. No effect on 4.x, which has no such requirement.',
      }),
      next_runs: attr.list(t.object({ at: t.string, type: t.string }), {
        computed: true,
        description: `The next ${NEXT_RUN_COUNT} scheduled data backups (UTC time, type).`,
      }),
      version: attr.number({ computed: true, description: 'Version of the stored object (optimistic concurrency).' }),
    },
  },
  modifyPlan(ctx, spec) {
    const scheduleChanged = !ctx.prior || !valueEquals(scheduleType, ctx.prior.schedule ?? null, ctx.planned.schedule ?? null);
    if (!scheduleChanged && ctx.prior?.next_runs !== null) return;
    ctx.planned.next_runs = spec ? upcomingRuns(spec.schedule as Schedule) : new Unknown();
  },
  decorate(state, stored, planned, prior) {
    // Apply keeps what the plan showed (Terraform requires it). A read keeps the stored list while the
    // schedule is the same and its first run is still ahead; else it recomputes from now.
    const plannedRuns = planned?.next_runs;
    if (plannedRuns && !(plannedRuns instanceof Unknown)) {
      state.next_runs = plannedRuns;
      return;
    }
    const previous = prior?.next_runs;
    const first = Array.isArray(previous) ? (previous[0] as { at?: unknown } | undefined)?.at : undefined;
    const stillAhead = typeof first === 'string' && Date.parse(first) > Date.now();
    if (stillAhead && prior && valueEquals(scheduleType, prior.schedule ?? null, state.schedule ?? null)) state.next_runs = previous!;
    else state.next_runs = upcomingRuns(stored.schedule as Schedule);
  },
});
