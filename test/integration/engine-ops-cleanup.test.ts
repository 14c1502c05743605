// Cleanup of expired backups against obsim (4.2.1 and 3.2.4) on File and OSS (osssim), simulated time.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 180_000 });
import { OpsEngine } from '../../daemon/engine/ops.js';
import { DAY, filesUnder, fileStorage, ossStorage, prepareCluster, register, startHarness, takeBackup, type Harness } from '../support/engine-ops.js';

const weekly = { period: 'weekly', time: '02:00', timezone: 'Asia/Shanghai', days: [{ day: 1, type: 'full' }] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** full, incremental, full, incremental three days apart: with 7 days of retention at day 16 the first pair has expired. */
async function fourBackups(harness: Harness) {
  const taken = [];
  taken.push(await takeBackup(harness, 'full'));
  await harness.advance(3 * DAY, 3_600_000);
  taken.push(await takeBackup(harness, 'incremental'));
  await harness.advance(5 * DAY, 3_600_000);
  taken.push(await takeBackup(harness, 'full'));
  await harness.advance(1 * DAY, 3_600_000);
  taken.push(await takeBackup(harness, 'incremental'));
  return taken;
}

async function runCleanupAtItsTime(harness: Harness) {
  // 04:00 in Asia/Shanghai is 20:00 UTC the day before: move to just past it and let the cadence fire
  const now = harness.clock.now();
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 20, 0, 30));
  if (next <= now) next.setUTCDate(next.getUTCDate() + 1);
  await harness.advance(next.getTime() - now.getTime(), 3_600_000);
  const started = await harness.ops.startDueRuns();
  expect(started.map((r) => r.kind)).toEqual(['cleanup']);
  const run = started[0]!;
  expect(run.scheduled_at).toBe(new Date(next.getTime() - 30_000).toISOString());
  await harness.driveUntil(async () => ['succeeded', 'failed'].includes((await harness.runs.get(run.id))!.state), { stepMs: 60_000, maxMs: 3 * 3_600_000, background: true });
  await harness.ops.idle();
  return (await harness.runs.get(run.id))!;
}

