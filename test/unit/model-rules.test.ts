/** One test per model rule, asserting the exact path and message a user sees. */
import { describe, expect, it } from 'vitest';
import { summarize, validateBackupRequest, validateSpec, type Issue, type ResourceKind } from '../../model/index.js';

const fileStorage = { type: 'file', path: '/backup/main' };
const ossStorage = { type: 'oss', path: 'my-bucket/prefix', endpoint: 'oss-cn-hangzhou.aliyuncs.com', access_key_id: 'id', access_key_secret: 'secret' };
const weekly = { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] };
const policy = (overrides: Record<string, unknown> = {}) => ({ cluster: 'prod', storage: 'nfs_main', schedule: weekly, ...overrides });
const secondary = (overrides: Record<string, unknown> = {}) => ({
  enabled: true,
  storage: 'oss_dr',
  retention_days: 14,
  schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] },
  ...overrides,
});

function issues(kind: ResourceKind, input: unknown): Issue[] {
  const result = validateSpec(kind, input);
  return result.ok ? [] : result.issues;
}
function valid(kind: ResourceKind, input: unknown) {
  const result = validateSpec(kind, input);
  if (!result.ok) throw new Error(`expected valid, got: ${summarize(result.issues)}`);
  return result.value as Record<string, any>;
}

describe('storage rules', () => {
  it('name: a letter first, then 2-32 letters, digits or underscores in all', () => {
    const message = 'must start with a letter and contain 2-32 letters, digits or underscores';
    for (const name of ['1abc', '_abc', 'a', 'nfs-main', 'a'.repeat(33), 'bad name']) {
      expect(issues('storage', { ...fileStorage, name })).toEqual([{ path: 'name', message }]);
    }
    for (const name of ['ab', 'nfs_main', 'A1_b2', 'a'.repeat(32)]) valid('storage', { ...fileStorage, name });
  });

  it('capacity alarm threshold: 1-99 percent, default 80', () => {
    for (const capacity_alarm_threshold of [0, 100, -5]) {
      expect(issues('storage', { ...fileStorage, capacity_alarm_threshold })).toEqual([
        { path: 'capacity_alarm_threshold', message: 'must be 1-99 (percent)' },
      ]);
    }
    expect(issues('storage', { ...fileStorage, capacity_alarm_threshold: 50.5 })).toEqual([
      { path: 'capacity_alarm_threshold', message: 'must be an integer' },
    ]);
    expect(valid('storage', fileStorage).capacity_alarm_threshold).toBe(80);
    expect(valid('storage', { ...fileStorage, capacity_alarm_threshold: 1 }).capacity_alarm_threshold).toBe(1);
    expect(valid('storage', { ...fileStorage, capacity_alarm_threshold: 99 }).capacity_alarm_threshold).toBe(99);
  });

  it('type: file or oss', () => {
    expect(issues('storage', { ...fileStorage, type: 'nfs' })).toEqual([{ path: 'type', message: 'must be "file" or "oss"' }]);
  });

  it('oss needs endpoint, access key id and access key secret', () => {
    expect(issues('storage', { type: 'oss', path: 'my-bucket/prefix' })).toEqual([
      { path: 'endpoint', message: 'is required for oss storage' },
      { path: 'access_key_id', message: 'is required for oss storage' },
      { path: 'access_key_secret', message: 'is required for oss storage' },
    ]);
    valid('storage', ossStorage);
  });

  it('oss path: "bucket/prefix" with a valid bucket name', () => {
    for (const path of ['My_Bucket/x', 'ab', '/abs/path', '-bucket/x']) {
      expect(issues('storage', { ...ossStorage, path })).toEqual([
        { path: 'path', message: 'must be "bucket/prefix" with a valid OSS bucket name (3-63 lowercase letters, digits, "-")' },
      ]);
    }
    valid('storage', { ...ossStorage, path: 'abc' });
  });

  it('file path: absolute', () => {
    expect(issues('storage', { type: 'file', path: 'backup/main' })).toEqual([
      { path: 'path', message: 'must be an absolute directory path for file storage' },
    ]);
  });

  it('file path: no ".." segments', () => {
    expect(issues('storage', { type: 'file', path: '/backup/../etc' })).toEqual([{ path: 'path', message: 'must not contain ".." segments' }]);
    valid('storage', { type: 'file', path: '/backup/..hidden' });
  });

  it('file storage takes no OSS fields', () => {
    expect(issues('storage', { ...fileStorage, endpoint: 'x', access_key_secret: 's' })).toEqual([
      { path: 'endpoint', message: 'applies to oss storage only' },
      { path: 'access_key_secret', message: 'applies to oss storage only' },
    ]);
  });
});

