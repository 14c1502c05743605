import { Cron } from 'croner';
import { z } from 'zod';

export const PERIODS = ['weekly', 'monthly'] as const;
export const BACKUP_TYPES = ['full', 'incremental'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

/** OCP: a monthly schedule may pick at most 10 days. */
export const MAX_MONTHLY_DAYS = 10;

/** True when the runtime's time-zone database knows `tz` (an IANA name such as Asia/Shanghai). */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (00:00-23:59)');
export const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"');

export const scheduleDay = z.strictObject({
  day: z.number().int('must be an integer'),
  type: z.enum(BACKUP_TYPES, { message: 'must be "full" or "incremental"' }),
});

/**
 * When data backups run: on ISO weekdays (1 = Monday … 7 = Sunday) or days of the month (1-31, at
 * most 10), each day full or incremental, at `time` in `timezone`. A monthly day the month lacks
 * (31 in April) is skipped that month, as with cron.
 */
export const scheduleSpec = z
  .strictObject({
    period: z.enum(PERIODS, { message: 'must be "weekly" or "monthly"' }),
    time: timeOfDay,
    timezone: timeZone.default('UTC'),
    days: z.array(scheduleDay).min(1, 'must list at least one day'),
  })
  .superRefine((s, ctx) => {
    const max = s.period === 'weekly' ? 7 : 31;
    s.days.forEach((d, i) => {
      if (d.day < 1 || d.day > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['days', i, 'day'],
          message: s.period === 'weekly' ? 'must be a weekday 1-7 (1 = Monday, 7 = Sunday)' : 'must be a day of the month 1-31',
        });
      }
    });
    if (s.period === 'monthly' && s.days.length > MAX_MONTHLY_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['days'], message: `a monthly schedule may select at most ${MAX_MONTHLY_DAYS} days, got ${s.days.length}` });
    }
    const seen = new Set<number>();
    s.days.forEach((d, i) => {
      if (seen.has(d.day)) ctx.addIssue({ code: 'custom', path: ['days', i, 'day'], message: `day ${d.day} is listed more than once` });
      seen.add(d.day);
    });
  });

export type Schedule = z.output<typeof scheduleSpec>;
export type ScheduleInput = z.input<typeof scheduleSpec>;

export interface PlannedRun {
  at: Date;
  type: BackupType;
}

function cronFor(s: Schedule): Cron {
  const [hh, mm] = s.time.split(':').map(Number);
  const days = [...new Set(s.days.map((d) => d.day))].sort((a, b) => a - b);
  // Cron weekdays are 0-6 from Sunday; ISO 7 (Sunday) becomes 0.
  const field = s.period === 'weekly' ? `* * ${days.map((d) => d % 7).join(',')}` : `${days.join(',')} * *`;
  return new Cron(`${mm} ${hh} ${field}`, { timezone: s.timezone, paused: true });
}

const weekdayIndex: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The schedule day (ISO weekday or day of month) that `at` falls on in the schedule's time zone. */
function scheduleDayOf(s: Schedule, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: s.timezone, weekday: 'short', day: 'numeric' }).formatToParts(at);
  if (s.period === 'weekly') return weekdayIndex[parts.find((p) => p.type === 'weekday')!.value]!;
  return Number(parts.find((p) => p.type === 'day')!.value);
}

function typeAt(s: Schedule, at: Date): BackupType {
  const day = scheduleDayOf(s, at);
  return s.days.find((d) => d.day === day)?.type ?? 'full';
}

/** The next `count` runs strictly after `after`. */
export function nextRuns(s: Schedule, after: Date, count: number): PlannedRun[] {
  return cronFor(s)
    .nextRuns(count, after)
    .map((at) => ({ at, type: typeAt(s, at) }));
}

/** Every run in (after, until], in order; `limit` bounds the work when a daemon was down for long. */
export function runsBetween(s: Schedule, after: Date, until: Date, limit = 1000): PlannedRun[] {
  const cron = cronFor(s);
  const out: PlannedRun[] = [];
  let cursor: Date | null = after;
  while (out.length < limit) {
    const at: Date | null = cron.nextRun(cursor);
    if (!at || at.getTime() > until.getTime()) break;
    out.push({ at, type: typeAt(s, at) });
    cursor = at;
  }
  return out;
}

/** The most recent run at or before `at`, if any within the last ~2 months (a monthly period's reach). */
export function previousRun(s: Schedule, at: Date): PlannedRun | undefined {
  const runs = runsBetween(s, new Date(at.getTime() - 62 * 86_400_000), at);
  return runs[runs.length - 1];
}