describe('cleanup on OceanBase 4.2.1', () => {
  it('deletes the expired backup sets on File storage by the delete policy and keeps the last full and its incremental', async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly, cleanup: { enabled: true, retention_days: 7, time: '04:00' } });
    await prepareCluster(h, primary);
    const taken = await fourBackups(h);
    expect(taken.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const dataDir = path.join(primary.path, 'c1/t1/data');
    expect(fs.readdirSync(dataDir).filter((d) => d.startsWith('backup_set_')).sort()).toEqual(['backup_set_1_full', 'backup_set_2_inc', 'backup_set_3_full', 'backup_set_4_inc']);
    await h.advance(7 * DAY, 3_600_000);

    const run = await runCleanupAtItsTime(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run.kind).toBe('cleanup');
    expect((run.details.expired as Array<{ backup_set_id: number }>).map((s) => s.backup_set_id)).toEqual([1, 2]);
    expect((run.details.anchors as Array<{ backup_set_id: number }>).map((s) => s.backup_set_id)).toEqual([3]);
    expect(run.steps.map((s) => [s.name, s.state])).toEqual([
      ['select', 'succeeded'],
      ['delete', 'succeeded'],
      ['verify', 'succeeded'],
    ]);
    // on disk: the expired pair is gone, the newest full and the incremental that needs it stay
    expect(fs.readdirSync(dataDir).filter((d) => d.startsWith('backup_set_')).sort()).toEqual(['backup_set_3_full', 'backup_set_4_inc']);
    expect(filesUnder(path.join(dataDir, 'backup_set_3_full')).length).toBeGreaterThan(3);
    const sets = await h.driver.listBackupSets();
    expect(sets.map((s) => [s.id, s.fileStatus])).toEqual([
      [1, 'DELETED'],
      [2, 'DELETED'],
      [3, 'AVAILABLE'],
      [4, 'AVAILABLE'],
    ]);
    // the delete policy carries the retention
    expect((await h.driver.getRetention())[0]).toMatchObject({ recoveryWindowSeconds: 7 * 86_400, autoDelete: true });
  });

  it('cleans OSS storage by SQL: the expired sets disappear from the bucket, the last full stays', async () => {
    h = await startHarness({ obVersion: '4.2.1', oss: true });
    const primary = ossStorage(h, 'primary-bk');
    await register(h, { primary }, { storage: 'primary', schedule: weekly, cleanup: { enabled: true, retention_days: 7, time: '04:00' } });
    await prepareCluster(h, primary);
    await fourBackups(h);
    const keys = () => h!.oss!.listObjects('primary-bk', 'backups/c1/t1/data/').map((o) => o.key);
    expect(keys().some((k) => k.includes('/backup_set_1_full/'))).toBe(true);
    await h.advance(7 * DAY, 3_600_000);

    const run = await runCleanupAtItsTime(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect((run.details.expired as Array<{ backup_set_id: number }>).map((s) => s.backup_set_id)).toEqual([1, 2]);
    expect(keys().some((k) => k.includes('/backup_set_1_full/') || k.includes('/backup_set_2_inc/'))).toBe(false);
    expect(keys().some((k) => k.includes('/backup_set_3_full/'))).toBe(true);
    expect(keys().some((k) => k.includes('/backup_set_4_inc/'))).toBe(true);
  });

  it('deletes nothing while the only full is inside the window, and says so', async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly, cleanup: { enabled: true, retention_days: 7, time: '04:00' } });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    await h.advance(2 * DAY, 3_600_000);
    await takeBackup(h, 'incremental');
    const run = await runCleanupAtItsTime(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run.details.expired).toEqual([]);
    expect(run.steps.find((s) => s.name === 'delete')).toMatchObject({ state: 'skipped', message: 'nothing to delete' });
    expect(fs.readdirSync(path.join(primary.path, 'c1/t1/data')).filter((d) => d.startsWith('backup_set_')).sort()).toEqual(['backup_set_1_full', 'backup_set_2_inc']);

    // the cadence neither repeats a recorded run nor loses one after a restart (a new engine on the same store)
    expect(await h.ops.startDueRuns()).toEqual([]);
    const restarted = new OpsEngine(h.ctx);
    expect(await restarted.startDueRuns()).toEqual([]);
    await h.advance(DAY, 3_600_000);
    const next = await restarted.startDueRuns();
    expect(next.map((r) => [r.kind, r.trigger])).toEqual([['cleanup', 'scheduled']]);
    expect(new Date(next[0]!.scheduled_at).getTime() - new Date(run.scheduled_at).getTime()).toBe(DAY);
    await h.driveUntil(async () => ['succeeded', 'failed'].includes((await h!.runs.get(next[0]!.id))!.state), { stepMs: 60_000, maxMs: 3_600_000, background: true });
    await restarted.idle();
  });
});

describe('cleanup on OceanBase 3.2.4', () => {
  it('deletes the expired sets oldest first with DELETE BACKUPSET and keeps the newest full', async () => {
    h = await startHarness({ obVersion: '3.2.4' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly, cleanup: { enabled: true, retention_days: 7, time: '04:00' } });
    await prepareCluster(h, primary);
    const taken = await fourBackups(h);
    expect(taken.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const before = await h.driver.listBackupSets();
    expect(before.filter((s) => s.copyId === 0).map((s) => [s.id, s.type])).toEqual([
      [1, 'full'],
      [2, 'incremental'],
      [3, 'full'],
      [4, 'incremental'],
    ]);
    await h.advance(7 * DAY, 3_600_000);

    const run = await runCleanupAtItsTime(h);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect((run.details.expired as Array<{ backup_set_id: number }>).map((s) => s.backup_set_id)).toEqual([1, 2]);
    const after = (await h.driver.listBackupSets()).filter((s) => s.copyId === 0);
    expect(after.map((s) => [s.id, s.fileStatus])).toEqual([
      [1, 'DELETED'],
      [2, 'DELETED'],
      [3, 'AVAILABLE'],
      [4, 'AVAILABLE'],
    ]);
    const history = await h.sim.query('SELECT type, parameter FROM oceanbase.CDB_OB_BACKUP_CLEAN_HISTORY WHERE tenant_id = 1 ORDER BY start_time');
    expect(history.map((r) => `${r.type} ${r.parameter}`)).toEqual(['DELETE BACKUP SET 1', 'DELETE BACKUP SET 2']);
  });
});
