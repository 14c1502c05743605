import { describe, expect, it } from 'vitest';
import { selectExpiredPieces, selectExpiredSets, type RetainedPiece, type RetainedSet } from '../../daemon/engine/retention.js';
import { relativeToStorage } from '../../daemon/engine/secondary.js';

const DAY = 86_400_000;
const now = new Date('2025-03-01T00:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

function set(id: number, type: 'full' | 'incremental', endedDaysAgo: number, extra: Partial<RetainedSet> = {}): RetainedSet & { startedAt: Date } {
  return { group: 't1', id, type, succeeded: true, endedAt: daysAgo(endedDaysAgo), startedAt: daysAgo(endedDaysAgo + 0.01), prevFullId: null, prevIncId: null, ...extra };
}

const ids = (list: RetainedSet[]) => list.map((s) => s.id);

describe('retention: which backups have expired', () => {
  it('keeps the newest full that ended before the window and everything after it', () => {
    const sets = [set(1, 'full', 20), set(2, 'incremental', 18, { prevFullId: 1 }), set(3, 'full', 10), set(4, 'incremental', 8, { prevFullId: 3 }), set(5, 'full', 3), set(6, 'incremental', 1, { prevFullId: 5 })];
    const d = selectExpiredSets(sets, now, 7);
    expect(ids(d.expired)).toEqual([1, 2]);
    expect(ids(d.kept)).toEqual([3, 4, 5, 6]);
    expect(d.anchors.get('t1')?.id).toBe(3);
  });

  it('expires nothing while no full ended before the window (the newest full is never removed)', () => {
    const d = selectExpiredSets([set(1, 'full', 3), set(2, 'incremental', 2, { prevFullId: 1 })], now, 7);
    expect(d.expired).toEqual([]);
    expect(d.anchors.size).toBe(0);
  });

  it('keeps an old full when it is the newest successful one, whatever its age', () => {
    const d = selectExpiredSets([set(1, 'full', 40), set(2, 'full', 30), set(3, 'full', 30.5, { succeeded: false })], now, 7);
    expect(ids(d.kept)).toEqual([2, 3]);
    expect(ids(d.expired)).toEqual([1]);
  });

  it('never counts a failed or running full as the anchor, and never expires a running set', () => {
    const sets = [set(1, 'full', 30), set(2, 'full', 20, { succeeded: false }), set(3, 'full', 9, { running: true, endedAt: null })];
    const d = selectExpiredSets(sets, now, 7);
    expect(d.anchors.get('t1')?.id).toBe(1);
    expect(d.expired).toEqual([]);
  });

  it('keeps what a kept incremental builds on even when numbering would expire it', () => {
    // set 4 is an incremental of full 1 (taken before full 3 finished): 1 must stay
    const sets = [set(1, 'full', 30), set(3, 'full', 10), set(4, 'incremental', 9, { prevFullId: 1 })];
    const d = selectExpiredSets(sets, now, 7);
    expect(ids(d.kept)).toEqual([1, 3, 4]);
    expect(d.expired).toEqual([]);
  });

  it('decides per group: one tenant\'s sets never keep or expire another\'s', () => {
    const sets = [set(1, 'full', 30), set(2, 'full', 10), { ...set(1, 'full', 30), group: 't2' }];
    const d = selectExpiredSets(sets, now, 7);
    expect(d.expired.map((s) => `${s.group}:${s.id}`)).toEqual(['t1:1']);
  });

  it('expires frozen pieces that ended before the anchor began, except the last one of them', () => {
    const sets = [set(1, 'full', 30), set(2, 'full', 10)];
    const d = selectExpiredSets(sets, now, 7);
    const piece = (id: number, endDaysAgo: number, active = false): RetainedPiece => ({ group: 't1', roundId: 1, pieceId: id, active, startAt: daysAgo(endDaysAgo + 1), endAt: daysAgo(endDaysAgo) });
    const pieces = [piece(1, 13), piece(2, 12), piece(3, 11), piece(4, 9), piece(5, 0, true)];
    expect(selectExpiredPieces(pieces, d.anchors).map((p) => p.pieceId)).toEqual([1, 2]);
  });
});

describe('where a destination lies inside a storage', () => {
  const oss = { type: 'oss' as const, path: 'bk/prod', endpoint: 'http://127.0.0.1:9000', access_key_id: 'id', access_key_secret: 'secret' };

  it('gives the key prefix of a file or OSS destination, credentials and query left out', () => {
    expect(relativeToStorage({ type: 'file', path: '/data/backup/' }, 'file:///data/backup/c1/t1/data')).toBe('c1/t1/data');
    expect(relativeToStorage({ type: 'file', path: '/data/backup' }, 'file:///data/backup')).toBe('');
    expect(relativeToStorage(oss, 'oss://bk/prod/c1/t1/data?host=http://127.0.0.1:9000')).toBe('c1/t1/data');
  });

  it('says undefined for a destination elsewhere (another directory, a sibling with a common prefix, another scheme)', () => {
    expect(relativeToStorage({ type: 'file', path: '/data/backup' }, 'file:///data/backup2/c1')).toBeUndefined();
    expect(relativeToStorage({ type: 'file', path: '/data/backup' }, 'oss://data/backup/c1?host=x')).toBeUndefined();
    expect(relativeToStorage(oss, 'oss://bk/other/c1?host=x')).toBeUndefined();
  });
});
