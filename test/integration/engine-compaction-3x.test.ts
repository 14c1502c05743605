// The policy's compaction_before_full against obsim on simulated time: on 3.2.4 "require" (the default)
// keeps OCP's pre-check failure, "trigger" sends MAJOR FREEZE, waits for the merge in __all_zone and runs the
// full; a merge that outlasts the bound fails the run. On 4.2.1 the option changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { COMPACTION_NEEDED, type Run } from '../../daemon/engine/index.js';
import { startHarness, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const done = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);

/** frozen_version and last_merged_version of the cluster (zone '') as obsim shows them */
async function versions(x: Harness): Promise<{ frozen: number; merged: number }> {
  const rows = await x.sim.query("SELECT name, value FROM oceanbase.__all_zone WHERE zone = '' AND name IN ('frozen_version', 'last_merged_version')");
  const value = (name: string) => Number(rows.find((r) => (r.name ?? r.NAME) === name)?.value ?? rows.find((r) => (r.name ?? r.NAME) === name)?.VALUE);
  return { frozen: value('frozen_version'), merged: value('last_merged_version') };
}

const freezes = (x: Harness, from = 0) => writesIn(x.statements.slice(from)).filter((s) => /MAJOR\s+FREEZE/i.test(s));
const zoneReads = (x: Harness, from = 0) => x.statements.slice(from).filter((s) => /__all_zone/i.test(s));

describe('compaction_before_full on OceanBase 3.2.4', () => {
  it('"require" (the default) fails the full with OCP\'s message and triggers nothing', async () => {
    h = await startHarness({ obVersion: '3.2.4', tenants: ['app'] });
    await h.setup();
    await waitApplied(h);
    expect((await h.api('GET', '/v1/policies/p1')).body.compaction_before_full).toBe('require');

    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(409);
    expect(res.body).toMatchObject({ error: 'precheck_failed', message: COMPACTION_NEEDED });
    // a scheduled full (Monday 02:00) fails the same way
    await h.advance(7 * 86_400_000);
    const runs = (await h.api('GET', '/v1/runs?policy=p1&kind=backup&trigger=scheduled')).body.items as Run[];
    const full = runs.find((r) => r.type === 'full')!;
    expect(full).toMatchObject({ state: 'failed', error: COMPACTION_NEEDED });
    expect(full.steps.find((s) => s.name === 'precheck:compaction')).toMatchObject({ state: 'failed', message: COMPACTION_NEEDED });
    expect(freezes(h)).toEqual([]);
    expect(await versions(h)).toEqual({ frozen: 1, merged: 1 });
  });

  it('"trigger" sends MAJOR FREEZE, waits for the merge in every zone, then runs the full', async () => {
    h = await startHarness({ obVersion: '3.2.4', tenants: ['app'] });
    await h.setup({ compaction_before_full: 'trigger' });
    await waitApplied(h);
    expect((await h.api('GET', '/v1/policies/p1')).body.compaction_before_full).toBe('trigger');
    const before = h.statements.length;

    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    expect(res.body.steps.find((s: { name: string }) => s.name === 'precheck:compaction')).toMatchObject({
      state: 'skipped',
      message: `${COMPACTION_NEEDED}; the run triggers a major compaction and waits for its merge`,
    });
    const run = await h.waitRun(res.body.id, done);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    const compaction = run.steps.filter((s) => s.name === 'precheck:compaction').at(-1)!;
    expect(compaction.state).toBe('succeeded');
    expect(compaction.message).toMatch(/^major compaction to version 2 merged in every zone after \d+ s$/);
    // the compaction came before the backup
    const names = run.steps.map((s) => s.name);
    expect(names.lastIndexOf('precheck:compaction')).toBeLessThan(names.indexOf('start'));

    // obsim: one new major freeze, merged, and the backup set pinned to it
    expect(freezes(h, before)).toEqual(['ALTER SYSTEM MAJOR FREEZE']);
    expect(await versions(h)).toEqual({ frozen: 2, merged: 2 });
    const sets = await h.sim.query('SELECT bs_key, backup_type, status, backup_data_version FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id = 0');
    expect(sets.map((s) => [s.backup_type ?? s.BACKUP_TYPE, s.status ?? s.STATUS, s.backup_data_version ?? s.BACKUP_DATA_VERSION])).toEqual([['D', 'SUCCESS', 2]]);

    // the next full needs a newer compaction again: a second freeze, version 3
    const next = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(next.status, next.text).toBe(202);
    expect((await h.waitRun(next.body.id, done)).state).toBe('succeeded');
    expect(freezes(h, before)).toHaveLength(2);
    expect(await versions(h)).toEqual({ frozen: 3, merged: 3 });
  });

  it('fails the run when the merge does not finish within the bound, polling at a widening interval', async () => {
    h = await startHarness({
      obVersion: '3.2.4',
      tenants: ['app'],
      obsim: { tunables: { mergeDurationMs: 4 * 3_600_000 } },
      engine: { backup: { compactionWaitMs: 30 * 60_000 } },
    });
    await h.setup({ compaction_before_full: 'trigger' });
    await waitApplied(h);
    const before = h.statements.length;
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const midway = await h.waitRun(res.body.id, (r) => /waiting for the major compaction/.test(r.steps.at(-1)?.message ?? ''), { stepMs: 10_000 });
    expect(midway.steps.at(-1)!.message).toMatch(/^waiting for the major compaction \(frozen version 2, last merged 1, MERGING\), \d+ s so far$/);

    const run = await h.waitRun(res.body.id, done, { stepMs: 60_000 });
    expect(run.state).toBe('failed');
    expect(run.error).toBe('the major compaction did not finish within 30 min (frozen version 2, last merged 1, MERGING); the full backup was not started');
    expect(run.steps.at(-1)).toMatchObject({ name: 'precheck:compaction', state: 'failed', message: run.error });
    expect(run.steps.some((s) => s.name === 'start')).toBe(false);
    expect(freezes(h, before)).toHaveLength(1);
    // 10 s, then ×1.5 up to a minute: about 35 reads in 30 min, not one every second
    const reads = zoneReads(h, before).length;
    expect(reads).toBeGreaterThan(20);
    expect(reads).toBeLessThan(50);
    const sets = await h.sim.query('SELECT bs_key FROM oceanbase.CDB_OB_BACKUP_SET_FILES');
    expect(sets).toEqual([]);
  });
});

describe('compaction_before_full on OceanBase 4.2.1', () => {
  it('"trigger" has no effect: no compaction pre-check, no MAJOR FREEZE', async () => {
    h = await startHarness({ obVersion: '4.2.1', tenants: ['app'] });
    await h.setup({ compaction_before_full: 'trigger' });
    await waitApplied(h);
    const before = h.statements.length;
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const run = await h.waitRun(res.body.id, done);
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    expect(run.steps.some((s) => s.name === 'precheck:compaction')).toBe(false);
    expect(freezes(h, before)).toEqual([]);
  });
});