describe('schedule rules', () => {
  it('weekly days are ISO weekdays 1-7', () => {
    for (const day of [0, 8]) {
      expect(issues('policy', policy({ schedule: { ...weekly, days: [{ day, type: 'full' }] } }))).toEqual([
        { path: 'schedule.days[0].day', message: 'must be a weekday 1-7 (1 = Monday, 7 = Sunday)' },
      ]);
    }
    valid('policy', policy({ schedule: { ...weekly, days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: 'full' })) } }));
  });

  it('monthly days are 1-31', () => {
    for (const day of [0, 32]) {
      expect(issues('policy', policy({ schedule: { ...weekly, period: 'monthly', days: [{ day, type: 'full' }] } }))).toEqual([
        { path: 'schedule.days[0].day', message: 'must be a day of the month 1-31' },
      ]);
    }
    valid('policy', policy({ schedule: { ...weekly, period: 'monthly', days: [{ day: 31, type: 'full' }] } }));
  });

  it('a monthly schedule selects at most 10 days', () => {
    const days = (n: number) => Array.from({ length: n }, (_, i) => ({ day: i + 1, type: 'full' }));
    expect(issues('policy', policy({ schedule: { ...weekly, period: 'monthly', days: days(11) } }))).toEqual([
      { path: 'schedule.days', message: 'a monthly schedule may select at most 10 days, got 11' },
    ]);
    valid('policy', policy({ schedule: { ...weekly, period: 'monthly', days: days(10) } }));
  });

  it('no day twice', () => {
    const days = [{ day: 3, type: 'full' }, { day: 3, type: 'incremental' }];
    expect(issues('policy', policy({ schedule: { ...weekly, days } }))).toEqual([
      { path: 'schedule.days[1].day', message: 'day 3 is listed more than once' },
    ]);
  });

  it('at least one day', () => {
    expect(issues('policy', policy({ schedule: { ...weekly, days: [] } }))).toEqual([{ path: 'schedule.days', message: 'must list at least one day' }]);
  });

  it('time is HH:MM', () => {
    for (const time of ['24:00', '2:00', '02:60', '02:00:00', 'noon']) {
      expect(issues('policy', policy({ schedule: { ...weekly, time } }))).toEqual([
        { path: 'schedule.time', message: 'must be a time of day as HH:MM (00:00-23:59)' },
      ]);
    }
    valid('policy', policy({ schedule: { ...weekly, time: '23:59' } }));
  });

  it('timezone is an IANA name, default UTC', () => {
    for (const timezone of ['Mars/Olympus', 'GMT+25', '../etc/passwd']) {
      expect(issues('policy', policy({ schedule: { ...weekly, timezone } }))).toEqual([
        { path: 'schedule.timezone', message: 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"' },
      ]);
    }
    expect(valid('policy', policy()).schedule.timezone).toBe('UTC');
    expect(valid('policy', policy({ schedule: { ...weekly, timezone: 'Asia/Shanghai' } })).schedule.timezone).toBe('Asia/Shanghai');
  });

  it('period is weekly or monthly', () => {
    expect(issues('policy', policy({ schedule: { ...weekly, period: 'daily' } }))).toEqual([
      { path: 'schedule.period', message: 'must be "weekly" or "monthly"' },
    ]);
  });

  it('a day is full or incremental', () => {
    expect(issues('policy', policy({ schedule: { ...weekly, days: [{ day: 1, type: 'differential' }] } }))).toEqual([
      { path: 'schedule.days[0].type', message: 'must be "full" or "incremental"' },
    ]);
  });
});

