/**
 * Secrets (cluster password, OSS access key secret) never appear in a response, a log line, or a
 * stored row in plain text, on either store; and they are stored (encrypted), not dropped.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKey, SecretBox, secretContext } from '../../daemon/secrets/index.js';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { BACKENDS, fixtures, startTestDaemon, tempDir, useDaemon, useOssSim, type ApiResponse, type TestDaemon } from '../support/daemon.js';

const secret = (label: string) => `${label}-${randomBytes(9).toString('base64url')}`;

async function storedRows(d: ReturnType<ReturnType<typeof useDaemon>>): Promise<Record<string, unknown[]>> {
  const tables = ['clusters', 'storages', 'policies', 'settings'];
  if (d.backend === 'sqlite') {
    const db = new SqliteDatabase(path.join(d.dataDir, 'obbackup.db'), { readonly: true });
    try {
      return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t}`).all()]));
    } finally {
      db.close();
    }
  }
  const database = new URL(d.storeUrl).pathname.slice(1);
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await d.mariadb!.query(`SELECT * FROM \`${database}\`.\`${t}\``);
  return out;
}

for (const backend of BACKENDS) {
  describe(`secrets on ${backend}`, () => {
    const d = useDaemon(backend, { logLevel: 'trace' });
    const password1 = secret('pw1');
    const password2 = secret('pw2');
    const ossSecret = secret('oss');
    const wrongToken = secret('tok');
    const wrongOssSecret = secret('oss-wrong');
    const all = [password1, password2, ossSecret, wrongToken, wrongOssSecret];
    // PUT tests the storage: the endpoint knows ossSecret, so a wrong one is refused (422) by name only.
    useOssSim({ accessKeySecret: ossSecret });
    const responses: ApiResponse[] = [];
    const call = async (...args: Parameters<ReturnType<typeof d>['api']>) => {
      const res = await d().api(...args);
      responses.push(res);
      return res;
    };

    it('accepts, changes and fingerprints secrets through every route', async () => {
      const created = await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password1 }));
      expect(created.status).toBe(201);
      const changed = await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password2 }));
      expect(changed.body.version).toBe(2);
      expect(changed.body.password_fingerprint).not.toBe(created.body.password_fingerprint);
      expect((await call('PUT', '/v1/storages/sec_oss', fixtures.ossStorage({ access_key_secret: ossSecret }))).status).toBe(201);
      await call('PUT', '/v1/storages/sec_file', fixtures.fileStorage());
      await call('PUT', '/v1/policies/sec', fixtures.policy('sec', 'sec_file'));
      for (const p of ['/v1/clusters/sec', '/v1/clusters', '/v1/storages/sec_oss', '/v1/storages', '/v1/policies', '/openapi.json']) {
        expect((await call('GET', p)).status).toBe(200);
      }
    });

    it('rejected requests carrying secrets do not echo them', async () => {
      const json = { 'content-type': 'application/json' };
      const rejected = [
        await call('PUT', '/v1/clusters/sec', undefined, { raw: `{"host":"h","password":"${password1}"`, headers: json }),
        await call('PUT', '/v1/clusters/sec', undefined, { raw: `{"host":"h","password":${password1}}`, headers: json }),
        await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password1, port: 'x' })),
        await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: { value: password1 } })),
        await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password1, admin_password: password1 })),
        await call('PUT', '/v1/clusters/other', fixtures.cluster({ password: password1, name: 'sec' })),
        await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password1, version: 1 })),
        await call('PUT', '/v1/storages/sec_oss', fixtures.ossStorage({ access_key_secret: ossSecret, path: 'Bad Bucket' })),
        await call('PUT', '/v1/storages/sec_oss', fixtures.ossStorage({ access_key_secret: ossSecret }), { headers: { 'content-type': 'text/plain' } }),
        await call('PUT', '/v1/storages/sec_file', fixtures.fileStorage({ access_key_secret: ossSecret })),
        await call('PUT', '/v1/storages/sec_oss', fixtures.ossStorage({ access_key_secret: wrongOssSecret })),
        await call('PUT', '/v1/clusters/sec', fixtures.cluster({ password: password1 }), { token: wrongToken }),
        await call('DELETE', '/v1/clusters/sec'),
      ];
      for (const res of rejected) expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      // The secrets in the rejected bodies changed nothing.
      expect((await call('GET', '/v1/clusters/sec')).body.version).toBe(2);
    });

    it('no response carries a secret', () => {
      expect(responses.length).toBeGreaterThan(20);
      for (const res of responses) {
        const headers = JSON.stringify([...res.headers.entries()]);
        for (const s of all) {
          expect(res.text).not.toContain(s);
          expect(headers).not.toContain(s);
        }
      }
    });

    it('no log line carries a secret or the API token', () => {
      const logs = d().logs.join('');
      expect(d().logs.length).toBeGreaterThan(40);
      expect(logs).toContain('request completed');
      for (const s of [...all, d().token]) expect(logs).not.toContain(s);
    });

    it('stored rows hold ciphertext, never the plain secret, and the ciphertext decrypts with the key', async () => {
      const rows = await storedRows(d());
      const text = JSON.stringify(rows);
      for (const s of all) expect(text).not.toContain(s);
      if (backend === 'sqlite') {
        for (const file of fs.readdirSync(d().dataDir).filter((f) => f.startsWith('obbackup.db'))) {
          const bytes = fs.readFileSync(path.join(d().dataDir, file));
          for (const s of all) expect(bytes.includes(Buffer.from(s)), `${s} in ${file}`).toBe(false);
        }
      }
      const box = new SecretBox(decodeKey(fs.readFileSync(path.join(d().dataDir, 'secret.key'), 'utf8'))!);
      const cluster = (rows.clusters as Array<{ name: string; secrets: string }>).find((r) => r.name === 'sec')!;
      expect(box.open(JSON.parse(cluster.secrets).password.ciphertext, secretContext('cluster', 'sec', 'password'))).toBe(password2);
      const storage = (rows.storages as Array<{ name: string; secrets: string }>).find((r) => r.name === 'sec_oss')!;
      expect(box.open(JSON.parse(storage.secrets).access_key_secret.ciphertext, secretContext('storage', 'sec_oss', 'access_key_secret'))).toBe(ossSecret);
    });
  });
}

describe('secrets with the engine on (it logs in to the cluster and hands OSS keys to OceanBase)', () => {
  const obPassword = secret('obpw');
  const wrongPassword = secret('wrongpw');
  const ossSecret = secret('osssk');
  const all = [obPassword, wrongPassword, ossSecret];
  let ob: ObSim;
  let oss: OssSim;
  let d: TestDaemon;
  let backupDir: string;
  const responses: ApiResponse[] = [];
  const call = async (...args: Parameters<TestDaemon['api']>) => {
    const res = await d.api(...args);
    responses.push(res);
    return res;
  };

  beforeAll(async () => {
    [ob, oss] = await Promise.all([
      startObSim({ obVersion: '4.2.1', password: obPassword, tenants: ['app'] }),
      startOssSim({ accessKeyId: 'engine-key-id', accessKeySecret: ossSecret, buckets: ['engine-dr'] }),
    ]);
    backupDir = tempDir('obbackup-secrets-backup-');
    d = await startTestDaemon('sqlite', { engine: {}, logLevel: 'trace' });
  });
  afterAll(async () => {
    await d?.close();
    await Promise.all([ob?.stop(), oss?.stop()]);
    fs.rmSync(backupDir, { recursive: true, force: true });
  });

  it('registers, applies, tests and backs up with secrets, then finds none in answers, logs or the store', async () => {
    const cluster = { host: ob.host, port: ob.port, user: 'root@sys', password: wrongPassword };
    const refused = await call('PUT', '/v1/clusters/eng', cluster);
    expect(refused.status, refused.text).toBe(422);
    expect((await call('PUT', '/v1/clusters/eng', { ...cluster, password: obPassword })).status).toBe(201);
    expect((await call('PUT', '/v1/storages/eng_file', fixtures.fileStorage({ path: backupDir }))).status).toBe(201);
    const ossBody = { type: 'oss', path: 'engine-dr/ob', endpoint: oss.endpoint, access_key_id: 'engine-key-id', access_key_secret: ossSecret };
    expect((await call('PUT', '/v1/storages/eng_oss', ossBody)).status).toBe(201);
    const policy = await call(
      'PUT',
      '/v1/policies/eng',
      fixtures.policy('eng', 'eng_file', {
        secondary: { enabled: true, storage: 'eng_oss', retention_days: 7, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
      }),
    );
    expect(policy.status, policy.text).toBe(201);
    expect((await call('POST', '/v1/storages/eng_oss/test')).body.ok).toBe(true);
    await call('POST', '/v1/clusters/eng/backups', { type: 'full' });
    // Let the engine work (apply, archive, the backup's first polls) and log about it.
    await delay(1500);
    await call('GET', '/v1/runs');
    await call('GET', '/v1/clusters/eng/status');

    for (const res of responses) for (const s of all) expect(res.text).not.toContain(s);
    const logs = d.logs.join('');
    expect(d.logs.length).toBeGreaterThan(10);
    for (const s of [...all, d.token]) expect(logs).not.toContain(s);
    for (const file of fs.readdirSync(d.dataDir).filter((f) => f.startsWith('obbackup.db'))) {
      const bytes = fs.readFileSync(path.join(d.dataDir, file));
      for (const s of all) expect(bytes.includes(Buffer.from(s)), `${s} in ${file}`).toBe(false);
    }
  });
});
