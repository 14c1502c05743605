// Synthesized Terraform JSON of every construct (snapshots), plus the presets and references they build.
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupPolicy, BackupStorage, ObBackupProvider, ObCluster, Schedule } from '../../constructs/index.js';
import { summarize, validateSpec } from '../../model/index.js';

const synth = (fn: (stack: Construct) => void) => JSON.parse(Testing.synthScope(fn)) as Record<string, any>;

describe('ObBackupProvider', () => {
  it('declares the provider source and its configuration', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup', { endpoint: 'http://10.0.0.5:7788' });
    });
    expect(json.terraform.required_providers.obbackup.source).toBe('obbackup.local/oceanbase/obbackup');
    expect(json).toMatchSnapshot();
  });

  it('supports an aliased second daemon passed to constructs', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      const dr = new ObBackupProvider(stack, 'dr', { endpoint: 'http://dr:7788', alias: 'dr' });
      new ObCluster(stack, 'prod', { host: 'ob1', password: 'pw', provider: dr });
    });
    expect(json.resource.obbackup_cluster.prod.provider).toBe('obbackup.dr');
    expect(json).toMatchSnapshot();
  });
});

describe('ObCluster', () => {
  it('registers the cluster by name, with only the fields given', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      new ObCluster(stack, 'prod-ob4', { host: '10.0.0.1', port: 2881, password: 'pw', tenants: ['t1', 't2'] });
      new ObCluster(stack, 'legacy', { name: 'legacy-ob3', host: 'ob3.internal', user: 'admin@sys', password: 'pw' });
    });
    expect(Object.keys(json.resource.obbackup_cluster)).toEqual(['legacy', 'prod-ob4']);
    expect(json.resource.obbackup_cluster.legacy.name).toBe('legacy-ob3');
    expect(json.resource.obbackup_cluster['prod-ob4'].user).toBeUndefined();
    expect(json).toMatchSnapshot();
  });
});

describe('BackupStorage', () => {
  it('file() declares a directory storage', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      BackupStorage.file(stack, 'nfs', { path: '/data/backup', capacityAlarmThreshold: 90 });
    });
    expect(json.resource.obbackup_storage.nfs).toMatchObject({ name: 'nfs', type: 'file', path: '/data/backup', capacity_alarm_threshold: 90 });
    expect(json).toMatchSnapshot();
  });

  it('oss() joins bucket and prefix into the path and keeps the secret a reference', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      const secret = new TerraformVariable(stack, 'oss_secret', { type: 'string', sensitive: true });
      BackupStorage.oss(stack, 'dr', {
        name: 'oss_dr',
        bucket: 'backup-dr',
        prefix: 'prod',
        endpoint: 'oss-cn-hangzhou.aliyuncs.com',
        accessKeyId: 'AKID',
        accessKeySecret: secret.stringValue,
      });
      BackupStorage.oss(stack, 'root', { bucket: 'backup-root', endpoint: 'http://127.0.0.1:9000', accessKeyId: 'a', accessKeySecret: secret.stringValue });
    });
    expect(json.resource.obbackup_storage.dr.path).toBe('backup-dr/prod');
    expect(json.resource.obbackup_storage.dr.access_key_secret).toBe('${var.oss_secret}');
    expect(json.resource.obbackup_storage.root.path).toBe('backup-root');
    expect(json).toMatchSnapshot();
  });
});

