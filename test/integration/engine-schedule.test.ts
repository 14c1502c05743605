// The scheduler on simulated time against obsim 4.2.1: the runs a weekly and a monthly policy produce across
// a month (in their time zones, across a DST change), pause, catch-up once/skip after a stopped daemon, one
// data backup per cluster at a time, and the timeout flag.
import { afterEach, describe, expect, it } from 'vitest';
import { RunRepository } from '../../daemon/engine/runs.js';
import { openStore } from '../../daemon/store/index.js';
import { advanceBy, scheduledRuns, startHarness, waitApplied, type Harness } from '../support/engine.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const DAY = 86_400_000;
const HOUR = 3_600_000;


describe('a weekly policy in Asia/Shanghai over a month', () => {
  it('produces one run per scheduled day at 02:00 local time, fulls and incrementals as declared', { timeout: 120_000 }, async () => {
    // Mon 2025-03-03 00:00 UTC = 08:00 in Shanghai: Monday 02:00 has passed.
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({
      schedule: {
        period: 'weekly',
        time: '02:00',
        timezone: 'Asia/Shanghai',
        days: [
          { day: 1, type: 'full' },
          { day: 3, type: 'incremental' },
          { day: 5, type: 'incremental' },
        ],
      },
    });
    await waitApplied(h);
    await advanceBy(h, 31 * DAY);
    await h.d.daemon.engine!.settled();

    const runs = await scheduledRuns(h);
    // 02:00 in Shanghai (UTC+8) is 18:00 UTC the day before.
    expect(runs.map((r) => [r.scheduled_at, r.type])).toEqual([
      ['2025-03-04T18:00:00.000Z', 'incremental'], // Wed 5
      ['2025-03-06T18:00:00.000Z', 'incremental'], // Fri 7
      ['2025-03-09T18:00:00.000Z', 'full'], // Mon 10
      ['2025-03-11T18:00:00.000Z', 'incremental'],
      ['2025-03-13T18:00:00.000Z', 'incremental'],
      ['2025-03-16T18:00:00.000Z', 'full'],
      ['2025-03-18T18:00:00.000Z', 'incremental'],
      ['2025-03-20T18:00:00.000Z', 'incremental'],
      ['2025-03-23T18:00:00.000Z', 'full'],
      ['2025-03-25T18:00:00.000Z', 'incremental'],
      ['2025-03-27T18:00:00.000Z', 'incremental'],
      ['2025-03-30T18:00:00.000Z', 'full'], // Mon 31
      ['2025-04-01T18:00:00.000Z', 'incremental'], // Wed Apr 2
    ]);
    // The incrementals before the first full fail the pre-check; everything after it succeeds.
    expect(runs.slice(0, 2).map((r) => [r.state, r.error])).toEqual([
      ['failed', 'full data backup needed before incremental data backup.'],
      ['failed', 'full data backup needed before incremental data backup.'],
    ]);
    expect(runs.slice(2).every((r) => r.state === 'succeeded')).toBe(true);
    for (const r of runs.slice(2)) expect(new Date(r.started_at!).getTime() - new Date(r.scheduled_at).getTime()).toBeLessThan(60_000);

    // next_runs: the next five after now (Thu 2025-04-03 00:00 UTC)
    expect(h.d.daemon.engine!.scheduler.nextRuns('p1', 5).map((r) => [r.at.toISOString(), r.type])).toEqual([
      ['2025-04-03T18:00:00.000Z', 'incremental'],
      ['2025-04-06T18:00:00.000Z', 'full'],
      ['2025-04-08T18:00:00.000Z', 'incremental'],
      ['2025-04-10T18:00:00.000Z', 'incremental'],
      ['2025-04-13T18:00:00.000Z', 'full'],
    ]);
  });
});

describe('a monthly policy in America/New_York across the DST change', () => {
  it('runs on the 1st (full), 15th and 31st (incremental) at 01:30 local, skipping the 31st in April', { timeout: 120_000 }, async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-01T00:00:00Z') });
    await h.setup({
      schedule: {
        period: 'monthly',
        time: '01:30',
        timezone: 'America/New_York',
        days: [
          { day: 1, type: 'full' },
          { day: 15, type: 'incremental' },
          { day: 31, type: 'incremental' },
        ],
      },
    });
    await advanceBy(h, 62 * DAY, 12 * HOUR);
    const runs = await scheduledRuns(h);
    expect(runs.map((r) => [r.scheduled_at, r.type, r.state])).toEqual([
      ['2025-03-01T06:30:00.000Z', 'full', 'succeeded'], // EST, UTC-5
      ['2025-03-15T05:30:00.000Z', 'incremental', 'succeeded'], // EDT, UTC-4 from March 9
      ['2025-03-31T05:30:00.000Z', 'incremental', 'succeeded'],
      ['2025-04-01T05:30:00.000Z', 'full', 'succeeded'],
      ['2025-04-15T05:30:00.000Z', 'incremental', 'succeeded'],
      ['2025-05-01T05:30:00.000Z', 'full', 'succeeded'],
    ]);
  });
});

