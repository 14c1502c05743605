// Secondary backup against obsim: 4.2.1 copies made by the daemon (verified byte for byte on disk and in
// osssim, resumable, secondary retention), 3.2.4 by the database's backup of backups.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run } from '../../daemon/engine/runs.js';
import { DAY, filesUnder, fileStorage, ossStorage, prepareCluster, register, startHarness, takeBackup, type Harness } from '../support/engine-ops.js';

vi.setConfig({ testTimeout: 180_000 });

const weekly = { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }, { day: 4, type: 'incremental' }] };
const secondarySchedule = { period: 'weekly', time: '05:00', days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: 'full' })) };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function secondaryRunNow(harness: Harness): Promise<Run> {
  const policy = (await import('../../daemon/engine/ops-context.js')).policyFrom((await harness.store.resources.get('policies', 'p1'))!);
  const run = await harness.ops.runNow(policy, 'secondary');
  await harness.driveUntil(async () => ['succeeded', 'failed'].includes((await harness.runs.get(run.id))!.state), { stepMs: 10_000, maxMs: 6 * 3_600_000, background: true });
  await harness.ops.idle();
  return (await harness.runs.get(run.id))!;
}

function sameTree(a: string, b: string, sub: string): string[] {
  const files = filesUnder(path.join(a, sub));
  for (const f of files) {
    const left = fs.readFileSync(path.join(a, sub, f));
    const right = fs.readFileSync(path.join(b, sub, f));
    expect(right.equals(left), `${sub}/${f} differs`).toBe(true);
  }
  return files;
}

describe('secondary backup on OceanBase 4.2.1 (copy by the daemon)', () => {
  it('copies completed backup sets and frozen pieces file to file, byte for byte, then only what is new, and applies the secondary retention', async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const primary = fileStorage(h, 'primary');
    const dr = fileStorage(h, 'dr');
    await register(h, { primary, dr }, { storage: 'primary', schedule: weekly, secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: secondarySchedule } });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    await takeBackup(h, 'incremental');
    await h.advance(1.5 * DAY, 3_600_000);

    const first = await secondaryRunNow(h);
    expect(first.state, first.error ?? '').toBe('succeeded');
    expect(first.kind).toBe('secondary');
    expect(first.progress).toBe(100);
    expect(first.steps.map((s) => [s.name, s.state])).toEqual([
      ['prepare', 'succeeded'],
      ['select', 'succeeded'],
      ['copy', 'succeeded'],
      ['retention', 'succeeded'],
    ]);
    const copied = first.details.to_copy as Array<{ object: string; id: string }>;
    expect(copied.filter((c) => c.object === 'set').map((c) => c.id)).toEqual(['1', '2']);
    expect(copied.filter((c) => c.object === 'piece').map((c) => c.id)).toEqual(['1/1']);
    // byte for byte on disk: the sets, their markers, the frozen piece and the destinations' format files
    expect(sameTree(primary.path, dr.path, 'c1/t1/data/backup_set_1_full').length).toBeGreaterThan(3);
    expect(sameTree(primary.path, dr.path, 'c1/t1/data/backup_set_2_inc').length).toBeGreaterThan(2);
    expect(sameTree(primary.path, dr.path, 'c1/t1/archive/piece_d1001r1p1').length).toBeGreaterThan(0);
    for (const f of ['c1/t1/data/format.obbak', 'c1/t1/archive/format.obarc']) expect(fs.readFileSync(path.join(dr.path, f)).equals(fs.readFileSync(path.join(primary.path, f)))).toBe(true);
    expect(filesUnder(path.join(dr.path, 'c1/t1/data/backup_sets')).filter((f) => f.startsWith('backup_set_1_full_end_success'))).toHaveLength(1);
    // the active piece is not copied
    expect(fs.existsSync(path.join(dr.path, 'c1/t1/archive/piece_d1001r1p2'))).toBe(false);

    // a second run finds everything on the secondary already: nothing to copy
    const second = await secondaryRunNow(h);
    expect(second.state, second.error ?? '').toBe('succeeded');
    expect(second.details.to_copy).toEqual([]);

    // ten days and a new full later, the first copies are older than the 7-day secondary retention
    await h.advance(10 * DAY, 3_600_000);
    await takeBackup(h, 'full');
    await h.advance(1 * DAY, 3_600_000);
    const third = await secondaryRunNow(h);
    expect(third.state, third.error ?? '').toBe('succeeded');
    expect((third.details.to_copy as Array<{ object: string; id: string }>).filter((c) => c.object === 'set').map((c) => c.id)).toEqual(['3']);
    const deleted = (third.details.deleted as Array<{ object: string; id: string }>).filter((d) => d.object === 'set').map((d) => d.id);
    expect(deleted).toEqual([]);
    // set 3 is the anchor only once it ended 7 days ago
    await h.advance(8 * DAY, 3_600_000);
    const fourth = await secondaryRunNow(h);
    expect(fourth.state, fourth.error ?? '').toBe('succeeded');
    expect((fourth.details.deleted as Array<{ object: string; id: string }>).filter((d) => d.object === 'set').map((d) => d.id)).toEqual(['1', '2']);
    expect(fs.existsSync(path.join(dr.path, 'c1/t1/data/backup_set_1_full'))).toBe(false);
    expect(fs.existsSync(path.join(dr.path, 'c1/t1/data/backup_set_2_inc'))).toBe(false);
    expect(sameTree(primary.path, dr.path, 'c1/t1/data/backup_set_3_full').length).toBeGreaterThan(3);
    // the primary keeps its own (its cleanup is not enabled)
    expect(fs.existsSync(path.join(primary.path, 'c1/t1/data/backup_set_1_full'))).toBe(true);
    const rows = await h.store.db.selectFrom('secondary_copies').select(['object', 'object_id', 'deleted_at']).where('object', '=', 'set').orderBy('id').execute();
    expect(rows.map((r) => [r.object_id, r.deleted_at !== null])).toEqual([
      ['1', true],
      ['2', true],
      ['3', false],
    ]);
  });

  it('copies file to OSS, verified against the bytes in the bucket', async () => {
    h = await startHarness({ obVersion: '4.2.1', oss: true });
    const primary = fileStorage(h, 'primary');
    const dr = ossStorage(h, 'dr-bk');
    await register(h, { primary, dr }, { storage: 'primary', schedule: weekly, secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: secondarySchedule } });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    const run = await secondaryRunNow(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    const files = filesUnder(path.join(primary.path, 'c1/t1/data/backup_set_1_full'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const inBucket = await h.oss!.readObject('dr-bk', `backups/c1/t1/data/backup_set_1_full/${f}`);
      expect(Buffer.from(inBucket).equals(fs.readFileSync(path.join(primary.path, 'c1/t1/data/backup_set_1_full', f))), f).toBe(true);
    }
  });

  it('fails the run with the storage error when the secondary cannot be written, and the next run resumes', async () => {
    h = await startHarness({ obVersion: '4.2.1', oss: true });
    const primary = fileStorage(h, 'primary');
    const dr = ossStorage(h, 'dr-bk');
    await register(h, { primary, dr }, { storage: 'primary', schedule: weekly, secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: secondarySchedule } });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    h.oss!.injectFault({ operation: 'PutObject', keyPrefix: 'backups/c1/t1/data/backup_set_1_full/logstream_1001', kind: 'error', status: 403, code: 'AccessDenied', times: 100 });
    const failed = await secondaryRunNow(h);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/backup_set_1_full/);
    expect(failed.error).not.toContain('test-secret-value');
    expect(failed.steps.find((s) => s.state === 'failed')?.name).toBe('copy');
    h.oss!.clearFaults();
    const again = await secondaryRunNow(h);
    expect(again.state, again.error ?? '').toBe('succeeded');
    expect(again.details.skipped_objects as number).toBeGreaterThan(0);
  });
});

