// The secondary retention on OceanBase 3.x (obsim 3.2.4, simulated time): applying the policy puts
// secondary.retention_days into backup_backup_dest_option (recovery_window, auto_delete_obsolete_backup),
// once; turning secondary backup off or deleting the policy resets it; and the database then expires the
// copies past the window by itself.
import fs from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../daemon/engine/index.js';
import { startHarness, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness | undefined;
let secondaryDir: string | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
  if (secondaryDir) await fs.rm(secondaryDir, { recursive: true, force: true });
  secondaryDir = undefined;
});

const DAY = 86_400_000;
const done = (r: Run) => !['pending', 'waiting', 'running'].includes(r.state);
const weeklyCopies = { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] };
const secondary = (retention_days: number) => ({ enabled: true, storage: 's2', retention_days, schedule: weeklyCopies });

async function start(policy: Record<string, unknown>): Promise<Harness> {
  const x = await startHarness({ obVersion: '3.2.4', tenants: ['app'] });
  secondaryDir = `${x.storageDir}-dr`;
  await fs.mkdir(secondaryDir, { recursive: true });
  let res = await x.api('PUT', '/v1/clusters/c1', { host: x.sim.host, port: x.sim.port, user: 'root@sys', password: 'Sys-Pa55word' });
  expect(res.status, res.text).toBe(201);
  for (const [name, dir] of [['s1', x.storageDir], ['s2', secondaryDir]]) {
    res = await x.api('PUT', `/v1/storages/${name}`, { type: 'file', path: dir, capacity_alarm_threshold: 99 });
    expect(res.status, res.text).toBe(201);
  }
  await putPolicy(x, policy, 201);
  await waitApplied(x);
  return x;
}

async function putPolicy(x: Harness, policy: Record<string, unknown>, status = 200): Promise<void> {
  const res = await x.api('PUT', '/v1/policies/p1', {
    cluster: 'c1',
    storage: 's1',
    schedule: { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] },
    ...policy,
  });
  expect(res.status, res.text).toBe(status);
  await x.d.daemon.engine!.settled();
}

async function param(x: Harness, name: string): Promise<string> {
  const rows = await x.sim.query(`SHOW PARAMETERS LIKE '${name}'`);
  return String(rows[0]?.value ?? rows[0]?.VALUE ?? '');
}

/** Applies the current policy version now; returns the writes it sent. */
async function applyWrites(x: Harness): Promise<string[]> {
  const before = x.statements.length;
  await x.d.daemon.engine!.applyNow('p1');
  return writesIn(x.statements.slice(before));
}

describe('applying the secondary retention (3.x)', () => {
  it('sets backup_backup_dest_option once, changes only it, resets it when secondary backup is turned off or the policy deleted', async () => {
    h = await start({ secondary: secondary(7) });
    expect(await param(h, 'backup_backup_dest_option')).toBe('recovery_window=7d&auto_delete_obsolete_backup=true');
    expect(await param(h, 'backup_backup_dest')).toBe(`file://${secondaryDir}/c1`);
    expect(await applyWrites(h)).toEqual([]);

    // a longer retention: that option alone
    let before = h.statements.length;
    await putPolicy(h, { secondary: secondary(10) });
    await waitApplied(h);
    expect(writesIn(h.statements.slice(before))).toEqual(["ALTER SYSTEM SET backup_backup_dest_option = 'recovery_window=10d&auto_delete_obsolete_backup=true'"]);
    expect(await applyWrites(h)).toEqual([]);

    // secondary off: the copies' window is reset (and log pieces, which only secondary backup needs, stop)
    before = h.statements.length;
    await putPolicy(h, { secondary: { enabled: false } });
    await waitApplied(h);
    const off = writesIn(h.statements.slice(before));
    expect(off).toContain("ALTER SYSTEM SET backup_backup_dest_option = 'recovery_window=0&auto_delete_obsolete_backup=false'");
    expect(off).toHaveLength(2);
    expect(off.find((w) => !/backup_backup_dest_option/.test(w))).toMatch(/^ALTER SYSTEM SET backup_dest_option = '.*log_archive_piece_switch_interval=0/);
    expect(await applyWrites(h)).toEqual([]);
    expect((await h.d.daemon.engine!.policyStates.get('p1'))?.applied?.secondaryRetention).toBe(false);

    // on again, then the policy deleted: reset with the rest of what the policy set
    await putPolicy(h, { secondary: secondary(7) });
    await waitApplied(h);
    expect(await param(h, 'backup_backup_dest_option')).toBe('recovery_window=7d&auto_delete_obsolete_backup=true');
    const res = await h.api('DELETE', '/v1/policies/p1');
    expect(res.status, res.text).toBe(204);
    for (let i = 0; i < 5; i++) await h.advance(1_000);
    expect(await param(h, 'backup_backup_dest_option')).toBe('recovery_window=0&auto_delete_obsolete_backup=false');
    expect(await param(h, 'backup_dest_option')).toContain('recovery_window=0');
  });
});

describe('the database expiring secondary copies (3.x)', () => {
  it('deletes the copies older than secondary.retention_days after a newer full was copied; the primary keeps its sets', { timeout: 120_000 }, async () => {
    // paused: only the fulls taken here (backup now works on a paused policy)
    h = await start({ secondary: secondary(7), compaction_before_full: 'trigger', paused: true });
    const engine = h.d.daemon.engine!;
    const full = async () => {
      const res = await h!.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
      expect(res.status, res.text).toBe(202);
      expect((await h!.waitRun(res.body.id, done)).state).toBe('succeeded');
    };
    const copy = async () => {
      const run = await engine.ops.runNow((await engine.ops.policies()).find((p) => p.name === 'p1')!, 'secondary');
      const ended = await h!.waitRun(run.id, done, { stepMs: 10_000 });
      expect(ended.state, ended.error ?? '').toBe('succeeded');
    };
    const copies = async () =>
      (await h!.sim.query('SELECT DISTINCT bs_key, file_status FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id = 1 ORDER BY bs_key')).map((r) => [
        Number(r.bs_key ?? r.BS_KEY),
        String(r.file_status ?? r.FILE_STATUS),
      ]);
    const copiedSet = async (id: number) => (await fs.readdir(secondaryDir!, { recursive: true })).some((f) => f.includes(`/data/backup_set_${id}/`));

    await full();
    await copy();
    expect(await copies()).toEqual([[1, 'AVAILABLE']]);
    expect(await copiedSet(1)).toBe(true);

    for (let i = 0; i < 8 * 4; i++) await h.advance(DAY / 4);
    await full();
    await copy();
    // set 1 is the newest copied full a window old: the copy it is stays
    expect(await copies()).toEqual([
      [1, 'AVAILABLE'],
      [2, 'AVAILABLE'],
    ]);

    for (let i = 0; i < 8 * 4; i++) await h.advance(DAY / 4);
    expect(await copies()).toEqual([
      [1, 'DELETED'],
      [2, 'AVAILABLE'],
    ]);
    expect(await copiedSet(1)).toBe(false);
    expect(await copiedSet(2)).toBe(true);
    const primary = await h.sim.query('SELECT DISTINCT bs_key, file_status FROM oceanbase.CDB_OB_BACKUP_SET_FILES WHERE tenant_id = 1 AND copy_id = 0 ORDER BY bs_key');
    expect(primary.map((r) => String(r.file_status ?? r.FILE_STATUS))).toEqual(['AVAILABLE', 'AVAILABLE']);
  });
});
