// The scheduler on simulated time against obsim 3.2.4: a weekly policy over two weeks. A 3.x full needs a
// major compaction newer than the archive start and the last backup; the reference documents no daily merge
// to count on, so the policy asks the run to trigger one (compaction_before_full: trigger).
import { afterEach, describe, expect, it } from 'vitest';
import { advanceBy, scheduledRuns, startHarness, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const DAY = 86_400_000;

describe('a weekly policy on OceanBase 3.2.4 over two weeks', () => {
  it('runs the fulls (each after its own major compaction) and the incrementals as declared, all succeeding', { timeout: 120_000 }, async () => {
    h = await startHarness({ obVersion: '3.2.4', tenants: ['app', 'crm'], start: new Date('2025-03-03T00:00:00Z') });
    await h.setup({
      compaction_before_full: 'trigger',
      schedule: {
        period: 'weekly',
        time: '02:00',
        days: [
          { day: 1, type: 'full' },
          { day: 3, type: 'incremental' },
          { day: 5, type: 'incremental' },
        ],
      },
    });
    await waitApplied(h);
    const before = h.statements.length;
    await advanceBy(h, 15 * DAY);
    await h.d.daemon.engine!.settled();

    const runs = await scheduledRuns(h);
    expect(runs.map((r) => [r.scheduled_at, r.type, r.state])).toEqual([
      ['2025-03-03T02:00:00.000Z', 'full', 'succeeded'],
      ['2025-03-05T02:00:00.000Z', 'incremental', 'succeeded'],
      ['2025-03-07T02:00:00.000Z', 'incremental', 'succeeded'],
      ['2025-03-10T02:00:00.000Z', 'full', 'succeeded'],
      ['2025-03-12T02:00:00.000Z', 'incremental', 'succeeded'],
      ['2025-03-14T02:00:00.000Z', 'incremental', 'succeeded'],
      ['2025-03-17T02:00:00.000Z', 'full', 'succeeded'],
    ]);
    for (const r of runs) {
      expect(new Date(r.started_at!).getTime() - new Date(r.scheduled_at).getTime()).toBeLessThan(60_000);
      const compaction = r.steps.find((s) => s.name === 'precheck:compaction');
      if (r.type === 'full') expect(compaction).toMatchObject({ state: 'succeeded', message: expect.stringMatching(/^major compaction to version \d+ merged in every zone/) });
      else expect(compaction).toBeUndefined();
    }

    // one MAJOR FREEZE per full, none for the incrementals; each full pinned to its own frozen version
    expect(writesIn(h.statements.slice(before)).filter((w) => /MAJOR FREEZE/.test(w))).toHaveLength(3);
    const sets = await h.sim.query('SELECT bs_key, backup_type, status, backup_data_version FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id = 0 ORDER BY bs_key');
    expect(sets.map((s) => [s.backup_type ?? s.BACKUP_TYPE, s.status ?? s.STATUS, s.backup_data_version ?? s.BACKUP_DATA_VERSION])).toEqual([
      ['D', 'SUCCESS', 2],
      ['I', 'SUCCESS', 2],
      ['I', 'SUCCESS', 2],
      ['D', 'SUCCESS', 3],
      ['I', 'SUCCESS', 3],
      ['I', 'SUCCESS', 3],
      ['D', 'SUCCESS', 4],
    ]);
    expect(runs.map((r) => r.backup_set_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
