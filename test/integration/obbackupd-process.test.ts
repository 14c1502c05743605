/**
 * The real executable: survives SIGKILL with everything stored (both stores), stops cleanly on
 * SIGTERM, and reports bad flags and start-up problems in one line without a stack trace.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { fixtures, request, tempDir, type ApiResponse } from '../support/daemon.js';
import { acquireMariaDb, releaseMariaDb, type MariaDb } from '../support/mariadb.js';
import { cleanEnv, runDaemonProcess, startDaemonProcess } from '../support/obbackupd-process.js';

const dirs: string[] = [];
const newDataDir = () => {
  const dir = tempDir('obbackupd-proc-');
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function expectOneLineError(stderr: string, message: string) {
  expect(stderr).toBe(`obbackupd: ${message}\n`);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('restart after SIGKILL', () => {
  // The daemon's engine connects to what it is given: a simulated OceanBase, a directory, an OSS endpoint.
  const OB_PASSWORD = 'restart-sys-pass';
  const OSS_ID = 'restart-key-id';
  const OSS_SECRET = 'restart-key-secret';
  let mariadb: MariaDb;
  let ob: ObSim;
  let oss: OssSim;
  beforeAll(async () => {
    [mariadb, ob, oss] = await Promise.all([
      acquireMariaDb(),
      startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['app'] }),
      startOssSim({ accessKeyId: OSS_ID, accessKeySecret: OSS_SECRET, buckets: ['restart-dr'] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([releaseMariaDb(), ob?.stop(), oss?.stop()]);
  });

  for (const backend of ['sqlite', 'mariadb'] as const) {
    it(`keeps every object and version on ${backend}`, async () => {
      const dataDir = newDataDir();
      const backupDir = newDataDir();
      const args = ['--listen', '127.0.0.1:0', '--data-dir', dataDir];
      if (backend === 'mariadb') args.push('--store', await mariadb.createDatabase());
      const cluster = (overrides: Record<string, unknown> = {}) => ({ host: ob.host, port: ob.port, user: 'root@sys', password: OB_PASSWORD, ...overrides });
      const primary = fixtures.fileStorage({ path: backupDir });
      const secondaryStorage = fixtures.ossStorage({ path: 'restart-dr/ob', endpoint: oss.endpoint, access_key_id: OSS_ID, access_key_secret: OSS_SECRET });

      const first = await startDaemonProcess(args);
      const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
      const api = (url: string, method: string, p: string, body?: unknown) => request(url, token, method, p, body);
      const ok = (res: ApiResponse, status: number) => expect(res.status, res.text).toBe(status);

      ok(await api(first.url, 'PUT', '/v1/clusters/prod-ob4', cluster()), 201);
      ok(await api(first.url, 'PUT', '/v1/clusters/prod-ob4', cluster({ tenants: ['app'] })), 200);
      ok(await api(first.url, 'PUT', '/v1/clusters/short-lived', cluster()), 201);
      ok(await api(first.url, 'DELETE', '/v1/clusters/short-lived'), 204);
      ok(await api(first.url, 'PUT', '/v1/storages/nfs_main', primary), 201);
      ok(await api(first.url, 'PUT', '/v1/storages/oss_dr', secondaryStorage), 201);
      const policy = fixtures.policy('prod-ob4', 'nfs_main', {
        cleanup: { enabled: true, retention_days: 30 },
        secondary: { enabled: true, storage: 'oss_dr', retention_days: 14, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
      });
      ok(await api(first.url, 'PUT', '/v1/policies/nightly', policy), 201);
      ok(await api(first.url, 'PUT', '/v1/policies/nightly', { ...policy, paused: true }), 200);
      const snapshot = async (url: string) =>
        Promise.all(['clusters', 'storages', 'policies'].map(async (p) => (await api(url, 'GET', `/v1/${p}`)).body));
      const before = await snapshot(first.url);
      expect(before[0].items.map((c: { name: string; version: number }) => [c.name, c.version])).toEqual([['prod-ob4', 2]]);

      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const second = await startDaemonProcess(args);
      try {
        expect(second.stdout()).not.toContain('generated the');
        expect(await snapshot(second.url)).toEqual(before);
        // Same key after the restart: the same body is still "unchanged", a change bumps the version.
        const same = await api(second.url, 'PUT', '/v1/clusters/prod-ob4', cluster({ tenants: ['app'] }));
        expect([same.status, same.body.version]).toEqual([200, 2]);
        const next = await api(second.url, 'PUT', '/v1/policies/nightly', policy);
        expect([next.status, next.body.version]).toEqual([200, 3]);
        ok(await api(second.url, 'DELETE', '/v1/clusters/prod-ob4'), 409);
      } finally {
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
      }
    });
  }
});

describe('obbackupd executable', () => {
  it('first start: generates the token (0600) and says where, never what; SIGTERM stops it cleanly', async () => {
    const dataDir = newDataDir();
    const p = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir]);
    const tokenFile = path.join(dataDir, 'token');
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(p.stdout()).toContain(`generated the API token into ${tokenFile} (mode 0600)`);
    expect((await request(p.url, null, 'GET', '/healthz')).status).toBe(200);
    expect((await request(p.url, token, 'GET', '/v1/clusters')).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.stdout()).toContain('"msg":"stopped"');
    expect(p.stdout() + p.stderr()).not.toContain(token);
    for (const line of p.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('--token-file and OBBACKUP_TOKEN replace the generated token', async () => {
    const dataDir = newDataDir();
    const tokenFile = path.join(dataDir, 'my-token');
    fs.writeFileSync(tokenFile, 'token-from-a-file-0123456789\n', { mode: 0o600 });
    const p = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--token-file', tokenFile]);
    try {
      expect((await request(p.url, 'token-from-a-file-0123456789', 'GET', '/v1/policies')).status).toBe(200);
      expect(fs.existsSync(path.join(dataDir, 'token'))).toBe(false);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    const q = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir], cleanEnv({ OBBACKUP_TOKEN: 'token-from-the-environment' }));
    try {
      expect((await request(q.url, 'token-from-the-environment', 'GET', '/v1/policies')).status).toBe(200);
      expect((await request(q.url, 'token-from-a-file-0123456789', 'GET', '/v1/policies')).status).toBe(401);
    } finally {
      q.child.kill('SIGTERM');
      await q.exited;
    }
  });

  it('--help describes the flags and the default data dir', async () => {
    const res = await runDaemonProcess(['--help']);
    expect(res.code).toBe(0);
    for (const text of ['--listen HOST:PORT', '--data-dir DIR', '--store URL', '--token-file FILE', 'OBBACKUP_TOKEN', 'OBBACKUP_SECRET_KEY', '~/.obbackup']) {
      expect(res.stdout).toContain(text);
    }
  });

  it('bad flags and start-up problems: one line on stderr, non-zero exit, no stack trace, no password', async () => {
    const dataDir = newDataDir();
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const notADir = path.join(dataDir, 'file');
    fs.writeFileSync(notADir, '');
    const cases: Array<[string[], number, string]> = [
      [['--bogus'], 2, 'unknown flag --bogus (see obbackupd --help)'],
      [['--listen'], 2, 'flag --listen needs a value (see obbackupd --help)'],
      [['serve'], 2, 'unexpected argument "serve" (see obbackupd --help)'],
      [['--log-level', 'loud'], 2, '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
      [['--listen', 'nowhere', '--data-dir', dataDir], 1, '--listen must be HOST:PORT (e.g. 127.0.0.1:7788), got "nowhere"'],
      [['--listen', `127.0.0.1:${busyPort}`, '--data-dir', dataDir], 1, `cannot listen on 127.0.0.1:${busyPort}: EADDRINUSE`],
      [['--data-dir', notADir], 1, `cannot use the data dir ${notADir}: EEXIST`],
      [['--data-dir', dataDir, '--store', 'postgres://u:hunter2secret@h/db'], 1, '--store must be "sqlite:", "sqlite:FILE" or "mysql://user:password@host:port/database"'],
      [['--data-dir', dataDir, '--store', 'mysql://u:hunter2secret@127.0.0.1:1/obb'], 1, 'cannot reach the store at mysql://u:***@127.0.0.1:1/obb: connect ECONNREFUSED 127.0.0.1:1'],
      [['--data-dir', dataDir, '--token-file', path.join(dataDir, 'absent')], 1, `cannot read --token-file ${path.join(dataDir, 'absent')}: ENOENT`],
    ];
    try {
      // Two at a time: each case is a process start.
      for (let i = 0; i < cases.length; i += 2) {
        const batch = cases.slice(i, i + 2);
        const results = await Promise.all(batch.map(([args]) => runDaemonProcess(args)));
        batch.forEach(([args, code, message], j) => {
          expect(results[j]!.code, args.join(' ')).toBe(code);
          expectOneLineError(results[j]!.stderr, message);
          expect(results[j]!.stderr + results[j]!.stdout).not.toContain('hunter2secret');
        });
      }
    } finally {
      busy.close();
    }
  });

  it('refuses a secret key other than the one the store was written with', async () => {
    const dataDir = newDataDir();
    const p = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir]);
    p.child.kill('SIGTERM');
    await p.exited;
    const res = await runDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir], cleanEnv({ OBBACKUP_SECRET_KEY: 'a'.repeat(64) }));
    expect(res.code).toBe(1);
    expectOneLineError(
      res.stderr,
      "the secret key (env OBBACKUP_SECRET_KEY) is not the key this store's secrets were encrypted with; use the original key (env OBBACKUP_SECRET_KEY or its secret.key file)",
    );
  });
});
