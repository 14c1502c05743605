// Synth-time validation: every model rule a construct can reach fails `Testing.synth(stack, true)` with the
// construct's path and exactly the message model/ gives for the same JSON; unresolved tokens are left to
// the provider and the daemon.
import { TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { describe, expect, it } from 'vitest';
import {
  BackupPolicy,
  BackupStorage,
  ObBackupProvider,
  ObCluster,
  Schedule,
  type BackupPolicyProps,
  type FileStorageProps,
  type ObClusterProps,
  type OssStorageProps,
} from '../../constructs/index.js';
import { summarize, validateSpec, type ResourceKind } from '../../model/index.js';

/** The errors `Testing.synth(stack, true)` reports, as "[path] message" lines. */
function synthErrors(stack: TerraformStack): string[] {
  try {
    Testing.synth(stack, true);
    return [];
  } catch (error) {
    return [...(error as Error).message.matchAll(/^\s*(\[[^\]]+\] .*)$/gm)].map((m) => m[1]!);
  }
}

interface Fixture {
  cluster?: Partial<ObClusterProps>;
  storage?: Partial<FileStorageProps>;
  oss?: Partial<OssStorageProps>;
  policy?: (parts: { cluster: ObCluster; nfs: BackupStorage; dr: BackupStorage }) => Partial<BackupPolicyProps>;
}

/** A valid stack (cluster `prod`, storages `nfs` and `dr`, policy `nightly`) with the fixture's changes. */
function buildStack(fixture: Fixture = {}): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new ObBackupProvider(stack, 'obbackup');
  const cluster = new ObCluster(stack, 'prod', { host: '127.0.0.1', password: 'pw', ...fixture.cluster });
  const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup', ...fixture.storage });
  const dr = BackupStorage.oss(stack, 'dr', {
    bucket: 'backup-dr',
    endpoint: 'http://127.0.0.1:9000',
    accessKeyId: 'id',
    accessKeySecret: 'secret',
    ...fixture.oss,
  });
  new BackupPolicy(stack, 'nightly', { cluster, storage: nfs, schedule: Schedule.weekly(), ...fixture.policy?.({ cluster, nfs, dr }) });
  return stack;
}

// The same resources as the contract's JSON, for asking model/ directly.
const baseJson = {
  cluster: { name: 'prod', host: '127.0.0.1', password: 'pw' },
  storage: { name: 'nfs', type: 'file', path: '/backup' },
  oss: { name: 'dr', type: 'oss', path: 'backup-dr', endpoint: 'http://127.0.0.1:9000', access_key_id: 'id', access_key_secret: 'secret' },
  policy: { name: 'nightly', cluster: 'prod', storage: 'nfs', schedule: Schedule.weekly().toSpec() },
};

const weekly = (days: Array<[number, 'full' | 'incremental']>, time = '02:00') => ({
  period: 'weekly',
  time,
  days: days.map(([day, type]) => ({ day, type })),
});
const monthly = (days: Array<[number, 'full' | 'incremental']>) => ({ ...weekly(days), period: 'monthly' });
const secondaryJson = (extra: Record<string, unknown>) => ({
  enabled: true,
  storage: 'dr',
  retention_days: 30,
  schedule: weekly([[7, 'full']]),
  ...extra,
});
const secondaryProps = (dr: BackupStorage, extra: Record<string, unknown> = {}) => ({
  storage: dr,
  retentionDays: 30,
  schedule: Schedule.weekly({ full: ['sunday'], incremental: [] }),
  ...extra,
});

interface RuleCase {
  rule: string;
  /** The construct whose validation reports it, and the contract kind it validates. */
  construct: 'prod' | 'nfs' | 'dr' | 'nightly';
  kind: ResourceKind;
  fixture: Fixture;
  /** The equivalent contract JSON. */
  json: Record<string, unknown>;
  /** The field the rule reports on. */
  path: string;
}

/** Cases for one construct: its props change `fixture[key]`, its JSON changes the contract's `base`. */
function casesFor<P>(construct: RuleCase['construct'], kind: ResourceKind, key: keyof Fixture, base: Record<string, unknown>) {
  return (rule: string, props: P, json: Record<string, unknown>, path: string): RuleCase => ({
    rule,
    construct,
    kind,
    fixture: { [key]: props },
    json: { ...base, ...json },
    path,
  });
}
const clusterCase = casesFor<Partial<ObClusterProps>>('prod', 'cluster', 'cluster', baseJson.cluster);
const storageCase = casesFor<Partial<FileStorageProps>>('nfs', 'storage', 'storage', baseJson.storage);
const ossCase = casesFor<Partial<OssStorageProps>>('dr', 'storage', 'oss', baseJson.oss);
const policyCase = casesFor<Fixture['policy']>('nightly', 'policy', 'policy', baseJson.policy);

