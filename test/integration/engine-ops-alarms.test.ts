// Every alarm raised once and resolved when its condition clears, against obsim with simulated time;
// events listed by GET /v1/alarms and delivered to a webhook (a local HTTP server) with retries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statfs } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDaemon, StartupError } from '../../daemon/app.js';
import { createLogger } from '../../daemon/log.js';
import { WebhookNotifier } from '../../daemon/engine/webhook.js';
import { DAY, fileStorage, prepareCluster, register, startHarness, takeBackup, type Harness } from '../support/engine-ops.js';

vi.setConfig({ testTimeout: 180_000 });

const weekly = { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] };
const secondarySchedule = { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] };

interface Hook {
  url: string;
  received: Array<{ event: string; alarm: { name: string; id: number; state: string } }>;
  attempts: number;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1:0 that refuses its first `failFirst` requests with 503. */
async function startHook(failFirst: number): Promise<Hook> {
  const hook: Hook = { url: '', received: [], attempts: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hook.attempts += 1;
      if (hook.attempts <= failFirst) {
        res.writeHead(503).end();
        return;
      }
      hook.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarms`;
  hook.close = () => new Promise((resolve) => server.close(() => resolve()));
  return hook;
}

let h: Harness | undefined;
let hook: Hook | undefined;
afterEach(async () => {
  await h?.close();
  await hook?.close();
  h = undefined;
  hook = undefined;
});

async function active(harness: Harness): Promise<Array<{ name: string; id: number; message: string }>> {
  const res = await harness.api('GET', '/v1/alarms?state=active');
  expect(res.status).toBe(200);
  return res.body.items;
}

const names = (list: Array<{ name: string }>) => list.map((a) => a.name).sort();

describe('alarms on OceanBase 4.2.1', () => {
  it('raises each alarm once and resolves it when the condition clears, with webhook events', async () => {
    hook = await startHook(2);
    const webhook = new WebhookNotifier({ url: hook.url, log: createLogger({ level: 'silent' }), baseDelayMs: 20 });
    h = await startHarness({ obVersion: '4.2.1', ops: { webhook } });
    const primary = fileStorage(h, 'primary');
    const dr = fileStorage(h, 'dr');
    await register(h, { primary, dr }, {
      storage: 'primary',
      schedule: weekly,
      alarms: { data_backup_timeout_minutes: 60, log_backup_delay_seconds: 600, no_successful_backup_days: 2 },
      secondary: { enabled: true, storage: 'dr', retention_days: 7, schedule: secondarySchedule },
    });
    await prepareCluster(h, primary, ['t1'], { checkpoint: '120s' });
    const evaluate = async () => {
      await h!.ops.evaluateAlarms();
      return names(await active(h!));
    };
    expect(await evaluate()).toEqual([]);

    // data backup failed -> raised once, however often evaluated; resolved by a successful backup
    const failed = await takeBackup(h, 'full', { fail: 9070 });
    expect(failed.state).toBe('failed');
    expect(await evaluate()).toEqual(['data_backup_failed']);
    expect(await evaluate()).toEqual(['data_backup_failed']);
    const [raised] = await active(h);
    expect(raised!.message).toMatch(new RegExp(`run ${failed.id} \\(full\\) of cluster "c1" failed: .*9070|can not connect`));
    const ok = await takeBackup(h, 'full');
    expect(ok.state).toBe('succeeded');
    expect(await evaluate()).toEqual([]);

    // data backup timeout: a backup running past 60 minutes
    const { run: slow } = await h.runs.create({ policy: 'p1', cluster: 'c1', kind: 'backup', type: 'incremental', trigger: 'immediate' });
    await h.runs.update(slow.id, { state: 'running', started_at: h.clock.now(), progress: 40 });
    await h.advance(30 * 60_000);
    expect(await evaluate()).toEqual([]);
    await h.advance(31 * 60_000);
    expect(await evaluate()).toEqual(['data_backup_timeout']);
    await h.runs.update(slow.id, { state: 'succeeded', finished_at: h.clock.now() });
    expect(await evaluate()).toEqual([]);

    // log backup delay: the archive suspended (DEFER) stops the checkpoint
    await h.driver.setArchiveDestState('DEFER', 't1');
    await h.advance(5 * 60_000);
    expect(await evaluate()).toEqual([]);
    await h.advance(10 * 60_000);
    expect(await evaluate()).toEqual(['log_backup_delay']);
    const delay = (await active(h))[0]!;
    expect(delay.message).toMatch(/delayed by \d+ seconds \(threshold 600\); tenants: t1/);
    await h.driver.setArchiveDestState('ENABLE', 't1');
    await h.driveUntil(async () => (await h!.driver.getArchiveStatus()).every((a) => a.state === 'DOING' && (a.lagSeconds ?? 999) < 600), { stepMs: 30_000, maxMs: 3_600_000 });
    expect(await evaluate()).toEqual([]);

    // log archive interrupted: the fix is NOARCHIVELOG then ARCHIVELOG
    await h.sim.faults.interruptArchive('t1', 'log stream 1001 broke');
    expect(await evaluate()).toEqual(['log_archive_interrupted']);
    expect((await active(h))[0]!.message).toContain('INTERRUPTED for t1: log stream 1001 broke');
    await h.driver.stopArchive('t1');
    await h.driveUntil(async () => (await h!.driver.getArchiveStatus()).every((a) => a.state === 'STOP'), { stepMs: 5_000, maxMs: 600_000 });
    await h.driver.startArchive('t1');
    await h.driveUntil(async () => (await h!.driver.getArchiveStatus()).every((a) => a.state === 'DOING'), { stepMs: 5_000, maxMs: 600_000 });
    expect(await evaluate()).toEqual([]);

    // no successful data backup for 2 days
    await h.advance(2 * DAY + 3_600_000, 3_600_000);
    expect(await evaluate()).toEqual(['no_successful_data_backup']);
    await takeBackup(h, 'incremental');
    expect(await evaluate()).toEqual([]);

    // storage usage over threshold: the filesystem under the storage is used at least 1%
    const fsInfo = await statfs(primary.path);
    const usedPercent = ((fsInfo.blocks - fsInfo.bfree) / (fsInfo.blocks - fsInfo.bfree + fsInfo.bavail)) * 100;
    expect(usedPercent, 'this test needs a filesystem at least 1% used').toBeGreaterThanOrEqual(1);
    expect(usedPercent, 'this test needs a filesystem under 99% used').toBeLessThan(99);
    expect((await h.api('PUT', '/v1/storages/primary', { ...primary, capacity_alarm_threshold: Math.max(1, Math.floor(usedPercent)) })).status).toBe(200);
    expect(await evaluate()).toEqual(['storage_usage_over_threshold']);
    expect((await active(h))[0]!.message).toMatch(/storage "primary" is [\d.]+% full, at or over its alarm threshold/);
    expect((await h.api('PUT', '/v1/storages/primary', { ...primary, capacity_alarm_threshold: 99 })).status).toBe(200);
    expect(await evaluate()).toEqual([]);

    // secondary backup failed: the secondary storage path is a file, not a directory
    fs.rmSync(dr.path, { recursive: true, force: true });
    fs.writeFileSync(dr.path, 'not a directory');
    const policy = (await import('../../daemon/engine/ops-context.js')).policyFrom((await h.store.resources.get('policies', 'p1'))!);
    const broken = await h.ops.runNow(policy, 'secondary');
    await h.ops.idle();
    expect((await h.runs.get(broken.id))!.state).toBe('failed');
    expect(await evaluate()).toEqual(['secondary_backup_failed']);
    fs.rmSync(dr.path);
    fs.mkdirSync(dr.path);
    const fixed = await h.ops.runNow(policy, 'secondary');
    await h.ops.idle();
    expect((await h.runs.get(fixed.id))!.state, (await h.runs.get(fixed.id))!.error ?? '').toBe('succeeded');
    expect(await evaluate()).toEqual([]);

    // the history: every alarm once raised and once resolved
    const all = (await h.api('GET', '/v1/alarms?limit=100')).body.items as Array<{ name: string; state: string; ocp_alarm: string | null; resolved_at: string | null }>;
    const expected = ['data_backup_failed', 'data_backup_timeout', 'log_archive_interrupted', 'log_backup_delay', 'no_successful_data_backup', 'secondary_backup_failed', 'storage_usage_over_threshold'];
    expect(all.map((a) => a.name).sort()).toEqual(expected);
    expect(all.every((a) => a.state === 'resolved' && a.resolved_at !== null)).toBe(true);
    expect(all.find((a) => a.name === 'data_backup_failed')?.ocp_alarm).toBe('base_backup_fail');
    expect((await h.api('GET', '/v1/alarms?active=true')).body.items).toEqual([]);
    expect((await h.api('GET', '/v1/alarms?state=bogus')).status).toBe(400);

    // the webhook got every event once, in order, despite refusing the first two attempts
    await webhook.flush();
    const events = hook.received.map((e) => `${e.event} ${e.alarm.name} ${e.alarm.id}`);
    const byAlarm = new Map<number, string[]>();
    for (const e of hook.received) byAlarm.set(e.alarm.id, [...(byAlarm.get(e.alarm.id) ?? []), e.event]);
    for (const [id, seq] of byAlarm) expect(seq, `alarm ${id}`).toEqual(['raised', 'resolved']);
    expect(new Set(hook.received.map((e) => e.alarm.name))).toEqual(new Set(expected));
    expect(events.length).toBe(all.length * 2);
    expect(hook.attempts).toBe(events.length + 2);
    expect(webhook.failed).toBe(0);
  });

  it('keeps evaluating when the webhook is down: events are retried in the background and given up without blocking', async () => {
    const webhook = new WebhookNotifier({ url: 'http://127.0.0.1:9/unreachable', log: createLogger({ level: 'silent' }), baseDelayMs: 10, attempts: 3 });
    h = await startHarness({ obVersion: '4.2.1', ops: { webhook } });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly });
    await prepareCluster(h, primary, ['t1'], { checkpoint: '120s' });
    await takeBackup(h, 'full', { fail: 9070 });
    const started = Date.now();
    const events = await h.ops.evaluateAlarms();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(events.map((e) => `${e.event} ${e.alarm.name}`)).toEqual(['raised data_backup_failed']);
    await webhook.flush();
    expect(webhook.failed).toBe(1);
    expect(webhook.delivered).toBe(0);
  });
});

describe('alarm events not yet sent when the daemon stops', () => {
  it('stay in the store and are sent, once, by the next start', async () => {
    const down = await startHook(Number.MAX_SAFE_INTEGER); // answers 503 to everything
    const webhook = new WebhookNotifier({ url: down.url, log: createLogger({ level: 'silent' }), baseDelayMs: 20, attempts: 1000 });
    h = await startHarness({ obVersion: '4.2.1', ops: { webhook } });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly });
    await prepareCluster(h, primary, ['t1'], { checkpoint: '120s' });
    await takeBackup(h, 'full', { fail: 9070 });
    const [raised] = await h.ops.evaluateAlarms();
    expect(raised).toMatchObject({ event: 'raised', alarm: { name: 'data_backup_failed' } });
    while (down.attempts < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await webhook.close(); // the daemon stops while the event is still being retried
    await down.close();
    expect(down.received).toEqual([]);
    expect(webhook.pending).toBe(1);

    hook = await startHook(0);
    const next = new WebhookNotifier({ url: hook.url, log: createLogger({ level: 'silent' }), baseDelayMs: 20 });
    next.attach(h.store.db);
    await next.enqueue([]); // what alarm evaluation does at every pass: sends what waits
    await next.flush();
    expect(hook.received).toEqual([{ source: 'obbackupd', ...raised }]);
    expect(next).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    const row = await h.store.db.selectFrom('webhook_outbox').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ alarm_id: raised!.alarm.id, event: 'raised', outcome: 'delivered', error: null });
    expect(row.attempts).toBeGreaterThanOrEqual(3); // the two refused before the stop, then the delivery

    await next.enqueue([]);
    await next.flush();
    expect(hook.received).toHaveLength(1);
  });
});

describe('alarms on OceanBase 3.2.4', () => {
  it('raises and resolves log archive interrupted and log backup delay from the cluster-level archive', async () => {
    h = await startHarness({ obVersion: '3.2.4' });
    const primary = fileStorage(h, 'primary');
    await register(h, { primary }, { storage: 'primary', schedule: weekly, alarms: { log_backup_delay_seconds: 600 } });
    await prepareCluster(h, primary, ['t1'], { checkpoint: '120s' });
    await takeBackup(h, 'full');
    await h.ops.evaluateAlarms();
    expect(names(await active(h))).toEqual([]);
    await h.sim.faults.interruptArchive('t1');
    await h.advance(15 * 60_000);
    await h.ops.evaluateAlarms();
    expect(names(await active(h))).toEqual(['log_archive_interrupted', 'log_backup_delay']);
    await h.driver.stopArchive(null);
    await h.driveUntil(async () => (await h!.driver.getArchiveStatus())[0]!.state === 'STOP', { stepMs: 5_000, maxMs: 600_000 });
    await h.driver.startArchive(null);
    await h.driveUntil(async () => (await h!.driver.getArchiveStatus())[0]!.state === 'DOING', { stepMs: 5_000, maxMs: 600_000 });
    await h.advance(5 * 60_000);
    await h.ops.evaluateAlarms();
    expect(names(await active(h))).toEqual([]);
  });
});

describe('the daemon webhook setting', () => {
  it('takes --webhook (or OBBACKUP_WEBHOOK_URL), refuses a URL that is not http(s) with one line, and sends alarm events there', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-webhook-'));
    const logger = createLogger({ level: 'silent' });
    try {
      await expect(startDaemon({ listen: '127.0.0.1:0', dataDir, env: {}, logger, webhookUrl: 'ftp://example.invalid/x' })).rejects.toThrow(StartupError);
      await expect(startDaemon({ listen: '127.0.0.1:0', dataDir, env: {}, logger, webhookUrl: 'ftp://example.invalid/x' })).rejects.toThrow('--webhook: the webhook URL must be http:// or https://, got ftp:');
      await expect(startDaemon({ listen: '127.0.0.1:0', dataDir, env: { OBBACKUP_WEBHOOK_URL: 'not a url' }, logger })).rejects.toThrow('OBBACKUP_WEBHOOK_URL: the webhook URL is not a valid URL');

      const receiver = await startHook(0);
      hook = receiver;
      const daemon = await startDaemon({ listen: '127.0.0.1:0', dataDir, env: { OBBACKUP_WEBHOOK_URL: receiver.url }, logger, engine: { scheduler: false, applyPolicies: false, verifyClusters: false } });
      try {
        const webhook = daemon.engine!.ops.webhook!;
        expect(webhook).toBeDefined();
        const event = { event: 'raised' as const, at: new Date().toISOString(), alarm: { id: 1, name: 'data_backup_failed', state: 'active' } as never };
        await webhook.enqueue([event]);
        await webhook.flush();
        expect(receiver.received).toEqual([{ source: 'obbackupd', ...event }]);
      } finally {
        await daemon.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