describe('policy rules', () => {
  it('a logical backup allows only full backups', () => {
    const days = [{ day: 1, type: 'full' }, { day: 2, type: 'incremental' }];
    expect(issues('policy', policy({ mode: 'logical', schedule: { ...weekly, days } }))).toEqual([
      { path: 'schedule.days[1].type', message: 'a logical backup supports only full backups' },
    ]);
    valid('policy', policy({ mode: 'logical' }));
  });

  it('a physical backup cannot turn log archiving off', () => {
    expect(issues('policy', policy({ log_archive: { enabled: false } }))).toEqual([
      { path: 'log_archive.enabled', message: 'log archiving cannot be turned off for a physical backup' },
    ]);
    expect(valid('policy', policy()).log_archive).toEqual({ enabled: true, piece_switch_interval: '1d' });
    valid('policy', policy({ mode: 'logical', log_archive: { enabled: false } }));
  });

  it('mode is physical or logical, default physical', () => {
    expect(issues('policy', policy({ mode: 'snapshot' }))).toEqual([{ path: 'mode', message: 'must be "physical" or "logical"' }]);
    expect(valid('policy', policy()).mode).toBe('physical');
  });

  it('the secondary storage differs from the primary', () => {
    expect(issues('policy', policy({ secondary: secondary({ storage: 'nfs_main' }) }))).toEqual([
      { path: 'secondary.storage', message: 'must differ from the primary storage "nfs_main"' },
    ]);
  });

  it('secondary retention is shorter than the primary retention when both are set', () => {
    const cleanup = { enabled: true, retention_days: 14 };
    expect(issues('policy', policy({ cleanup, secondary: secondary({ retention_days: 14 }) }))).toEqual([
      { path: 'secondary.retention_days', message: 'must be shorter than the primary retention (cleanup.retention_days = 14), got 14' },
    ]);
    valid('policy', policy({ cleanup, secondary: secondary({ retention_days: 13 }) }));
    // Without primary cleanup there is no primary retention to compare with.
    valid('policy', policy({ secondary: secondary({ retention_days: 400 }) }));
  });

  it('secondary retention covers the gap between copies (weekly >= 7, monthly >= 30 days)', () => {
    expect(issues('policy', policy({ secondary: secondary({ retention_days: 6 }) }))).toEqual([
      { path: 'secondary.retention_days', message: 'must be at least 7 days for a weekly secondary schedule, got 6' },
    ]);
    const monthly = { period: 'monthly', time: '05:00', days: [{ day: 1, type: 'full' }] };
    expect(issues('policy', policy({ secondary: secondary({ retention_days: 29, schedule: monthly }) }))).toEqual([
      { path: 'secondary.retention_days', message: 'must be at least 30 days for a monthly secondary schedule, got 29' },
    ]);
  });

  it('an enabled secondary backup needs its storage, schedule and retention', () => {
    expect(issues('policy', policy({ secondary: { enabled: true } }))).toEqual([
      { path: 'secondary.storage', message: 'is required when secondary backup is enabled' },
      { path: 'secondary.schedule', message: 'is required when secondary backup is enabled' },
      { path: 'secondary.retention_days', message: 'is required when secondary backup is enabled' },
    ]);
    expect(valid('policy', policy()).secondary).toEqual({ enabled: false });
  });

  it('secondary backup requires a physical policy', () => {
    expect(issues('policy', policy({ mode: 'logical', secondary: secondary() }))).toEqual([
      { path: 'secondary.enabled', message: 'secondary backup requires a physical backup policy' },
    ]);
  });

  it('catch_up is once or skip, default once', () => {
    expect(issues('policy', policy({ catch_up: 'all' }))).toEqual([{ path: 'catch_up', message: 'must be "once" or "skip"' }]);
    expect(valid('policy', policy()).catch_up).toBe('once');
    expect(valid('policy', policy({ catch_up: 'skip' })).catch_up).toBe('skip');
  });

  it('compaction_before_full is require or trigger, default require', () => {
    expect(issues('policy', policy({ compaction_before_full: 'always' }))).toEqual([
      { path: 'compaction_before_full', message: 'must be "require" or "trigger"' },
    ]);
    expect(valid('policy', policy()).compaction_before_full).toBe('require');
    expect(valid('policy', policy({ compaction_before_full: 'trigger' })).compaction_before_full).toBe('trigger');
  });

  it('log piece switch interval is 1d-7d', () => {
    for (const piece_switch_interval of ['0d', '8d', '1h', '1']) {
      expect(issues('policy', policy({ log_archive: { piece_switch_interval } }))).toEqual([
        { path: 'log_archive.piece_switch_interval', message: 'must be "1d" to "7d" (OceanBase accepts 1 to 7 days)' },
      ]);
    }
  });

  it('cleanup retention is 1-3650 days, cleanup time HH:MM', () => {
    expect(issues('policy', policy({ cleanup: { enabled: true, retention_days: 0 } }))).toEqual([
      { path: 'cleanup.retention_days', message: 'must be 1-3650 days' },
    ]);
    expect(issues('policy', policy({ cleanup: { time: '4am' } }))).toEqual([
      { path: 'cleanup.time', message: 'must be a time of day as HH:MM (00:00-23:59)' },
    ]);
  });

  it('alarm thresholds are positive and bounded', () => {
    expect(issues('policy', policy({ alarms: { data_backup_timeout_minutes: 0, log_backup_delay_seconds: 604801, no_successful_backup_days: 366 } }))).toEqual([
      { path: 'alarms.data_backup_timeout_minutes', message: 'must be 1-10080 minutes' },
      { path: 'alarms.log_backup_delay_seconds', message: 'must be 1-604800 seconds' },
      { path: 'alarms.no_successful_backup_days', message: 'must be 1-365 days' },
    ]);
  });

  it('cluster and policy names: a letter first, 2-63 letters, digits, "-" or "_"', () => {
    const message = 'must start with a letter and contain 2-63 letters, digits, "-" or "_"';
    expect(issues('policy', policy({ cluster: '9prod' }))).toEqual([{ path: 'cluster', message }]);
    expect(issues('policy', policy({ name: 'x' }))).toEqual([{ path: 'name', message }]);
    expect(issues('cluster', { name: 'a'.repeat(64), host: 'h', password: 'p' })).toEqual([{ path: 'name', message }]);
  });
});