describe('Schedule presets', () => {
  it('weekly() is full on Monday and incremental on the other days at 02:00', () => {
    const spec = Schedule.weekly().toSpec();
    expect(spec.period).toBe('weekly');
    expect(spec.time).toBe('02:00');
    expect(spec.days.filter((d) => d.type === 'full').map((d) => d.day)).toEqual([1]);
    expect(spec.days.filter((d) => d.type === 'incremental').map((d) => d.day)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(spec).not.toHaveProperty('timezone');
  });

  it('weekly() takes names or ISO numbers and derives the incremental days from the full ones', () => {
    const spec = Schedule.weekly({ full: ['sunday', 3], time: '23:30', timezone: 'Asia/Shanghai' }).toSpec();
    expect(spec.days).toEqual([
      { day: 1, type: 'incremental' },
      { day: 2, type: 'incremental' },
      { day: 3, type: 'full' },
      { day: 4, type: 'incremental' },
      { day: 5, type: 'incremental' },
      { day: 6, type: 'incremental' },
      { day: 7, type: 'full' },
    ]);
    expect(spec.timezone).toBe('Asia/Shanghai');
    expect(Schedule.weekly({ full: ['friday'], incremental: [] }).days).toEqual([{ day: 5, type: 'full' }]);
  });

  it('monthly() is full on the 1st by default, with the days sorted', () => {
    expect(Schedule.monthly().toSpec().days).toEqual([{ day: 1, type: 'full' }]);
    expect(Schedule.monthly({ full: [15, 1], incremental: [22, 8] }).days.map((d) => d.day)).toEqual([1, 8, 15, 22]);
  });
});

describe('BackupPolicy', () => {
  it('references the cluster and storages so Terraform creates them first', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      const cluster = new ObCluster(stack, 'prod', { host: 'ob1', password: 'pw' });
      const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup' });
      new BackupPolicy(stack, 'nightly', { cluster, storage: nfs, schedule: Schedule.weekly() });
    });
    const policy = json.resource.obbackup_policy.nightly;
    expect(policy.cluster).toBe('${obbackup_cluster.prod.name}');
    expect(policy.storage).toBe('${obbackup_storage.nfs.name}');
    // Left-out options stay out: the daemon applies its documented defaults.
    expect(policy).not.toHaveProperty('cleanup');
    expect(policy).not.toHaveProperty('log_archive');
    expect(json).toMatchSnapshot();
  });

  it('maps every option to the contract attributes', () => {
    const json = synth((stack) => {
      new ObBackupProvider(stack, 'obbackup');
      const cluster = new ObCluster(stack, 'prod', { host: 'ob1', password: 'pw' });
      const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup' });
      const dr = BackupStorage.oss(stack, 'dr', { bucket: 'backup-dr', endpoint: 'http://127.0.0.1:9000', accessKeyId: 'id', accessKeySecret: 'secret' });
      new BackupPolicy(stack, 'full', {
        name: 'prod-policy',
        cluster,
        storage: nfs,
        mode: 'physical',
        schedule: Schedule.monthly({ full: [1, 15], incremental: [8, 22], time: '03:00', timezone: 'Asia/Shanghai' }),
        logArchive: { enabled: true, pieceSwitchInterval: '2d' },
        retention: { days: 60, cleanupTime: '05:00' },
        alarms: { dataBackupTimeoutMinutes: 120, logBackupDelaySeconds: 300, noSuccessfulBackupDays: 40 },
        secondary: { storage: dr, retentionDays: 30, schedule: Schedule.weekly({ full: ['sunday'], incremental: [] }) },
        paused: true,
        catchUp: 'skip',
        compactionBeforeFull: 'trigger',
      });
    });
    const policy = json.resource.obbackup_policy.full;
    expect(policy).toMatchObject({
      name: 'prod-policy',
      mode: 'physical',
      log_archive: { enabled: true, piece_switch_interval: '2d' },
      cleanup: { enabled: true, retention_days: 60, time: '05:00' },
      alarms: { data_backup_timeout_minutes: 120, log_backup_delay_seconds: 300, no_successful_backup_days: 40 },
      secondary: { enabled: true, storage: '${obbackup_storage.dr.name}', retention_days: 30 },
      paused: true,
      catch_up: 'skip',
      compaction_before_full: 'trigger',
    });
    expect(json).toMatchSnapshot();
  });
});

describe('synth through an App', () => {
  it('app.synth() refuses a stack that breaks a model rule', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'obbackup-constructs-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'broken');
      new ObBackupProvider(stack, 'obbackup');
      BackupStorage.file(stack, 'nfs', { path: 'relative/dir' });
      const model = validateSpec('storage', { name: 'nfs', type: 'file', path: 'relative/dir' });
      expect(model.ok).toBe(false);
      if (model.ok) return;
      expect(() => app.synth()).toThrow(`[broken/nfs] ${summarize(model.issues)}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
