// A store written before the model gained a defaulted field: on start-up the daemon fills the default in,
// without a new version and without touching any stored value or a spec the current rules refuse.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { addedPaths } from '../../daemon/api/spec-upgrade.js';
import { openStore } from '../../daemon/store/index.js';
import { fixtures, startTestDaemon, tempDir } from '../support/daemon.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Rewrites a stored policy's spec as an older daemon would have left it. */
async function rewriteSpec(dataDir: string, name: string, edit: (spec: Record<string, any>) => void) {
  const store = await openStore({ url: 'sqlite:', dataDir });
  try {
    const row = await store.db.selectFrom('policies').select('spec').where('name', '=', name).executeTakeFirstOrThrow();
    const spec = JSON.parse(row.spec) as Record<string, any>;
    edit(spec);
    await store.db.updateTable('policies').set({ spec: JSON.stringify(spec) }).where('name', '=', name).execute();
  } finally {
    await store.close();
  }
}

describe('stored specs after an upgrade', () => {
  it('gain the defaults of fields added since, keeping their version and every stored value', async () => {
    const dataDir = tempDir('obbackup-spec-upgrade-');
    dirs.push(dataDir);
    const first = await startTestDaemon('sqlite', { dataDir });
    await first.api('PUT', '/v1/clusters/prod-ob4', fixtures.cluster());
    await first.api('PUT', '/v1/storages/nfs_main', fixtures.fileStorage());
    const put = await first.api('PUT', '/v1/policies/nightly', { ...fixtures.policy('prod-ob4', 'nfs_main'), catch_up: 'skip', alarms: { no_successful_backup_days: 10 } });
    expect(put.status).toBe(201);
    await first.close();

    await rewriteSpec(dataDir, 'nightly', (spec) => {
      delete spec.compaction_before_full;
      delete spec.alarms.data_backup_timeout_minutes;
    });

    const second = await startTestDaemon('sqlite', { dataDir });
    try {
      const got = await second.api('GET', '/v1/policies/nightly');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({
        version: put.body.version,
        updated_at: put.body.updated_at,
        compaction_before_full: 'require',
        catch_up: 'skip',
        alarms: { data_backup_timeout_minutes: 360, no_successful_backup_days: 10 },
      });
      expect(got.body).toEqual(put.body);
      expect(second.logs.join('\n')).toContain('policy \\"nightly\\": stored with the defaults of fields added since (alarms.data_backup_timeout_minutes, compaction_before_full)');
    } finally {
      await second.close();
    }
  });

  it('leaves a spec the current rules refuse as it is', async () => {
    const dataDir = tempDir('obbackup-spec-upgrade-');
    dirs.push(dataDir);
    const first = await startTestDaemon('sqlite', { dataDir });
    await first.api('PUT', '/v1/clusters/prod-ob4', fixtures.cluster());
    await first.api('PUT', '/v1/storages/nfs_main', fixtures.fileStorage());
    await first.api('PUT', '/v1/policies/nightly', fixtures.policy('prod-ob4', 'nfs_main'));
    await first.close();

    // Eleven days in a monthly schedule: refused by today's rules.
    const days = Array.from({ length: 11 }, (_, i) => ({ day: i + 1, type: 'full' }));
    await rewriteSpec(dataDir, 'nightly', (spec) => {
      delete spec.compaction_before_full;
      spec.schedule = { period: 'monthly', time: '02:00', days };
    });

    const second = await startTestDaemon('sqlite', { dataDir });
    try {
      const got = await second.api('GET', '/v1/policies/nightly');
      expect(got.body.compaction_before_full).toBeUndefined();
      expect(got.body.schedule.days).toHaveLength(11);
    } finally {
      await second.close();
    }
  });
});

describe('addedPaths', () => {
  it('lists what was added, at any depth', () => {
    expect(addedPaths({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2, d: 3 }, e: [1] })).toEqual(['b.d', 'e']);
    expect(addedPaths({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });

  it('refuses anything but additions', () => {
    expect(addedPaths({ a: 1 }, { a: 2 })).toBeUndefined();
    expect(addedPaths({ a: 1, b: 2 }, { a: 1 })).toBeUndefined();
    expect(addedPaths({ a: [1] }, { a: [1, 2] })).toBeUndefined();
    expect(addedPaths({ a: { b: 1 } }, { a: 'x' })).toBeUndefined();
  });
});
