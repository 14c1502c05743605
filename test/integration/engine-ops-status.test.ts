// GET /v1/clusters/{name}/status (the OCP overview fields) and GET /metrics against obsim 4.2.1, on
// simulated time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextRuns, type Schedule } from '../../model/index.js';
import { fileStorage, prepareCluster, register, startHarness, takeBackup, type Harness } from '../support/engine-ops.js';

vi.setConfig({ testTimeout: 120_000 });

const schedule = { period: 'weekly', time: '02:00', timezone: 'Asia/Shanghai', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }, { day: 5, type: 'incremental' }] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function status(harness: Harness) {
  const res = await harness.api('GET', '/v1/clusters/c1/status');
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Prometheus text format 0.0.4: every sample line is `name{labels} value`, every family declared once before its samples. */
function parseMetrics(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const families = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  const declared = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
    if (type) {
      expect(declared.has(type[1]!), `${type[1]} declared twice`).toBe(false);
      declared.add(type[1]!);
      families.set(type[1]!, []);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^(\w+)(?:\{((?:\w+="(?:[^"\\]|\\.)*",?)*)\})? (-?[\d.e+]+|NaN)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    expect(declared.has(m![1]!), `${m![1]} sampled before its TYPE`).toBe(true);
    const labels = Object.fromEntries([...(m![2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    families.get(m![1]!)!.push({ labels, value: Number(m![3]) });
  }
  return families;
}

describe('cluster status and metrics', () => {
  it('serves the OCP overview through the life of a policy, and the same facts as Prometheus metrics', async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule, alarms: { log_backup_delay_seconds: 600 } });
    await prepareCluster(h, primary, ['t1'], { checkpoint: '120s' });

    // before any backup: WAITING, nothing backed up, the next five runs of the schedule
    let s = await status(h);
    expect(s).toMatchObject({ cluster: 'c1', policy: 'p1', schedule_status: 'WAITING', ob_version: '4.2.1.0', reachable: true, last_data_backup_at: null, backup_size_bytes: 0, running: null, alarms: [] });
    const expected = nextRuns(schedule as Schedule, h.clock.now(), 5).map((r) => ({ at: r.at.toISOString(), type: r.type }));
    expect(s.next_runs).toEqual(expected);
    expect(s.next_runs.every((r: { at: string }) => /T18:00:00\.000Z$/.test(r.at))).toBe(true);
    expect(s.log_archive).toEqual([expect.objectContaining({ tenant: 't1', state: 'DOING' })]);
    expect(typeof s.log_backup_delay_seconds).toBe('number');

    // after a full: NORMAL, its time, the size of what the database holds
    const full = await takeBackup(h, 'full');
    await h.advance(60_000);
    s = await status(h);
    expect(s.schedule_status).toBe('NORMAL');
    expect(s.last_data_backup).toEqual({ run_id: full.id, type: 'full', finished_at: full.finished_at });
    expect(new Date(s.last_data_backup_at).getTime()).toBeGreaterThanOrEqual(new Date(full.finished_at!).getTime() - 5_000);
    expect(s.backup_size_bytes).toBe(512 * 1024);
    expect(s.log_backup_delay_seconds).toBeLessThan(600);
    expect(s.log_backup_checkpoint_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    // a running backup with its progress and step
    const { run } = await h.runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'incremental', trigger: 'immediate' });
    await h.runs.update(run.id, { state: 'running', started_at: h.clock.now(), progress: 42.5, jobs: [{ tenant: 't1', job_id: 7 }] });
    await h.runs.addStep(run.id, 'track', 'running', 't1 job 7 BACKUP_DATA_MAJOR');
    s = await status(h);
    expect(s.running).toEqual({
      id: run.id,
      kind: 'backup',
      type: 'incremental',
      trigger: 'immediate',
      state: 'running',
      progress: 42.5,
      ob_job_id: 7,
      scheduled_at: run.scheduled_at,
      started_at: h.clock.now().toISOString(),
      step: 'track: t1 job 7 BACKUP_DATA_MAJOR',
    });

    // it fails: ABNORMAL, with the alarm
    await h.runs.update(run.id, { state: 'failed', finished_at: h.clock.now(), error: 'backup device out of space', error_code: 9082 });
    await h.ops.evaluateAlarms();
    s = await status(h);
    expect(s.running).toBeNull();
    expect(s.schedule_status).toBe('ABNORMAL');
    expect(s.schedule_status_reason).toMatch(/^alarm data_backup_failed: .*backup device out of space/);
    expect(s.alarms.map((a: { name: string }) => a.name)).toEqual(['data_backup_failed']);

    // metrics: the same facts
    const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${h.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parseMetrics(res.body);
    expect(m.get('obbackup_last_successful_data_backup_timestamp_seconds')).toEqual([{ labels: { policy: 'p1', cluster: 'c1' }, value: new Date(full.finished_at!).getTime() / 1000 }]);
    const delay = m.get('obbackup_log_backup_delay_seconds')!;
    expect(delay).toHaveLength(1);
    expect(delay[0]!.labels).toEqual({ cluster: 'c1' });
    expect(delay[0]!.value).toBeGreaterThanOrEqual(0);
    expect(m.get('obbackup_backup_size_bytes')).toEqual([{ labels: { cluster: 'c1' }, value: 512 * 1024 }]);
    expect(m.get('obbackup_cluster_reachable')).toEqual([{ labels: { cluster: 'c1' }, value: 1 }]);
    expect(m.get('obbackup_alarm_active')).toEqual([{ labels: { alarm: 'data_backup_failed', severity: 'critical', cluster: 'c1', policy: 'p1' }, value: 1 }]);
    const perName = Object.fromEntries(m.get('obbackup_alarms_active')!.map((x) => [x.labels.alarm, x.value]));
    expect(perName).toEqual({ data_backup_failed: 1, data_backup_timeout: 0, log_backup_delay: 0, no_successful_data_backup: 0, storage_usage_over_threshold: 0, secondary_backup_failed: 0, log_archive_interrupted: 0 });
    const runs = Object.fromEntries(m.get('obbackup_runs')!.map((x) => [`${x.labels.kind}/${x.labels.state}`, x.value]));
    expect(runs['backup/succeeded']).toBe(1);
    expect(runs['backup/failed']).toBe(1);
    expect(runs['cleanup/succeeded']).toBe(0);
    expect(m.get('obbackup_policies')).toEqual([{ labels: {}, value: 1 }]);
    expect(m.get('obbackup_policy_paused')).toEqual([{ labels: { policy: 'p1', cluster: 'c1' }, value: 0 }]);
    expect((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);

    // a policy the engine could not apply: ABNORMAL with the engine's reason
    const at = h.clock.now().toISOString();
    await h.store.db
      .insertInto('policy_states')
      .values({ policy: 'p1', cluster: 'c1', effective_from: at, schedule_key: '{}', apply_state: 'failed', apply_error: 'cannot set DATA_BACKUP_DEST: 9081 format file does not match', applied_version: null, applied: null, applied_at: null, updated_at: at })
      .execute();
    s = await status(h);
    expect(s.schedule_status).toBe('ABNORMAL');
    expect(s.schedule_status_reason).toBe('policy "p1" could not be applied to the cluster: cannot set DATA_BACKUP_DEST: 9081 format file does not match');
    await h.store.db.deleteFrom('policy_states').execute();

    // paused: PAUSED, no next runs
    const policy = (await h.api('GET', '/v1/policies/p1')).body;
    const { name: _n, version: _v, created_at: _c, updated_at: _u, ...spec } = policy;
    expect((await h.api('PUT', '/v1/policies/p1', { ...spec, paused: true })).status).toBe(200);
    s = await status(h);
    expect(s.schedule_status).toBe('PAUSED');
    expect(s.next_runs).toEqual([]);

    // no policy: NONE
    expect((await h.api('DELETE', '/v1/policies/p1')).status).toBe(204);
    s = await status(h);
    expect(s).toMatchObject({ schedule_status: 'NONE', policy: null, next_runs: [] });

    expect((await h.api('GET', '/v1/clusters/nope/status')).status).toBe(404);
  });

  it('reports an unreachable cluster as ABNORMAL with the reason, not as an error', async () => {
    h = await startHarness({ obVersion: '4.2.1' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule });
    await prepareCluster(h, primary);
    await takeBackup(h, 'full');
    h.sim.faults.addStatementFault({ match: 'CDB_OB_ARCHIVELOG', kind: 'timeout' });
    const s = await status(h);
    expect(s.reachable).toBe(false);
    expect(s.schedule_status).toBe('ABNORMAL');
    expect(s.schedule_status_reason).toMatch(/^the cluster cannot be read: .*(4012|[Tt]imeout)/);
  });
});