const daily = {
  period: 'weekly',
  time: '02:00',
  days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: 'full' })),
};

describe('catch-up after a stopped daemon', () => {
  for (const catchUp of ['once', 'skip'] as const) {
    it(`catch_up: ${catchUp}`, async () => {
      h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
      await h.setup({ schedule: daily, catch_up: catchUp });
      await h.advance(3 * HOUR); // Mon 02:00 runs
      await h.waitRun((await scheduledRuns(h))[0]!.id, (r) => r.state === 'succeeded');

      await h.stopDaemon();
      await h.clock.advance(3 * DAY + 5 * HOUR); // Tue, Wed, Thu 02:00 pass while it is down; now Thu 08:00
      await h.startDaemon();
      await h.advance(1_000);
      await h.d.daemon.engine!.settled();

      const runs = await scheduledRuns(h);
      const summary = runs.map((r) => [r.scheduled_at.slice(0, 10), r.trigger, r.state]);
      if (catchUp === 'once') {
        expect(summary.slice(0, 4)).toEqual([
          ['2025-03-03', 'scheduled', 'succeeded'],
          ['2025-03-04', 'scheduled', 'missed'],
          ['2025-03-05', 'scheduled', 'missed'],
          ['2025-03-06', 'catch_up', 'running'],
        ]);
        const caught = await h.waitRun(runs[3]!.id, (r) => r.state !== 'running');
        expect(caught.state).toBe('succeeded');
        expect(new Date(caught.started_at!).toISOString()).toBe('2025-03-06T08:00:00.000Z');
      } else {
        expect(summary).toEqual([
          ['2025-03-03', 'scheduled', 'succeeded'],
          ['2025-03-04', 'scheduled', 'missed'],
          ['2025-03-05', 'scheduled', 'missed'],
          ['2025-03-06', 'scheduled', 'missed'],
        ]);
        expect(runs[1]!.reason).toMatch(/not running at the scheduled time \(catch_up: skip\)/);
      }
      // and the schedule goes on: Friday 02:00 runs on time
      await h.advance(19 * HOUR);
      const friday = (await scheduledRuns(h)).find((r) => r.scheduled_at === '2025-03-07T02:00:00.000Z');
      expect(friday?.trigger).toBe('scheduled');
      expect(friday?.state === 'running' || friday?.state === 'succeeded').toBe(true);
    });
  }
});

describe('a run stored but not started when the daemon stopped', () => {
  /** Stops the daemon, stores a pending run due at `at` as if it had crashed right after, moves to `restartAt`, starts. */
  async function crashWithPending(x: Harness, at: string, restartAt: string): Promise<number> {
    await x.stopDaemon();
    const store = await openStore({ url: 'sqlite:', dataDir: x.d.dataDir });
    try {
      const { run } = await new RunRepository(store.db, x.clock).create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'scheduled', scheduled_at: new Date(at) });
      await x.clock.set(new Date(restartAt));
      await x.startDaemon();
      await x.advance(1_000);
      return run.id;
    } finally {
      await store.close();
    }
  }
  const backups = (x: Harness) => x.statements.filter((s) => /^ALTER SYSTEM BACKUP/i.test(s)).length;

  it('catch_up: skip — found three hours late: missed with the reason, nothing started', async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({ schedule: daily, catch_up: 'skip' });
    await waitApplied(h);
    const before = backups(h);
    const id = await crashWithPending(h, '2025-03-03T02:00:00.000Z', '2025-03-03T05:00:00.000Z');
    const run = await h.run(id);
    expect([run.state, run.reason]).toEqual(['missed', 'the daemon was not running at the scheduled time (catch_up: skip)']);
    expect(backups(h)).toBe(before);
  });

  it('catch_up: once — found three hours late and still the latest: runs as the catch-up', async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({ schedule: daily, catch_up: 'once' });
    await waitApplied(h);
    const id = await crashWithPending(h, '2025-03-03T02:00:00.000Z', '2025-03-03T05:00:00.000Z');
    const run = await h.waitRun(id, (r) => r.state === 'succeeded');
    expect(run.details).toMatchObject({ catch_up: true, started_late_ms: 3 * HOUR });
    expect((await scheduledRuns(h)).map((r) => [r.scheduled_at, r.state])).toEqual([['2025-03-03T02:00:00.000Z', 'succeeded']]);
  });

  it('catch_up: once — found two days late: missed; only the latest time since is caught up', async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({ schedule: daily, catch_up: 'once' });
    await waitApplied(h);
    const before = backups(h);
    await crashWithPending(h, '2025-03-03T02:00:00.000Z', '2025-03-05T05:00:00.000Z');
    const runs = await scheduledRuns(h);
    expect(runs.map((r) => [r.scheduled_at.slice(0, 10), r.trigger, r.state])).toEqual([
      ['2025-03-03', 'scheduled', 'missed'],
      ['2025-03-04', 'scheduled', 'missed'],
      ['2025-03-05', 'catch_up', 'running'],
    ]);
    expect(runs[0]!.reason).toBe('the daemon was not running at the scheduled time; only the latest missed run is caught up (catch_up: once)');
    expect((await h.waitRun(runs[2]!.id, (r) => r.state !== 'running')).state).toBe('succeeded');
    expect(backups(h) - before).toBe(1);
  });

  it('found within the grace: runs on time', async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({ schedule: daily, catch_up: 'skip' });
    await waitApplied(h);
    const id = await crashWithPending(h, '2025-03-03T02:00:00.000Z', '2025-03-03T02:02:00.000Z');
    const run = await h.waitRun(id, (r) => r.state === 'succeeded');
    expect(run.details.catch_up).toBeUndefined();
  });
});

