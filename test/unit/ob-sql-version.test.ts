import { describe, expect, it } from 'vitest';
import { ObError } from '../../daemon/oceanbase/errors.js';
import { asDate, epochToDate, scnToDate } from '../../daemon/oceanbase/rows.js';
import { destinationUri, durationLiteral, formatDuration, parseDurationSeconds, sqlString, tenantIdent, tenantList } from '../../daemon/oceanbase/sql.js';
import { cleanVersion, detectIdentity, majorOf, versionFromComment, versionFromServerVersion } from '../../daemon/oceanbase/version.js';

describe('SQL text', () => {
  it('escapes string literals with quotes, backslashes and control characters', () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString('a\\b')).toBe("'a\\\\b'");
    expect(sqlString('line\nnext')).toBe("'line\\nnext'");
  });

  it('accepts tenant names that are identifiers only', () => {
    expect(tenantIdent('tenant_1')).toBe('tenant_1');
    expect(tenantList(['a', 'b'])).toBe('TENANT = a, b');
    for (const bad of ['t1; DROP', "t'1", '', '1abc x']) {
      expect(() => tenantIdent(bad)).toThrow(ObError);
    }
    expect(() => tenantList([])).toThrow(/at least one tenant/);
  });

  it('parses and formats OceanBase durations', () => {
    expect(parseDurationSeconds('7d')).toBe(7 * 86400);
    expect(parseDurationSeconds('12h')).toBe(43200);
    expect(parseDurationSeconds('120s')).toBe(120);
    expect(parseDurationSeconds('86400000000')).toBe(86400); // a bare number is microseconds
    expect(parseDurationSeconds('0')).toBe(0);
    expect(parseDurationSeconds('soon')).toBeNull();
    expect(formatDuration(86400)).toBe('1d');
    expect(formatDuration(7200)).toBe('2h');
    expect(formatDuration(90)).toBe('90s');
    expect(durationLiteral('24h', 'x')).toBe('1d');
    expect(() => durationLiteral('1 week', 'piece switch interval')).toThrow(/piece switch interval "1 week"/);
  });

  it('refuses destination URIs OceanBase option strings cannot carry, without echoing them', () => {
    expect(destinationUri('file:///data/backup')).toBe('file:///data/backup');
    try {
      destinationUri('oss://b/p?host=h&access_key=SECRET value');
      expect.unreachable();
    } catch (e) {
      expect((e as ObError).kind).toBe('invalid_argument');
      expect((e as Error).message).not.toContain('SECRET');
    }
    expect(() => destinationUri('/data/backup')).toThrow(ObError);
  });
});

describe('time values', () => {
  it('reads SCNs (ns), µs, ms and s epochs and text timestamps', () => {
    const t = Date.UTC(2024, 4, 1, 12, 0, 0);
    expect(scnToDate(String(BigInt(t) * 1_000_000n))?.getTime()).toBe(t);
    expect(epochToDate(BigInt(t) * 1000n)?.getTime()).toBe(t);
    expect(epochToDate(BigInt(t))?.getTime()).toBe(t);
    expect(epochToDate(BigInt(t / 1000))?.getTime()).toBe(t);
    expect(asDate('2024-05-01 12:00:00.000000')?.getTime()).toBe(t);
    expect(scnToDate('0')).toBeNull();
    expect(scnToDate('4611686018427387903')).toBeNull();
  });
});

describe('version detection (reference §0)', () => {
  it('reads versions from each source', () => {
    expect(versionFromComment('OceanBase_CE 4.2.1.0 (r100000) (Built Nov  1 2023)')).toBe('4.2.1.0');
    expect(versionFromComment('OceanBase 3.2.4.1 (r1-abc) (Built …)')).toBe('3.2.4.1');
    expect(versionFromServerVersion('5.7.25-OceanBase-v4.2.1.0')).toBe('4.2.1.0');
    expect(versionFromServerVersion('5.7.25-OceanBase_CE-v4.1.0.0')).toBe('4.1.0.0');
    expect(versionFromServerVersion('3.1.5-OceanBase CE')).toBe('3.1.5');
    expect(versionFromServerVersion('8.0.32')).toBeNull();
    expect(cleanVersion('4.2.1.0-100000012023')).toBe('4.2.1.0');
    expect(majorOf('3.2.4')).toBe(3);
    expect(majorOf('4.3.0.1')).toBe(4);
    expect(majorOf('2.2.77')).toBeNull();
  });

  const fake = (answers: Record<string, unknown[] | Error>) => async (sql: string) => {
    for (const [k, v] of Object.entries(answers)) {
      if (sql.includes(k)) {
        if (v instanceof Error) throw v;
        return v as Record<string, unknown>[];
      }
    }
    throw new ObError('syntax', 'unknown');
  };

  it('prefers min_observer_version, never the MySQL number of version()', async () => {
    const id = await detectIdentity(
      fake({
        version_comment: [{ v: 'OceanBase_CE 4.2.1.0 (r1) (Built x)' }],
        'version()': [{ v: '5.7.25-OceanBase_CE-v4.2.1.0' }],
        __all_virtual_sys_parameter_stat: [{ v: '4.2.1.0' }],
      }),
      'here',
    );
    expect(id).toEqual({ major: 4, version: '4.2.1.0', versionComment: 'OceanBase_CE 4.2.1.0 (r1) (Built x)', serverVersion: '5.7.25-OceanBase_CE-v4.2.1.0' });
  });

  it('falls back to GV$OB_PARAMETERS, then the version comment', async () => {
    const viaGv = await detectIdentity(
      fake({ version_comment: [{ v: 'x' }], 'version()': [{ v: 'y' }], 'GV$OB_PARAMETERS': [{ v: '4.1.0.2' }] }),
      'here',
    );
    expect(viaGv.version).toBe('4.1.0.2');
    const viaComment = await detectIdentity(fake({ version_comment: [{ v: 'OceanBase 3.2.4 (r1) (Built)' }] }), 'here');
    expect(viaComment).toMatchObject({ major: 3, version: '3.2.4' });
  });

  it('refuses a server that is not OceanBase 3.x/4.x', async () => {
    await expect(detectIdentity(fake({ version_comment: [{ v: 'MySQL Community Server' }], 'version()': [{ v: '8.0.36' }] }), 'here')).rejects.toMatchObject({
      kind: 'not_supported',
    });
    await expect(detectIdentity(fake({ __all_virtual_sys_parameter_stat: [{ v: '2.2.77' }] }), 'here')).rejects.toThrow(/2\.2\.77 is not supported/);
  });
});