const cases: RuleCase[] = [
  // cluster
  clusterCase('cluster name format', { name: '9prod' }, { name: '9prod' }, 'name'),
  clusterCase('host format', { host: 'ob host' }, { host: 'ob host' }, 'host'),
  clusterCase('port range', { port: 70000 }, { port: 70000 }, 'port'),
  clusterCase('port is an integer', { port: 2881.5 }, { port: 2881.5 }, 'port'),
  clusterCase('user not empty', { user: '' }, { user: '' }, 'user'),
  clusterCase('password length', { password: 'x'.repeat(257) }, { password: 'x'.repeat(257) }, 'password'),
  clusterCase('tenant name format', { tenants: ['bad-tenant'] }, { tenants: ['bad-tenant'] }, 'tenants[0]'),
  clusterCase('tenant listed twice', { tenants: ['t1', 't1'] }, { tenants: ['t1', 't1'] }, 'tenants'),
  clusterCase(
    'at most 512 tenants',
    { tenants: Array.from({ length: 513 }, (_, i) => `t${i}`) },
    { tenants: Array.from({ length: 513 }, (_, i) => `t${i}`) },
    'tenants',
  ),
  // storage
  storageCase('storage name format (no "-")', { name: 'nfs-main' }, { name: 'nfs-main' }, 'name'),
  storageCase('file path absolute', { path: 'backup' }, { path: 'backup' }, 'path'),
  storageCase('file path without ".."', { path: '/backup/../etc' }, { path: '/backup/../etc' }, 'path'),
  storageCase('path not empty', { path: '' }, { path: '' }, 'path'),
  storageCase('path length', { path: `/${'a'.repeat(1024)}` }, { path: `/${'a'.repeat(1024)}` }, 'path'),
  storageCase('capacity threshold 1-99', { capacityAlarmThreshold: 100 }, { capacity_alarm_threshold: 100 }, 'capacity_alarm_threshold'),
  ossCase('oss bucket name', { bucket: 'Backup_DR' }, { path: 'Backup_DR' }, 'path'),
  ossCase('oss endpoint not empty', { endpoint: '' }, { endpoint: '' }, 'endpoint'),
  ossCase('oss access key id not empty', { accessKeyId: '' }, { access_key_id: '' }, 'access_key_id'),
  ossCase('oss access key secret not empty', { accessKeySecret: '' }, { access_key_secret: '' }, 'access_key_secret'),
  // schedule
  policyCase('schedule time HH:MM', () => ({ schedule: Schedule.weekly({ time: '24:00' }) }), { schedule: { ...baseJson.policy.schedule, time: '24:00' } }, 'schedule.time'),
  policyCase(
    'schedule time zone',
    () => ({ schedule: Schedule.weekly({ timezone: 'Mars/Olympus' }) }),
    { schedule: { ...baseJson.policy.schedule, timezone: 'Mars/Olympus' } },
    'schedule.timezone',
  ),
  policyCase('weekly days 1-7', () => ({ schedule: Schedule.weekly({ full: [8], incremental: [] }) }), { schedule: weekly([[8, 'full']]) }, 'schedule.days[0].day'),
  policyCase('monthly days 1-31', () => ({ schedule: Schedule.monthly({ full: [32] }) }), { schedule: monthly([[32, 'full']]) }, 'schedule.days[0].day'),
  policyCase(
    'monthly at most 10 days',
    () => ({ schedule: Schedule.monthly({ full: [1, 2, 3, 4, 5, 6], incremental: [7, 8, 9, 10, 11] }) }),
    { schedule: monthly([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((d) => [d, d <= 6 ? 'full' : 'incremental'])) },
    'schedule.days',
  ),
  policyCase(
    'a day listed once',
    () => ({ schedule: Schedule.weekly({ full: ['monday'], incremental: ['monday'] }) }),
    { schedule: weekly([[1, 'full'], [1, 'incremental']]) },
    'schedule.days[1].day',
  ),
  policyCase('at least one day', () => ({ schedule: Schedule.weekly({ full: [], incremental: [] }) }), { schedule: weekly([]) }, 'schedule.days'),
  policyCase('days are integers', () => ({ schedule: Schedule.monthly({ full: [1.5] }) }), { schedule: monthly([[1.5, 'full']]) }, 'schedule.days[0].day'),
  // policy
  policyCase('policy name format', () => ({ name: 'nightly backup' }), { name: 'nightly backup' }, 'name'),
  policyCase('mode physical or logical (untyped callers)', () => ({ mode: 'snapshot' as never }), { mode: 'snapshot' }, 'mode'),
  policyCase('catch_up once or skip (untyped callers)', () => ({ catchUp: 'always' as never }), { catch_up: 'always' }, 'catch_up'),
  policyCase(
    'compaction_before_full require or trigger (untyped callers)',
    () => ({ compactionBeforeFull: 'always' as never }),
    { compaction_before_full: 'always' },
    'compaction_before_full',
  ),
  policyCase('logical backups are full only', () => ({ mode: 'logical' }), { mode: 'logical' }, 'schedule.days[1].type'),
  policyCase(
    'logical has no secondary',
    ({ dr }) => ({ mode: 'logical', schedule: Schedule.weekly({ incremental: [] }), secondary: secondaryProps(dr) }),
    { mode: 'logical', schedule: weekly([[1, 'full']]), secondary: secondaryJson({}) },
    'secondary.enabled',
  ),
  policyCase('physical keeps log archive on', () => ({ logArchive: { enabled: false } }), { log_archive: { enabled: false } }, 'log_archive.enabled'),
  policyCase('piece switch 1d-7d', () => ({ logArchive: { pieceSwitchInterval: '12h' } }), { log_archive: { piece_switch_interval: '12h' } }, 'log_archive.piece_switch_interval'),
  policyCase('cleanup retention 1-3650', () => ({ retention: { days: 0 } }), { cleanup: { enabled: true, retention_days: 0 } }, 'cleanup.retention_days'),
  policyCase('cleanup time HH:MM', () => ({ retention: { cleanupTime: '4am' } }), { cleanup: { enabled: true, time: '4am' } }, 'cleanup.time'),
  policyCase(
    'alarm timeout 1-10080 minutes',
    () => ({ alarms: { dataBackupTimeoutMinutes: 0 } }),
    { alarms: { data_backup_timeout_minutes: 0 } },
    'alarms.data_backup_timeout_minutes',
  ),
  policyCase(
    'alarm log delay 1-604800 seconds',
    () => ({ alarms: { logBackupDelaySeconds: 604801 } }),
    { alarms: { log_backup_delay_seconds: 604801 } },
    'alarms.log_backup_delay_seconds',
  ),
  policyCase(
    'alarm no successful backup 1-365 days',
    () => ({ alarms: { noSuccessfulBackupDays: 366 } }),
    { alarms: { no_successful_backup_days: 366 } },
    'alarms.no_successful_backup_days',
  ),
  policyCase(
    'secondary storage differs from primary',
    ({ nfs }) => ({ secondary: { ...secondaryProps(nfs) } }),
    { secondary: secondaryJson({ storage: 'nfs' }) },
    'secondary.storage',
  ),
  policyCase(
    'secondary kept shorter than primary',
    ({ dr }) => ({ retention: { days: 14 }, secondary: secondaryProps(dr, { retentionDays: 14 }) }),
    { cleanup: { enabled: true, retention_days: 14 }, secondary: secondaryJson({ retention_days: 14 }) },
    'secondary.retention_days',
  ),
  policyCase(
    'weekly secondary kept at least 7 days',
    ({ dr }) => ({ secondary: secondaryProps(dr, { retentionDays: 6 }) }),
    { secondary: secondaryJson({ retention_days: 6 }) },
    'secondary.retention_days',
  ),
  policyCase(
    'monthly secondary kept at least 30 days',
    ({ dr }) => ({ secondary: secondaryProps(dr, { retentionDays: 29, schedule: Schedule.monthly() }) }),
    { secondary: secondaryJson({ retention_days: 29, schedule: monthly([[1, 'full']]) }) },
    'secondary.retention_days',
  ),
  policyCase(
    'secondary retention 1-3650',
    ({ dr }) => ({ secondary: secondaryProps(dr, { retentionDays: 4000 }) }),
    { secondary: secondaryJson({ retention_days: 4000 }) },
    'secondary.retention_days',
  ),
  policyCase(
    'secondary schedule follows the schedule rules',
    ({ dr }) => ({ secondary: secondaryProps(dr, { schedule: Schedule.weekly({ full: ['sunday'], incremental: [], time: '5:00' }) }) }),
    { secondary: secondaryJson({ schedule: weekly([[7, 'full']], '5:00') }) },
    'secondary.schedule.time',
  ),
];

describe('synth-time validation', () => {
  it('a valid stack synthesizes without errors', () => {
    expect(synthErrors(buildStack())).toEqual([]);
    for (const kind of ['cluster', 'storage', 'policy'] as const) expect(validateSpec(kind, baseJson[kind]).ok).toBe(true);
    expect(validateSpec('storage', baseJson.oss).ok).toBe(true);
  });

  it.each(cases.map((c) => [c.rule, c] as const))('%s', (_rule, c) => {
    const model = validateSpec(c.kind, c.json);
    expect(model.ok).toBe(false);
    if (model.ok) return;
    // The case reaches the rule it names…
    expect(model.issues.map((i) => i.path)).toContain(c.path);
    // …and the construct reports exactly model/'s issues, each with its path.
    const errors = synthErrors(buildStack(c.fixture)).filter((e) => e.startsWith(`[stack/${c.construct}] `));
    expect(errors).toEqual(model.issues.map((i) => `[stack/${c.construct}] ${summarize([i])}`));
  });

  it('a cluster name broken in one place is reported on the cluster and on the policy that names it', () => {
    const errors = synthErrors(buildStack({ cluster: { name: 'x' } }));
    const cluster = validateSpec('cluster', { ...baseJson.cluster, name: 'x' });
    const policy = validateSpec('policy', { ...baseJson.policy, cluster: 'x' });
    expect(cluster.ok || policy.ok).toBe(false);
    if (cluster.ok || policy.ok) return;
    expect(errors).toEqual([`[stack/prod] ${summarize(cluster.issues)}`, `[stack/nightly] ${summarize(policy.issues)}`]);
  });
});

describe('unresolved tokens are not validated early', () => {
  const variable = (stack: TerraformStack, name: string, type: string) => new TerraformVariable(stack, name, { type });

  it('token fields pass synth, and literal mistakes next to them are still reported', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new ObBackupProvider(stack, 'obbackup');
    new ObCluster(stack, 'prod', {
      name: variable(stack, 'cluster_name', 'string').stringValue,
      host: variable(stack, 'host', 'string').stringValue,
      port: 70000,
      password: variable(stack, 'password', 'string').stringValue,
      tenants: variable(stack, 'tenants', 'list(string)').listValue,
    });
    BackupStorage.file(stack, 'nfs', { path: variable(stack, 'dir', 'string').stringValue, capacityAlarmThreshold: variable(stack, 'pct', 'number').numberValue });
    BackupStorage.oss(stack, 'dr', {
      bucket: variable(stack, 'bucket', 'string').stringValue,
      prefix: 'ob',
      endpoint: 'http://127.0.0.1:9000',
      accessKeyId: 'id',
      accessKeySecret: variable(stack, 'secret', 'string').stringValue,
    });
    const port = validateSpec('cluster', { ...baseJson.cluster, port: 70000 });
    expect(port.ok).toBe(false);
    if (port.ok) return;
    expect(synthErrors(stack)).toEqual(port.issues.map((i) => `[stack/prod] ${summarize([i])}`));
  });

  it('a rule comparing a token with another field waits for the value', () => {
    const build = (primaryRetention: number) => {
      const stack = buildStack({
        policy: ({ dr }) => ({ retention: { days: primaryRetention }, secondary: secondaryProps(dr, { retentionDays: 30 }) }),
      });
      return synthErrors(stack);
    };
    // With a literal 7 the secondary (30 days) outlives the primary: reported.
    expect(build(7).some((e) => e.startsWith('[stack/nightly] secondary.retention_days: '))).toBe(true);
    // With a token the primary retention is unknown at synth: not reported.
    const stack = new TerraformStack(Testing.app(), 'probe');
    const days = new TerraformVariable(stack, 'days', { type: 'number' }).numberValue;
    expect(Token.isUnresolved(days)).toBe(true);
    expect(build(days)).toEqual([]);
  });

  it('a token mode, day or schedule list does not trigger the rules that depend on it', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new ObBackupProvider(stack, 'obbackup');
    const cluster = new ObCluster(stack, 'prod', { host: '127.0.0.1', password: 'pw' });
    const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup' });
    const day = variable(stack, 'full_day', 'number').numberValue;
    new BackupPolicy(stack, 'nightly', {
      cluster,
      storage: nfs,
      // A logical policy rejects incremental days, but the mode is only known at deploy time.
      mode: variable(stack, 'mode', 'string').stringValue as 'logical',
      schedule: Schedule.weekly({ full: [day], time: variable(stack, 'time', 'string').stringValue }),
    });
    expect(synthErrors(stack)).toEqual([]);
  });

  it('a literal schedule breaking a rule is reported even when other policy fields are tokens', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new ObBackupProvider(stack, 'obbackup');
    const cluster = new ObCluster(stack, 'prod', { name: variable(stack, 'cluster_name', 'string').stringValue, host: '127.0.0.1', password: 'pw' });
    const nfs = BackupStorage.file(stack, 'nfs', { path: '/backup' });
    const eleven = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    new BackupPolicy(stack, 'nightly', { cluster, storage: nfs, schedule: Schedule.monthly({ full: eleven }) });
    const model = validateSpec('policy', { ...baseJson.policy, schedule: monthly(eleven.map((d) => [d, 'full'])) });
    expect(model.ok).toBe(false);
    if (model.ok) return;
    expect(synthErrors(stack)).toEqual(model.issues.map((i) => `[stack/nightly] ${summarize([i])}`));
  });
});
