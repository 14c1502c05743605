import { runsBetween, type PlannedRun, type Schedule } from '../../model/index.js';

/** How late a scheduled run may start and still count as on time (a tick, a GC pause, a slow restart). */
export const DEFAULT_GRACE_MS = 5 * 60_000;

export interface DueInput {
  schedule: Schedule;
  /** The latest scheduled time already recorded for this (policy, kind), or when the policy took effect. */
  after: Date;
  now: Date;
  catchUp: 'once' | 'skip';
  paused?: boolean;
  graceMs?: number;
}

export interface DueDecision {
  /** The run to start now, if any; `catchUp` marks one started late after downtime. */
  run?: PlannedRun & { catchUp: boolean };
  /** Scheduled times in (after, now] that will not run, with the reason to record. */
  skipped: Array<PlannedRun & { reason: 'missed' | 'paused' }>;
}

/**
 * What a policy's schedule asks for now, given what was already recorded: a pure function of
 * (schedule, last recorded time, now), so a restart neither loses nor repeats a run.
 *
 * A run whose time passed less than `graceMs` ago is on time. Older ones were missed (the daemon was
 * down): with `catch_up: once` the latest of them runs once, as a full if any missed run was a full
 * (an incremental would not stand in for a missed full); with `skip` all are recorded as missed.
 */
export function decideDue(input: DueInput): DueDecision {
  const grace = input.graceMs ?? DEFAULT_GRACE_MS;
  const passed = runsBetween(input.schedule, input.after, input.now);
  if (passed.length === 0) return { skipped: [] };
  if (input.paused) return { skipped: passed.map((r) => ({ ...r, reason: 'paused' as const })) };

  const latest = passed[passed.length - 1]!;
  const onTime = input.now.getTime() - latest.at.getTime() <= grace;
  const missed = onTime ? passed.slice(0, -1) : passed;

  if (onTime) {
    return { run: { ...latest, catchUp: false }, skipped: missed.map((r) => ({ ...r, reason: 'missed' as const })) };
  }
  if (input.catchUp === 'skip') return { skipped: missed.map((r) => ({ ...r, reason: 'missed' as const })) };

  const type = missed.some((r) => r.type === 'full') ? 'full' : latest.type;
  return {
    run: { at: latest.at, type, catchUp: true },
    skipped: missed.slice(0, -1).map((r) => ({ ...r, reason: 'missed' as const })),
  };
}
