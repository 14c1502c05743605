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

/** Why a scheduled time that passed while the daemon was down does not run. */
export function missedReason(catchUp: 'once' | 'skip'): string {
  return `the daemon was not running at the scheduled time${catchUp === 'skip' ? ' (catch_up: skip)' : '; only the latest missed run is caught up (catch_up: once)'}`;
}

export interface StoredRunInput {
  schedule: Schedule;
  /** when the stored run was due (its scheduled_at) */
  at: Date;
  now: Date;
  catchUp: 'once' | 'skip';
  paused?: boolean;
  graceMs?: number;
}

export type StoredRunDecision =
  | { run: true; catchUp: boolean }
  | { run: false; state: 'missed' | 'skipped'; reason: string };

/**
 * A run stored but never started (pending or waiting when the daemon stopped), found at start-up or
 * taken over from a daemon that is gone: judged like any missed time. Within the grace it runs; later,
 * with `skip` it is missed, with `once` it runs as the catch-up only if no later scheduled time has
 * passed since (the scheduler catches up the latest one instead).
 */
export function judgeStoredRun(input: StoredRunInput): StoredRunDecision {
  if (input.paused) return { run: false, state: 'skipped', reason: 'the policy is paused' };
  if (input.now.getTime() - input.at.getTime() <= (input.graceMs ?? DEFAULT_GRACE_MS)) return { run: true, catchUp: false };
  if (input.catchUp === 'skip' || runsBetween(input.schedule, input.at, input.now).length > 0) {
    return { run: false, state: 'missed', reason: missedReason(input.catchUp) };
  }
  return { run: true, catchUp: true };
}
