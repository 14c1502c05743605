import { describe, expect, it } from 'vitest';
import { decideDue, judgeStoredRun } from '../../daemon/scheduler/due.js';
import { scheduleSpec, type Schedule } from '../../model/index.js';

const weekly: Schedule = scheduleSpec.parse({
  period: 'weekly',
  time: '02:00',
  timezone: 'Asia/Shanghai',
  days: [
    { day: 1, type: 'full' },
    { day: 3, type: 'incremental' },
    { day: 5, type: 'incremental' },
  ],
});
// 2026-11-30 is a Monday; 02:00 in Shanghai is 18:00 UTC the day before.
const monFull = new Date('2026-11-29T18:00:00Z');
const wedInc = new Date('2026-12-01T18:00:00Z');
const friInc = new Date('2026-12-03T18:00:00Z');

describe('decideDue', () => {
  it('starts nothing before the first scheduled time', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-11-29T17:59:00Z'), catchUp: 'once' });
    expect(d).toEqual({ skipped: [] });
  });

  it('starts the run on time, with the type of that day, in the policy time zone', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-11-29T18:00:30Z'), catchUp: 'once' });
    expect(d.run).toEqual({ at: monFull, type: 'full', catchUp: false });
    expect(d.skipped).toEqual([]);
  });

  it('does not repeat a run already recorded', () => {
    const d = decideDue({ schedule: weekly, after: monFull, now: new Date('2026-11-29T18:01:00Z'), catchUp: 'once' });
    expect(d.run).toBeUndefined();
  });

  it('catch_up once runs the latest missed run once, as a full when a full was missed', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-12-04T09:00:00Z'), catchUp: 'once' });
    expect(d.run).toEqual({ at: friInc, type: 'full', catchUp: true });
    expect(d.skipped.map((r) => [r.at.toISOString(), r.reason])).toEqual([
      [monFull.toISOString(), 'missed'],
      [wedInc.toISOString(), 'missed'],
    ]);
  });

  it('catch_up once keeps an incremental when only incrementals were missed', () => {
    const d = decideDue({ schedule: weekly, after: monFull, now: new Date('2026-12-04T09:00:00Z'), catchUp: 'once' });
    expect(d.run).toEqual({ at: friInc, type: 'incremental', catchUp: true });
    expect(d.skipped.map((r) => r.at)).toEqual([wedInc]);
  });

  it('catch_up skip records every missed run and starts none', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-12-04T09:00:00Z'), catchUp: 'skip' });
    expect(d.run).toBeUndefined();
    expect(d.skipped.map((r) => r.reason)).toEqual(['missed', 'missed', 'missed']);
  });

  it('a missed run followed by one on time: the on-time run starts, the other is recorded missed', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-12-01T18:02:00Z'), catchUp: 'once' });
    expect(d.run).toEqual({ at: wedInc, type: 'incremental', catchUp: false });
    expect(d.skipped).toEqual([{ at: monFull, type: 'full', reason: 'missed' }]);
  });

  it('paused records due runs as paused and starts none', () => {
    const d = decideDue({ schedule: weekly, after: new Date('2026-11-28T00:00:00Z'), now: new Date('2026-11-29T18:00:30Z'), catchUp: 'once', paused: true });
    expect(d.run).toBeUndefined();
    expect(d.skipped).toEqual([{ at: monFull, type: 'full', reason: 'paused' }]);
  });

  it('a monthly schedule skips days a month lacks', () => {
    const monthly = scheduleSpec.parse({ period: 'monthly', time: '03:00', days: [{ day: 31, type: 'full' }] });
    const d = decideDue({ schedule: monthly, after: new Date('2027-01-31T03:00:00Z'), now: new Date('2027-03-31T03:00:10Z'), catchUp: 'skip' });
    expect(d.run).toEqual({ at: new Date('2027-03-31T03:00:00Z'), type: 'full', catchUp: false });
    expect(d.skipped).toEqual([]);
  });
});

describe('judgeStoredRun (a run stored but never started, found later)', () => {
  const at = monFull;
  const minutes = (n: number) => new Date(at.getTime() + n * 60_000);

  it('within the grace it runs, in both modes', () => {
    for (const catchUp of ['once', 'skip'] as const) expect(judgeStoredRun({ schedule: weekly, at, now: minutes(4), catchUp })).toEqual({ run: true, catchUp: false });
  });

  it('later, with skip: missed, saying why', () => {
    expect(judgeStoredRun({ schedule: weekly, at, now: minutes(180), catchUp: 'skip' })).toEqual({
      run: false,
      state: 'missed',
      reason: 'the daemon was not running at the scheduled time (catch_up: skip)',
    });
  });

  it('later, with once: the catch-up when it is still the latest scheduled time', () => {
    expect(judgeStoredRun({ schedule: weekly, at, now: minutes(180), catchUp: 'once' })).toEqual({ run: true, catchUp: true });
  });

  it('with once, missed when a later scheduled time has passed since (that one is caught up instead)', () => {
    expect(judgeStoredRun({ schedule: weekly, at, now: new Date(wedInc.getTime() + 60_000), catchUp: 'once' })).toEqual({
      run: false,
      state: 'missed',
      reason: 'the daemon was not running at the scheduled time; only the latest missed run is caught up (catch_up: once)',
    });
  });

  it('a paused policy: skipped', () => {
    expect(judgeStoredRun({ schedule: weekly, at, now: minutes(1), catchUp: 'once', paused: true })).toEqual({ run: false, state: 'skipped', reason: 'the policy is paused' });
  });
});