describe('pause', () => {
  it('records paused times as skipped and starts nothing until resumed', async () => {
    h = await startHarness({ obVersion: '4.2.1', start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({ schedule: daily, paused: true });
    const before = h.statements.filter((s) => /^ALTER SYSTEM BACKUP/i.test(s)).length;
    await advanceBy(h, 2 * DAY);
    const runs = await scheduledRuns(h);
    expect(runs.map((r) => [r.scheduled_at, r.state, r.reason])).toEqual([
      ['2025-03-03T02:00:00.000Z', 'skipped', 'the policy is paused'],
      ['2025-03-04T02:00:00.000Z', 'skipped', 'the policy is paused'],
    ]);
    expect(h.statements.filter((s) => /^ALTER SYSTEM BACKUP/i.test(s)).length).toBe(before);
    expect(h.d.daemon.engine!.scheduler.nextRuns('p1')).toEqual([]);

    const current = (await h.api('GET', '/v1/policies/p1')).body;
    const res = await h.api('PUT', '/v1/policies/p1', { cluster: 'c1', storage: 's1', schedule: current.schedule, paused: false });
    expect(res.status, res.text).toBe(200);
    expect(h.d.daemon.engine!.scheduler.nextRuns('p1', 1)[0]!.at.toISOString()).toBe('2025-03-05T02:00:00.000Z');
    await advanceBy(h, 1 * DAY);
    const after = await scheduledRuns(h);
    expect(after[2]).toMatchObject({ scheduled_at: '2025-03-05T02:00:00.000Z', state: 'succeeded' });
  });
});

describe('one data backup per cluster at a time', () => {
  it('a run due while another runs waits for it, then starts; the long one is flagged past its timeout', async () => {
    // 600 MiB at 512 KiB/s: a backup takes about 20 minutes of simulated time
    h = await startHarness({
      obVersion: '4.2.1',
      start: new Date('2025-03-03T01:00:00Z'),
      obsim: { tunables: { tenantDataBytes: 600 * 1024 * 1024 } },
    });
    await h.setup({ schedule: daily, alarms: { data_backup_timeout_minutes: 10 } });
    await waitApplied(h);
    await h.advance(50 * 60_000); // 01:50
    const now = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(now.status, now.text).toBe(202);
    await h.advance(12 * 60_000); // 02:02: the scheduled run is due while the first one runs
    const [scheduled] = await scheduledRuns(h);
    expect(scheduled).toMatchObject({ scheduled_at: '2025-03-03T02:00:00.000Z', state: 'waiting' });
    expect(scheduled!.reason).toBe(`waiting for run ${now.body.id}, a data backup of the same cluster, to finish`);

    const first = await h.waitRun(now.body.id, (r) => r.state !== 'running', { stepMs: 60_000 });
    expect(first.state).toBe('succeeded');
    expect(first.timed_out_at).not.toBeNull();
    expect(first.steps.find((s) => s.name === 'timeout')?.message).toMatch(/more than data_backup_timeout_minutes \(10 min\); the backup goes on/);
    const second = await h.waitRun(scheduled!.id, (r) => r.state !== 'running' && r.state !== 'waiting', { stepMs: 60_000 });
    expect(second.state).toBe('succeeded');
    expect(new Date(second.started_at!).getTime()).toBeGreaterThanOrEqual(new Date(first.finished_at!).getTime());

    // OceanBase's own history: the two jobs never overlapped
    const jobs = await h.sim.query('SELECT job_id, start_timestamp, end_timestamp FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE tenant_id != 1 ORDER BY job_id');
    expect(jobs).toHaveLength(2);
    const end0 = new Date((jobs[0]!.END_TIMESTAMP ?? jobs[0]!.end_timestamp) as string).getTime();
    const start1 = new Date((jobs[1]!.START_TIMESTAMP ?? jobs[1]!.start_timestamp) as string).getTime();
    expect(start1).toBeGreaterThanOrEqual(end0);
  });
});