describe('cluster rules', () => {
  const cluster = { host: 'ob.example', password: 'p' };

  it('port is 1-65535, default 2881; user defaults to root@sys', () => {
    expect(issues('cluster', { ...cluster, port: 70000 })).toEqual([{ path: 'port', message: 'must be 1-65535' }]);
    expect(valid('cluster', cluster)).toMatchObject({ port: 2881, user: 'root@sys' });
  });

  it('host is a host name or an IP address', () => {
    expect(issues('cluster', { ...cluster, host: 'ob host;drop' })).toEqual([{ path: 'host', message: 'must be a host name or an IP address' }]);
    valid('cluster', { ...cluster, host: '::1' });
  });

  it('tenants: OceanBase names, none twice', () => {
    expect(issues('cluster', { ...cluster, tenants: ['t1', 't1'] })).toEqual([{ path: 'tenants', message: 'must not list a tenant twice' }]);
    expect(issues('cluster', { ...cluster, tenants: ['bad-name'] })).toEqual([
      { path: 'tenants[0]', message: 'must be an OceanBase tenant name (letters, digits, underscores)' },
    ]);
  });
});

describe('shape rules (every resource)', () => {
  it('unknown fields are named', () => {
    expect(issues('storage', { ...fileStorage, capacity: 5 })).toEqual([{ path: 'capacity', message: 'unknown field "capacity"' }]);
    expect(issues('policy', policy({ schedule: { ...weekly, hour: 2 } }))).toEqual([{ path: 'schedule.hour', message: 'unknown field "hour"' }]);
  });

  it('a missing required field says so', () => {
    expect(issues('cluster', { password: 'p' })).toEqual([{ path: 'host', message: 'is required' }]);
  });

  it('a wrong type says what was expected and what came, never the value', () => {
    const found = issues('cluster', { host: 'h', password: 12345678 });
    expect(found).toEqual([{ path: 'password', message: 'must be a string, got a number' }]);
    expect(JSON.stringify(found)).not.toContain('12345678');
    expect(issues('policy', [])).toEqual([{ path: '', message: 'must be an object, got a list' }]);
  });

  it('version, when sent, is a version returned by a read', () => {
    expect(issues('cluster', { host: 'h', password: 'p', version: 0 })).toEqual([{ path: 'version', message: 'must be a version returned by a read' }]);
  });
});

describe('backup request rules', () => {
  it('type is full or incremental, default full', () => {
    const bad = validateBackupRequest({ type: 'differential' });
    expect(bad.ok ? [] : bad.issues).toEqual([{ path: 'type', message: 'must be "full" or "incremental"' }]);
    const ok = validateBackupRequest({});
    expect(ok.ok && ok.value).toEqual({ type: 'full' });
  });
});
