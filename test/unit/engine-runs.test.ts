import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../daemon/engine/clock.js';
import { RunRepository } from '../../daemon/engine/runs.js';
import { openStore, type Store } from '../../daemon/store/index.js';

describe('run repository (SQLite)', () => {
  let dir: string;
  let store: Store;
  let clock: ManualClock;
  let runs: RunRepository;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-runs-'));
    store = await openStore({ url: 'sqlite:', dataDir: dir });
    clock = new ManualClock(Date.UTC(2025, 2, 1, 0, 0));
    runs = new RunRepository(store.db, clock);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one scheduled run per (policy, kind, scheduled time)', async () => {
    const at = new Date(Date.UTC(2025, 2, 3, 2, 0));
    const first = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'scheduled', scheduled_at: at });
    const again = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'scheduled', scheduled_at: at });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.run.id).toBe(first.run.id);
    const cleanup = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'cleanup', trigger: 'scheduled', scheduled_at: at });
    expect(cleanup.created).toBe(true);
    expect((await runs.latestScheduled('backup')).get('p1')?.toISOString()).toBe(at.toISOString());
  });

  it('gives immediate runs distinct keys at the same instant', async () => {
    const a = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'immediate' });
    const b = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'immediate' });
    expect(a.run.id).not.toBe(b.run.id);
    expect(b.run.scheduled_at > a.run.scheduled_at).toBe(true);
    // Immediate runs are not schedule markers.
    expect(await runs.latestScheduledFor('p1', 'backup')).toBeUndefined();
  });

  it('records steps, jobs and conditional transitions; lists newest first with paging', async () => {
    const { run } = await runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'full', trigger: 'immediate' });
    const step = await runs.addStep(run.id, 'precheck');
    await clock.advance(1000);
    await runs.finishStep(step, 'succeeded', 'log archive DOING');
    expect(await runs.transition(run.id, ['pending'], { state: 'running', started_at: clock.now() })).toBe(true);
    expect(await runs.transition(run.id, ['pending'], { state: 'running' })).toBe(false);
    await runs.update(run.id, { jobs: [{ tenant: 't1', job_id: 7, backup_set_id: 3 }], progress: 40 });
    const got = (await runs.get(run.id))!;
    expect(got.state).toBe('running');
    expect(got.ob_job_id).toBe(7);
    expect(got.progress).toBe(40);
    expect(got.steps).toMatchObject([{ name: 'precheck', state: 'succeeded', message: 'log archive DOING' }]);
    expect(got.steps[0]!.finished_at).toBe('2025-03-01T00:00:01.000Z');

    for (let i = 0; i < 4; i++) await runs.create({ policy: 'p2', cluster: 'c2', kind: 'backup', trigger: 'immediate' });
    const page1 = await runs.list({ limit: 3 });
    expect(page1.runs.map((r) => r.id)).toEqual([5, 4, 3]);
    const page2 = await runs.list({ limit: 3, cursor: page1.next_cursor! });
    expect(page2.runs.map((r) => r.id)).toEqual([2, 1]);
    expect(page2.next_cursor).toBeNull();
    expect((await runs.list({ cluster: 'c1' })).runs.map((r) => r.id)).toEqual([1]);
    expect((await runs.list({ state: ['running'] })).runs.map((r) => r.id)).toEqual([1]);
    expect((await runs.active({ cluster: 'c2' })).length).toBe(4);
  });
});

describe('ManualClock', () => {
  it('wakes sleepers in time order at their own instant', async () => {
    const clock = new ManualClock(0);
    const woke: Array<[string, number]> = [];
    void clock.sleep(300).then(() => woke.push(['b', clock.now().getTime()]));
    void clock.sleep(100).then(() => woke.push(['a', clock.now().getTime()]));
    expect(clock.pendingSleeps).toBe(2);
    await clock.advance(200);
    expect(woke).toEqual([['a', 100]]);
    await clock.advance(200);
    expect(woke).toEqual([['a', 100], ['b', 300]]);
    expect(clock.now().getTime()).toBe(400);
  });

  it('rejects an aborted sleep', async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow(/aborted/);
    expect(clock.pendingSleeps).toBe(0);
  });
});
