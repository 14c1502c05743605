// A daemon stopped (killed) during a secondary backup leaves its run "running" in the store; the daemon
// that takes over (the same one restarted, or another on the store) starts it again. What the first
// attempt copied stays and is skipped, so the copy completes without being redone, and later runs of the
// policy are not blocked behind a run nobody executes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunRepository, type Run } from '../../daemon/engine/runs.js';
import { PARTIAL_SUFFIX } from '../../daemon/storage/index.js';
import { openStore } from '../../daemon/store/index.js';
import { startHarness, waitApplied, type Harness } from '../support/engine.js';

let h: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
}

describe('a secondary backup run left under way by a stopped daemon', () => {
  it('is started again by the daemon that takes over, keeping what was copied, and succeeds', { timeout: 120_000 }, async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const drDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-dr-'));
    dirs.push(drDir);
    const dr = await h.api('PUT', '/v1/storages/dr', { type: 'file', path: drDir });
    expect(dr.status, dr.text).toBe(201);
    await h.setup({
      cleanup: { enabled: true, retention_days: 30 },
      secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
    });
    await waitApplied(h);
    const backup = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(backup.status, backup.text).toBe(202);
    const done = await h.waitRun(backup.body.id, (r: Run) => !['pending', 'running'].includes(r.state), { stepMs: 2_000 });
    expect(done.state, JSON.stringify(done.steps)).toBe('succeeded');

    // What a kill in the middle of the copy leaves: the run "running" under a daemon that is gone, one
    // file of the set already on the secondary storage and another cut off as a partial file.
    await h.stopDaemon();
    const setFiles = filesUnder(h.storageDir).filter((f) => f.includes('backup_set_1_full/'));
    expect(setFiles.length).toBeGreaterThan(2);
    const [copiedBefore, cutOff] = setFiles;
    fs.mkdirSync(path.dirname(path.join(drDir, copiedBefore!)), { recursive: true });
    fs.copyFileSync(path.join(h.storageDir, copiedBefore!), path.join(drDir, copiedBefore!));
    fs.mkdirSync(path.dirname(path.join(drDir, cutOff!)), { recursive: true });
    fs.writeFileSync(path.join(drDir, cutOff! + PARTIAL_SUFFIX), 'cut off');
    const store = await openStore({ url: 'sqlite:', dataDir: h.d.dataDir });
    let runId: number;
    try {
      const gone = new RunRepository(store.db, h.clock, 'a-daemon-that-was-killed');
      const { run } = await gone.create({ policy: 'p1', cluster: 'c1', kind: 'secondary', trigger: 'immediate' });
      await gone.transition(run.id, ['pending'], { state: 'running', started_at: h.clock.now() });
      await gone.addStep(run.id, 'copy', 'running', '1/1: set 1');
      runId = run.id;
    } finally {
      await store.close();
    }

    await h.startDaemon();
    const resumed = await h.waitRun(runId, (r: Run) => !['pending', 'running'].includes(r.state), { stepMs: 10_000 });
    expect(resumed.state, resumed.error ?? JSON.stringify(resumed.steps)).toBe('succeeded');
    expect(resumed.steps.slice(0, 2).map((s) => [s.name, s.state, s.message])).toEqual([
      ['copy', 'failed', 'interrupted by a daemon restart'],
      ['restart', 'succeeded', 'the daemon restarted during this run: starting it again (what it finished stays done)'],
    ]);
    expect(resumed.steps.slice(2).every((s) => s.state === 'succeeded')).toBe(true);
    expect(resumed.details.skipped_objects).toBeGreaterThanOrEqual(1);

    // The copy is whole and byte for byte, and the partial file is gone.
    for (const f of setFiles) expect(fs.readFileSync(path.join(drDir, f)).equals(fs.readFileSync(path.join(h.storageDir, f))), f).toBe(true);
    expect(filesUnder(drDir).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toEqual([]);
  });

  it('ends as failed, saying why, when its policy no longer exists', { timeout: 60_000 }, async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    await h.setup();
    await waitApplied(h);
    await h.stopDaemon();
    const store = await openStore({ url: 'sqlite:', dataDir: h.d.dataDir });
    let runId: number;
    try {
      const gone = new RunRepository(store.db, h.clock, 'a-daemon-that-was-killed');
      const { run } = await gone.create({ policy: 'removed', cluster: 'c1', kind: 'cleanup', trigger: 'scheduled', scheduled_at: h.clock.now() });
      await gone.transition(run.id, ['pending'], { state: 'running', started_at: h.clock.now() });
      await gone.addStep(run.id, 'delete', 'running');
      runId = run.id;
    } finally {
      await store.close();
    }
    await h.startDaemon();
    const ended = await h.waitRun(runId, (r: Run) => !['pending', 'running'].includes(r.state), { stepMs: 10_000 });
    expect(ended).toMatchObject({ state: 'failed', error: 'interrupted by a daemon restart; its policy "removed" no longer exists' });
    expect(ended.steps.map((s) => [s.name, s.state])).toEqual([['delete', 'failed']]);
  });
});
