import type { BackupType, ScheduleInput } from '../model/index.js';

export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

/** ISO weekday numbers: 1 = Monday … 7 = Sunday. */
const ISO_WEEKDAY: Record<Weekday, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 };

export interface ScheduleTimeOptions {
  /**
   * Time of day the backups start, HH:MM (24 h) in `timezone`.
   * @default '02:00'
   */
  readonly time?: string;
  /**
   * IANA time zone of `time`, e.g. 'Asia/Shanghai'.
   * @default 'UTC' (applied by the daemon)
   */
  readonly timezone?: string;
}

export interface WeeklyScheduleOptions extends ScheduleTimeOptions {
  /**
   * Weekdays with a full backup (names, or ISO numbers 1 = Monday … 7 = Sunday).
   * @default ['monday']
   */
  readonly full?: ReadonlyArray<Weekday | number>;
  /**
   * Weekdays with an incremental backup. Pass `[]` for full backups only (a logical policy needs that).
   * @default every weekday not listed in `full`
   */
  readonly incremental?: ReadonlyArray<Weekday | number>;
}

export interface MonthlyScheduleOptions extends ScheduleTimeOptions {
  /**
   * Days of the month (1-31) with a full backup. A day the month lacks (31 in April) is skipped that month.
   * @default [1]
   */
  readonly full?: readonly number[];
  /**
   * Days of the month with an incremental backup. OCP allows at most 10 days in all.
   * @default []
   */
  readonly incremental?: readonly number[];
}

export interface ScheduleDay {
  readonly day: number;
  readonly type: BackupType;
}

const DEFAULT_TIME = '02:00';

/**
 * When data backups run, in OCP's shapes: a weekly or a monthly plan of full and incremental days at
 * one time of day. Build one with `Schedule.weekly({...})` or `Schedule.monthly({...})`.
 */
export class Schedule {
  /**
   * A weekly plan. With no options: full on Monday, incremental Tuesday to Sunday, at 02:00 UTC.
   */
  public static weekly(options: WeeklyScheduleOptions = {}): Schedule {
    const toIso = (d: Weekday | number) => (typeof d === 'number' ? d : ISO_WEEKDAY[d]);
    const full = (options.full ?? ['monday']).map(toIso);
    const incremental = options.incremental ? options.incremental.map(toIso) : [1, 2, 3, 4, 5, 6, 7].filter((d) => !full.includes(d));
    return new Schedule('weekly', full, incremental, options);
  }

  /** A monthly plan. With no options: full on the 1st, at 02:00 UTC. */
  public static monthly(options: MonthlyScheduleOptions = {}): Schedule {
    return new Schedule('monthly', [...(options.full ?? [1])], [...(options.incremental ?? [])], options);
  }

  /** The backup days, in day order. */
  public readonly days: readonly ScheduleDay[];
  public readonly time: string;
  public readonly timezone?: string;

  private constructor(
    public readonly period: 'weekly' | 'monthly',
    full: number[],
    incremental: number[],
    options: ScheduleTimeOptions,
  ) {
    const days: ScheduleDay[] = [
      ...full.map((day) => ({ day, type: 'full' as const })),
      ...incremental.map((day) => ({ day, type: 'incremental' as const })),
    ];
    // Stable sort: a day listed as both full and incremental stays twice, for the model to report.
    this.days = days.sort((a, b) => a.day - b.day);
    this.time = options.time ?? DEFAULT_TIME;
    this.timezone = options.timezone;
  }

  /** The contract's JSON shape (snake_case), as the API and the provider take it. */
  public toSpec(): ScheduleInput {
    return {
      period: this.period,
      time: this.time,
      ...(this.timezone !== undefined ? { timezone: this.timezone } : {}),
      days: this.days.map((d) => ({ day: d.day, type: d.type })),
    };
  }
}
