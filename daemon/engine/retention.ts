// Which backups have expired under a retention of N days: one pure rule shared by the primary cleanup
// (backup sets the database holds) and the secondary retention (copies the daemon made on 4.x).
//
// The rule is the recovery window of OceanBase (reference §5) and of pgBackRest/Barman: to restore to
// any point of the last N days, keep the newest successful full that ended before the window opened
// (the "anchor") and everything after it; what is older than the anchor has expired. On top of that:
// the newest successful full is never expired, nor any set a kept incremental builds on (its
// prev_full / prev_inc chain), and nothing expires while there is no anchor.

const DAY_MS = 86_400_000;

/** What the rule needs to know of a backup set (or of a copy of one). */
export interface RetainedSet {
  /** sets of different groups (tenants) never depend on each other: 4.x numbers sets per tenant */
  group: string;
  id: number;
  type: 'full' | 'incremental';
  succeeded: boolean;
  /** still being written: never expired */
  running?: boolean;
  endedAt: Date | null;
  prevFullId: number | null;
  prevIncId: number | null;
}

export interface RetentionDecision<T extends RetainedSet> {
  expired: T[];
  kept: T[];
  /** per group, the full that opens the kept chain (undefined: nothing could expire in that group) */
  anchors: Map<string, T>;
}

export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/** Sets that have expired at `now` under `retentionDays`, per group, oldest first. */
export function selectExpiredSets<T extends RetainedSet>(sets: readonly T[], now: Date, retentionDays: number): RetentionDecision<T> {
  const cutoff = retentionCutoff(now, retentionDays).getTime();
  const expired: T[] = [];
  const kept: T[] = [];
  const anchors = new Map<string, T>();
  const groups = new Map<string, T[]>();
  for (const s of sets) {
    const list = groups.get(s.group) ?? [];
    list.push(s);
    groups.set(s.group, list);
  }
  for (const [group, list] of groups) {
    const ordered = [...list].sort((a, b) => a.id - b.id);
    const fulls = ordered.filter((s) => s.type === 'full' && s.succeeded && !s.running && s.endedAt !== null);
    const anchor = [...fulls].reverse().find((s) => s.endedAt!.getTime() <= cutoff);
    if (!anchor) {
      kept.push(...ordered);
      continue;
    }
    anchors.set(group, anchor);
    const newestFull = fulls[fulls.length - 1];
    const keep = new Set<number>(ordered.filter((s) => s.id >= anchor.id || s.running).map((s) => s.id));
    if (newestFull) keep.add(newestFull.id);
    // whatever a kept set builds on stays too (a chain can only point backwards, so one pass from the top is enough)
    const byId = new Map(ordered.map((s) => [s.id, s]));
    for (const s of [...ordered].reverse()) {
      if (!keep.has(s.id)) continue;
      for (const dep of [s.prevFullId, s.prevIncId]) if (dep !== null && byId.has(dep)) keep.add(dep);
    }
    for (const s of ordered) (keep.has(s.id) ? kept : expired).push(s);
  }
  return { expired, kept, anchors };
}

/** What the rule needs to know of a log archive piece. */
export interface RetainedPiece {
  group: string;
  roundId: number;
  pieceId: number;
  /** still being written (ACTIVE): never expired */
  active: boolean;
  startAt: Date | null;
  /** the piece's end (its checkpoint once frozen) */
  endAt: Date | null;
}

/**
 * Pieces no kept backup needs: frozen pieces that ended before the anchor of their group began, except
 * the last of those, which may still hold the anchor's replay start (the archive checkpoint lags a little).
 * A group without anchor keeps every piece.
 */
export function selectExpiredPieces<P extends RetainedPiece, T extends RetainedSet & { startedAt: Date | null }>(
  pieces: readonly P[],
  anchors: Map<string, T>,
): P[] {
  const out: P[] = [];
  const groups = new Map<string, P[]>();
  for (const p of pieces) groups.set(p.group, [...(groups.get(p.group) ?? []), p]);
  for (const [group, list] of groups) {
    const anchor = anchors.get(group);
    const from = anchor?.startedAt?.getTime();
    if (from === undefined) continue;
    const before = list
      .filter((p) => !p.active && p.endAt !== null && p.endAt.getTime() <= from)
      .sort((a, b) => a.endAt!.getTime() - b.endAt!.getTime() || a.roundId - b.roundId || a.pieceId - b.pieceId);
    out.push(...before.slice(0, -1));
  }
  return out;
}