describe("secondary backup on OceanBase 3.2.4 (the database's backup of backups)", () => {
  it('points backup_backup_dest at the secondary storage and follows BACKUP BACKUPSET / BACKUPPIECE to their end', async () => {
    h = await startHarness({ obVersion: '3.2.4' });
    const primary = fileStorage(h, 'primary');
    const dr = fileStorage(h, 'dr');
    await register(h, { primary, dr }, { storage: 'primary', schedule: weekly, secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: secondarySchedule } });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    await h.advance(1.5 * DAY, 3_600_000);
    const run = await secondaryRunNow(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run.steps.map((s) => [s.name, s.state])).toEqual([
      ['prepare', 'succeeded'],
      ['destination', 'succeeded'],
      ['copy backup sets', 'succeeded'],
      ['copy archive pieces', 'succeeded'],
    ]);
    const dest = await h.driver.getDestination(null);
    expect(dest.secondaryDest).toBe(`file://${dr.path}/c1`);
    const copies = await h.sim.query('SELECT bs_key, copy_id, file_status FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id > 0');
    expect(copies.map((r) => [r.bs_key, r.copy_id])).toEqual([[1, 1]]);
    expect(filesUnder(path.join(dr.path, 'c1')).length).toBeGreaterThan(0);
    const jobs = await h.sim.query('SELECT job_id, status FROM oceanbase.CDB_OB_BACKUP_BACKUPSET_JOB_HISTORY');
    expect(jobs.length).toBe(1);

    // nothing new: the run says so and succeeds
    const again = await secondaryRunNow(h);
    expect(again.state, again.error ?? '').toBe('succeeded');
    expect(again.steps.find((s) => s.name === 'copy backup sets')).toMatchObject({ state: 'skipped' });
  });
});
