/**
 * Every route and status code of the clusters, storages and policies API, against SQLite and against a
 * real MariaDB, through HTTP on a real listener.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../model/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { BACKENDS, FIXTURE_OSS, fixtureDir, fixtures, tempDir, useDaemon, useOssSim, type ApiResponse } from '../support/daemon.js';

function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(errorBodySchema.safeParse(res.body).success, res.text).toBe(true);
  expect(res.body.error).toBe(code);
}

const FINGERPRINT = /^hmac-sha256:[A-Za-z0-9_-]{32}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const backend of BACKENDS) {
  describe(`REST API on ${backend}`, () => {
    const d = useDaemon(backend);
    const fixtureOss = useOssSim();

    describe('/healthz and /openapi.json', () => {
      it('GET /healthz answers 200 without a token', async () => {
        const res = await d().api('GET', '/healthz', undefined, { token: null });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: 'ok' });
      });

      it('GET /openapi.json needs the token and describes every route with the model schemas', async () => {
        expectError(await d().api('GET', '/openapi.json', undefined, { token: null }), 401, 'unauthorized');
        const res = await d().api('GET', '/openapi.json');
        expect(res.status).toBe(200);
        expect(res.body.openapi).toBe('3.1.0');
        for (const plural of ['clusters', 'storages', 'policies']) {
          expect(Object.keys(res.body.paths[`/v1/${plural}/{name}`]).sort()).toEqual(['delete', 'get', 'put']);
          expect(Object.keys(res.body.paths[`/v1/${plural}`])).toEqual(['get']);
        }
        expect(res.body.paths['/v1/storages/{name}/test'].post.responses['200']).toBeDefined();
        const schemas = res.body.components.schemas;
        expect(schemas.Cluster.properties.password).toBeUndefined();
        expect(schemas.Cluster.properties.password_fingerprint.type).toBe('string');
        expect(schemas.ClusterInput.properties.password.type).toBe('string');
        expect(schemas.Storage.properties.access_key_secret_fingerprint.type).toBe('string');
        expect(schemas.PolicyInput.properties.catch_up.enum).toEqual(['once', 'skip']);
        expect(schemas.Policy.required).toEqual(expect.arrayContaining(['name', 'version', 'created_at', 'updated_at', 'schedule']));
        expect(schemas.Error.properties.error.enum).toContain('precondition_failed');
      });
    });

    describe('authentication', () => {
      it('answers 401 with WWW-Authenticate for a missing, malformed or wrong token on every route', async () => {
        const routes: Array<[string, string]> = [
          ['GET', '/v1/clusters'],
          ['GET', '/v1/clusters/c1'],
          ['PUT', '/v1/clusters/c1'],
          ['DELETE', '/v1/clusters/c1'],
          ['GET', '/v1/storages'],
          ['PUT', '/v1/storages/s1'],
          ['GET', '/v1/policies/p1'],
          ['DELETE', '/v1/policies/p1'],
          ['GET', '/v1/nothing-here'],
        ];
        for (const [method, path] of routes) {
          for (const options of [{ token: null }, { token: 'x'.repeat(43) }, { token: null, headers: { authorization: `Basic ${d().token}` } }]) {
            const res = await d().api(method, path, method === 'PUT' ? fixtures.cluster() : undefined, options);
            expectError(res, 401, 'unauthorized');
            expect(res.headers.get('www-authenticate')).toBe('Bearer');
          }
        }
        // Nothing was written by the rejected PUTs.
        expect((await d().api('GET', '/v1/clusters/c1')).status).toBe(404);
      });

      it('accepts the scheme in any case', async () => {
        const res = await d().api('GET', '/v1/clusters', undefined, { token: null, headers: { authorization: `bearer ${d().token}` } });
        expect(res.status).toBe(200);
      });
    });

    describe('clusters', () => {
      it('PUT creates (201, defaults, fingerprint, version 1, ETag, Location); GET returns the same', async () => {
        const res = await d().api('PUT', '/v1/clusters/prod-ob4', { host: 'ob1.example', password: 'pw-1' });
        expect(res.status).toBe(201);
        expect(res.headers.get('location')).toBe('/v1/clusters/prod-ob4');
        expect(res.headers.get('etag')).toBe('"1"');
        expect(Object.keys(res.body)).toEqual(['name', 'host', 'port', 'user', 'password_fingerprint', 'version', 'created_at', 'updated_at']);
        expect(res.body).toMatchObject({ name: 'prod-ob4', host: 'ob1.example', port: 2881, user: 'root@sys', version: 1 });
        expect(res.body.password_fingerprint).toMatch(FINGERPRINT);
        expect(res.body.created_at).toMatch(ISO);
        expect(res.body.updated_at).toBe(res.body.created_at);
        const got = await d().api('GET', '/v1/clusters/prod-ob4');
        expect(got.status).toBe(200);
        expect(got.headers.get('etag')).toBe('"1"');
        expect(got.body).toEqual(res.body);
      });

      it('PUT of the same body again is idempotent: 200, same version and timestamps', async () => {
        const first = await d().api('PUT', '/v1/clusters/idem', fixtures.cluster({ tenants: ['t1', 't2'] }));
        expect(first.status).toBe(201);
        const again = await d().api('PUT', '/v1/clusters/idem', fixtures.cluster({ tenants: ['t1', 't2'], name: 'idem' }));
        expect(again.status).toBe(200);
        expect(again.body).toEqual(first.body);
        // Defaults written out explicitly are the same declaration.
        const explicit = await d().api('PUT', '/v1/clusters/idem', { ...fixtures.cluster({ tenants: ['t1', 't2'] }), port: 2881, user: 'root@sys' });
        expect(explicit.body.version).toBe(1);
      });

      it('PUT with a change replaces: 200, version + 1, created_at kept', async () => {
        const created = await d().api('PUT', '/v1/clusters/chg', fixtures.cluster());
        const changed = await d().api('PUT', '/v1/clusters/chg', fixtures.cluster({ port: 3881 }));
        expect(changed.status).toBe(200);
        expect(changed.body.version).toBe(2);
        expect(changed.body.port).toBe(3881);
        expect(changed.body.created_at).toBe(created.body.created_at);
        expect(changed.body.updated_at >= created.body.updated_at).toBe(true);
        expect(changed.headers.get('etag')).toBe('"2"');
        // Leaving an optional field out removes it: PUT replaces the whole declaration.
        const withTenants = await d().api('PUT', '/v1/clusters/chg', fixtures.cluster({ port: 3881, tenants: ['a'] }));
        expect(withTenants.body.tenants).toEqual(['a']);
        const without = await d().api('PUT', '/v1/clusters/chg', fixtures.cluster({ port: 3881 }));
        expect(without.body.version).toBe(4);
        expect(without.body.tenants).toBeUndefined();
      });

      it('a changed password alone bumps the version and changes the fingerprint', async () => {
        const a = await d().api('PUT', '/v1/clusters/pw', fixtures.cluster({ password: 'first' }));
        const b = await d().api('PUT', '/v1/clusters/pw', fixtures.cluster({ password: 'second' }));
        expect(b.status).toBe(200);
        expect(b.body.version).toBe(2);
        expect(b.body.password_fingerprint).not.toBe(a.body.password_fingerprint);
        const c = await d().api('PUT', '/v1/clusters/pw', fixtures.cluster({ password: 'first' }));
        expect(c.body.version).toBe(3);
        expect(c.body.password_fingerprint).toBe(a.body.password_fingerprint);
      });

      it('version in the body: current → 200, stale → 412, on a missing resource → 412', async () => {
        await d().api('PUT', '/v1/clusters/ver', fixtures.cluster());
        const ok = await d().api('PUT', '/v1/clusters/ver', fixtures.cluster({ port: 1, version: 1 }));
        expect(ok.status).toBe(200);
        expect(ok.body.version).toBe(2);
        const stale = await d().api('PUT', '/v1/clusters/ver', fixtures.cluster({ port: 2, version: 1 }));
        expectError(stale, 412, 'precondition_failed');
        expect(stale.body.message).toBe('cluster "ver" is at version 2, not 1: it changed since it was read; read it again and retry');
        // A stale version is refused even when the body equals what is stored.
        expectError(await d().api('PUT', '/v1/clusters/ver', fixtures.cluster({ port: 1, version: 1 })), 412, 'precondition_failed');
        const missing = await d().api('PUT', '/v1/clusters/never', fixtures.cluster({ version: 3 }));
        expectError(missing, 412, 'precondition_failed');
        expect((await d().api('GET', '/v1/clusters/never')).status).toBe(404);
        expect((await d().api('GET', '/v1/clusters/ver')).body.port).toBe(1);
      });

      it('If-Match: current → 200, stale → 412, * on a missing resource → 412, malformed → 400', async () => {
        await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster());
        expect((await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ port: 5 }), { headers: { 'if-match': '"1"' } })).status).toBe(200);
        expect((await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ port: 6 }), { headers: { 'if-match': 'W/"2"' } })).status).toBe(200);
        expect((await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ port: 7 }), { headers: { 'if-match': '"1", "3"' } })).status).toBe(200);
        expectError(await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ port: 8 }), { headers: { 'if-match': '"1"' } }), 412, 'precondition_failed');
        expect((await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ port: 8 }), { headers: { 'if-match': '*' } })).body.version).toBe(5);
        expectError(await d().api('PUT', '/v1/clusters/ifm-new', fixtures.cluster(), { headers: { 'if-match': '*' } }), 412, 'precondition_failed');
        expectError(await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster(), { headers: { 'if-match': 'yesterday' } }), 400, 'bad_request');
        expectError(
          await d().api('PUT', '/v1/clusters/ifm', fixtures.cluster({ version: 5 }), { headers: { 'if-match': '"4"' } }),
          400,
          'bad_request',
        );
      });

      it('GET list in pages: limit, then cursor = next_cursor until it is null; bad paging → 400', async () => {
        for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) await d().api('PUT', `/v1/clusters/${name}`, fixtures.cluster());
        const all = (await d().api('GET', '/v1/clusters')).body;
        expect(all.next_cursor).toBeNull();
        const everyName = all.items.map((c: { name: string }) => c.name);
        const paged: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res = await d().api('GET', `/v1/clusters?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
          expect(res.status, res.text).toBe(200);
          expect(res.body.items.length).toBeLessThanOrEqual(2);
          for (const item of res.body.items) expect(item.password_fingerprint).toMatch(FINGERPRINT);
          paged.push(...res.body.items.map((c: { name: string }) => c.name));
          cursor = res.body.next_cursor;
          pages++;
        } while (cursor !== null);
        expect(paged).toEqual(everyName);
        expect(pages).toBe(Math.ceil(everyName.length / 2));
        // A page that ends exactly at the last item says so (no empty page after it).
        const exact = await d().api('GET', `/v1/clusters?limit=${everyName.length}`);
        expect(exact.body.next_cursor).toBeNull();
        expectError(await d().api('GET', '/v1/clusters?limit=0'), 400, 'bad_request');
        expectError(await d().api('GET', '/v1/clusters?limit=1001'), 400, 'bad_request');
        expectError(await d().api('GET', '/v1/clusters?cursor=page-a'), 400, 'bad_request');
        expectError(await d().api('GET', '/v1/clusters?limit=2&cursor=..%2Fx'), 400, 'bad_request');
        const unknown = await d().api('GET', '/v1/policies?page=2');
        expectError(unknown, 400, 'bad_request');
        expect(unknown.body.message).toBe('unknown query parameter page (known: limit, cursor)');
      });

      it('GET of a missing cluster → 404; GET list → all, by name', async () => {
        const missing = await d().api('GET', '/v1/clusters/absent');
        expectError(missing, 404, 'not_found');
        expect(missing.body.message).toBe('cluster "absent" does not exist');
        await d().api('PUT', '/v1/clusters/zz-last', fixtures.cluster());
        await d().api('PUT', '/v1/clusters/Aa-first', fixtures.cluster());
        const list = await d().api('GET', '/v1/clusters');
        expect(list.status).toBe(200);
        const names = list.body.items.map((c: { name: string }) => c.name);
        expect(names).toEqual([...names].sort());
        expect(names).toEqual(expect.arrayContaining(['Aa-first', 'zz-last', 'prod-ob4']));
        for (const item of list.body.items) {
          expect(item.password).toBeUndefined();
          expect(item.password_fingerprint).toMatch(FINGERPRINT);
        }
      });

      it('names are case-sensitive on every store', async () => {
        expect((await d().api('PUT', '/v1/clusters/Case', fixtures.cluster({ port: 1 }))).status).toBe(201);
        expect((await d().api('PUT', '/v1/clusters/case', fixtures.cluster({ port: 2 }))).status).toBe(201);
        expect((await d().api('GET', '/v1/clusters/Case')).body.port).toBe(1);
        expect((await d().api('GET', '/v1/clusters/case')).body.port).toBe(2);
      });

      it('keeps large declarations intact (a cluster scoped to 512 long tenant names, > 64 KiB)', async () => {
        const tenants = Array.from({ length: 512 }, (_, i) => `t${String(i).padStart(4, '0')}_${'x'.repeat(122)}`);
        const res = await d().api('PUT', '/v1/clusters/many-tenants', fixtures.cluster({ tenants }));
        expect(res.status).toBe(201);
        expect(JSON.stringify(tenants).length).toBeGreaterThan(65_536);
        expect((await d().api('GET', '/v1/clusters/many-tenants')).body.tenants).toEqual(tenants);
      });

      it('DELETE → 204, then GET → 404 and DELETE → 404; stale If-Match → 412', async () => {
        await d().api('PUT', '/v1/clusters/gone', fixtures.cluster());
        await d().api('PUT', '/v1/clusters/gone', fixtures.cluster({ port: 9 }));
        expectError(await d().api('DELETE', '/v1/clusters/gone', undefined, { headers: { 'if-match': '"1"' } }), 412, 'precondition_failed');
        const del = await d().api('DELETE', '/v1/clusters/gone', undefined, { headers: { 'if-match': '"2"' } });
        expect(del.status).toBe(204);
        expect(del.text).toBe('');
        expectError(await d().api('GET', '/v1/clusters/gone'), 404, 'not_found');
        expectError(await d().api('DELETE', '/v1/clusters/gone'), 404, 'not_found');
        // Re-creating starts over at version 1.
        expect((await d().api('PUT', '/v1/clusters/gone', fixtures.cluster())).body.version).toBe(1);
      });

      it('concurrent identical creates: one 201, the rest 200, one version', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => d().api('PUT', '/v1/clusters/race', fixtures.cluster())));
        expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
        expect(new Set(results.map((r) => r.body.version))).toEqual(new Set([1]));
      });
    });

    describe('storages', () => {
      it('file storage: 201 with the threshold default; no secret fields', async () => {
        const res = await d().api('PUT', '/v1/storages/nfs_main', fixtures.fileStorage());
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ name: 'nfs_main', type: 'file', path: fixtureDir(), capacity_alarm_threshold: 80, version: 1 });
        expect(Object.keys(res.body).some((k) => k.includes('secret'))).toBe(false);
      });

      it('oss storage: the access key secret comes back as a fingerprint only', async () => {
        const res = await d().api('PUT', '/v1/storages/oss_dr', fixtures.ossStorage({ capacity_alarm_threshold: 90 }));
        expect(res.status).toBe(201);
        expect(res.body.access_key_secret).toBeUndefined();
        expect(res.body.access_key_secret_fingerprint).toMatch(FINGERPRINT);
        expect(res.body).toMatchObject({ endpoint: fixtureOss().endpoint, access_key_id: FIXTURE_OSS.accessKeyId, capacity_alarm_threshold: 90 });
        expect((await d().api('PUT', '/v1/storages/oss_dr', fixtures.ossStorage({ capacity_alarm_threshold: 90 }))).body.version).toBe(1);
      });

      it('keeps non-ASCII text exactly (utf8mb4 on MySQL)', async () => {
        const path = fixtureDir('数据/🗄️-archive');
        const res = await d().api('PUT', '/v1/storages/utf8_path', fixtures.fileStorage({ path }));
        expect(res.status).toBe(201);
        expect((await d().api('GET', '/v1/storages/utf8_path')).body.path).toBe(path);
      });

      it('a storage name follows the OCP rule in the URL: 400 naming the rule', async () => {
        const res = await d().api('PUT', '/v1/storages/nfs-main', fixtures.fileStorage());
        expectError(res, 400, 'validation_failed');
        expect(res.body.details).toEqual([{ path: 'name', message: 'must start with a letter and contain 2-32 letters, digits or underscores' }]);
      });

      it('GET, list, DELETE and 404', async () => {
        await d().api('PUT', '/v1/storages/tmp_store', fixtures.fileStorage());
        expect((await d().api('GET', '/v1/storages/tmp_store')).status).toBe(200);
        const list = await d().api('GET', '/v1/storages');
        expect(list.body.items.map((s: { name: string }) => s.name)).toContain('tmp_store');
        expect((await d().api('DELETE', '/v1/storages/tmp_store')).status).toBe(204);
        expectError(await d().api('GET', '/v1/storages/tmp_store'), 404, 'not_found');
        expectError(await d().api('DELETE', '/v1/storages/tmp_store'), 404, 'not_found');
      });
    });

    describe('PUT /v1/storages runs the storage test on create and on a change of location or credentials', () => {
      const precheck = (res: ApiResponse, field: string) => {
        expectError(res, 422, 'precheck_failed');
        expect(res.body.details).toEqual([{ path: field, message: expect.any(String) }]);
        return res.body.message as string;
      };

      it('a missing directory: 422 naming the storage, the directory and the failure; nothing stored', async () => {
        const missing = path.join(fixtureDir(), 'never-created');
        const message = precheck(await d().api('PUT', '/v1/storages/pt_missing', fixtures.fileStorage({ path: missing })), 'path');
        expect(message).toBe(`storage "pt_missing" failed the storage test: write on file://${missing} failed: directory ${missing} does not exist (is the shared filesystem mounted?)`);
        expectError(await d().api('GET', '/v1/storages/pt_missing'), 404, 'not_found');
      });

      it('a passing storage is stored and the probe object is gone', async () => {
        const dir = fixtureDir('pt_ok');
        expect((await d().api('PUT', '/v1/storages/pt_ok', fixtures.fileStorage({ path: dir }))).status).toBe(201);
        expect(fs.readdirSync(dir)).toEqual([]);
      });

      it('a path change to a missing directory: 422 and the stored storage unchanged', async () => {
        expect((await d().api('PUT', '/v1/storages/pt_move', fixtures.fileStorage({ path: fixtureDir('pt_move') }))).status).toBe(201);
        precheck(await d().api('PUT', '/v1/storages/pt_move', fixtures.fileStorage({ path: fixtureDir('pt_move') + '-nowhere' })), 'path');
        expect((await d().api('GET', '/v1/storages/pt_move')).body).toMatchObject({ path: fixtureDir('pt_move'), version: 1 });
      });

      it('a threshold change or an unchanged PUT does not test again', async () => {
        const dir = fixtureDir('pt_same');
        expect((await d().api('PUT', '/v1/storages/pt_same', fixtures.fileStorage({ path: dir }))).status).toBe(201);
        fs.rmdirSync(dir);
        try {
          expect((await d().api('PUT', '/v1/storages/pt_same', fixtures.fileStorage({ path: dir }))).body.version).toBe(1);
          const res = await d().api('PUT', '/v1/storages/pt_same', fixtures.fileStorage({ path: dir, capacity_alarm_threshold: 70 }));
          expect(res.status, res.text).toBe(200);
          expect(res.body.version).toBe(2);
        } finally {
          fs.mkdirSync(dir);
        }
      });

      it('OSS: a wrong secret, an unknown key id, a missing bucket and an unreachable endpoint each point at their field', async () => {
        const wrongSecret = 'wrong-secret-value-987654';
        const secretMessage = precheck(await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage({ access_key_secret: wrongSecret })), 'access_key_secret');
        expect(secretMessage).toContain(`oss://${FIXTURE_OSS.bucket}/prod`);
        expect(secretMessage).toContain('SignatureDoesNotMatch');
        expect(secretMessage).not.toContain(wrongSecret);
        expect(secretMessage).not.toContain(FIXTURE_OSS.accessKeySecret);
        precheck(await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage({ access_key_id: 'nobody' })), 'access_key_id');
        expect(precheck(await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage({ path: 'no-such-bucket/x' })), 'path')).toContain('no-such-bucket');
        expect(precheck(await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage({ endpoint: 'http://127.0.0.1:9' })), 'endpoint')).toContain('127.0.0.1:9');
        expectError(await d().api('GET', '/v1/storages/pt_oss'), 404, 'not_found');

        expect((await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage())).status).toBe(201);
        // A changed secret is tested too (the fingerprint differs), and refused when wrong.
        precheck(await d().api('PUT', '/v1/storages/pt_oss', fixtures.ossStorage({ access_key_secret: wrongSecret })), 'access_key_secret');
        expect((await d().api('GET', '/v1/storages/pt_oss')).body.version).toBe(1);
        expect(fixtureOss().listObjects(FIXTURE_OSS.bucket)).toEqual([]);
      });
    });

    describe('POST /v1/storages/{name}/test', () => {
      const OSS_ID = 'test-key-id';
      const OSS_SECRET = 'test-key-secret-0123456789';
      let oss: OssSim;
      let dir: string;
      beforeAll(async () => {
        oss = await startOssSim({ accessKeyId: OSS_ID, accessKeySecret: OSS_SECRET, buckets: ['obbackup-test'] });
        dir = tempDir('obbackup-storage-test-');
      });
      afterAll(async () => {
        await oss?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      });

      it('a reachable file storage passes every step, reports usage against the threshold and leaves no probe', async () => {
        await d().api('PUT', '/v1/storages/t_file', fixtures.fileStorage({ path: dir, capacity_alarm_threshold: 99 }));
        const res = await d().api('POST', '/v1/storages/t_file/test');
        expect(res.status, res.text).toBe(200);
        expect(res.body).toMatchObject({ name: 't_file', version: 1, ok: true, storage: `file://${dir}`, capacity_alarm_threshold: 99 });
        expect(res.body.steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok])).toEqual([
          ['write', true],
          ['read', true],
          ['list', true],
          ['delete', true],
          ['usage', true],
        ]);
        expect(res.body.usage.capacity_bytes).toBeGreaterThan(0);
        expect(res.body.over_capacity_threshold).toBe(res.body.usage.used_percent >= 99);
        expect(fs.readdirSync(dir)).toEqual([]);
      });

      it('a directory gone since the storage was stored fails the test with a message naming it (200, ok false)', async () => {
        const missing = path.join(dir, 'not-there');
        fs.mkdirSync(missing);
        expect((await d().api('PUT', '/v1/storages/t_missing', fixtures.fileStorage({ path: missing }))).status).toBe(201);
        fs.rmdirSync(missing);
        const res = await d().api('POST', '/v1/storages/t_missing/test');
        expect(res.status).toBe(200);
        expect(res.body.ok).toBe(false);
        expect(res.body.error).toContain(missing);
        expect(res.body.steps[0]).toMatchObject({ step: 'write', ok: false });
      });

      it('an OSS storage is tested with its decrypted secret; a wrong secret fails without being shown', async () => {
        const body = { type: 'oss', path: 'obbackup-test/prod', endpoint: oss.endpoint, access_key_id: OSS_ID, access_key_secret: OSS_SECRET };
        expect((await d().api('PUT', '/v1/storages/t_oss', body)).status).toBe(201);
        const good = await d().api('POST', '/v1/storages/t_oss/test');
        expect(good.status).toBe(200);
        expect(good.body.ok, good.text).toBe(true);
        expect(oss.listObjects('obbackup-test')).toEqual([]);

        // An endpoint that went away since: the test says so, without the secret.
        const gone = await startOssSim({ accessKeyId: OSS_ID, accessKeySecret: OSS_SECRET, buckets: ['obbackup-test'] });
        expect((await d().api('PUT', '/v1/storages/t_oss_gone', { ...body, endpoint: gone.endpoint })).status).toBe(201);
        await gone.stop();
        const bad = await d().api('POST', '/v1/storages/t_oss_gone/test');
        expect(bad.status).toBe(200);
        expect(bad.body.ok).toBe(false);
        expect(bad.body.error).toContain(gone.endpoint);
        expect(bad.text).not.toContain(OSS_SECRET);
      });

      it('404 for a missing storage, 400 for a bad name, 401 without a token', async () => {
        expectError(await d().api('POST', '/v1/storages/nowhere/test'), 404, 'not_found');
        expectError(await d().api('POST', '/v1/storages/no-dash/test'), 400, 'validation_failed');
        expectError(await d().api('POST', '/v1/storages/t_file/test', undefined, { token: null }), 401, 'unauthorized');
      });
    });

    describe('policies', () => {
      it('PUT creates with every default applied, referencing an existing cluster and storage', async () => {
        await d().api('PUT', '/v1/clusters/pc1', fixtures.cluster());
        await d().api('PUT', '/v1/storages/ps1', fixtures.fileStorage());
        const res = await d().api('PUT', '/v1/policies/nightly', fixtures.policy('pc1', 'ps1'));
        expect(res.status).toBe(201);
        expect(res.body).toEqual({
          name: 'nightly',
          cluster: 'pc1',
          mode: 'physical',
          storage: 'ps1',
          schedule: { period: 'weekly', time: '02:00', timezone: 'UTC', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }] },
          log_archive: { enabled: true, piece_switch_interval: '1d' },
          cleanup: { enabled: false, retention_days: 7, time: '04:00' },
          alarms: { data_backup_timeout_minutes: 360, log_backup_delay_seconds: 600, no_successful_backup_days: 8 },
          secondary: { enabled: false },
          paused: false,
          catch_up: 'once',
          compaction_before_full: 'require',
          version: 1,
          created_at: res.body.created_at,
          updated_at: res.body.created_at,
        });
        expect((await d().api('PUT', '/v1/policies/nightly', fixtures.policy('pc1', 'ps1'))).status).toBe(200);
        expect((await d().api('GET', '/v1/policies')).body.items.map((p: { name: string }) => p.name)).toContain('nightly');
      });

      it('the contract example policy round-trips', async () => {
        await d().api('PUT', '/v1/clusters/prod-ob4x', fixtures.cluster());
        await d().api('PUT', '/v1/storages/nfs_mainx', fixtures.fileStorage());
        await d().api('PUT', '/v1/storages/oss_drx', fixtures.ossStorage());
        const policy = {
          cluster: 'prod-ob4x',
          mode: 'physical',
          storage: 'nfs_mainx',
          schedule: { period: 'weekly', time: '02:00', timezone: 'Asia/Shanghai', days: [{ day: 1, type: 'full' }, { day: 3, type: 'incremental' }] },
          log_archive: { enabled: true, piece_switch_interval: '1d' },
          cleanup: { enabled: true, retention_days: 30, time: '04:00' },
          alarms: { data_backup_timeout_minutes: 360, log_backup_delay_seconds: 600, no_successful_backup_days: 3 },
          secondary: { enabled: true, storage: 'oss_drx', retention_days: 14, schedule: { period: 'weekly', time: '05:00', timezone: 'UTC', days: [{ day: 7, type: 'full' }] } },
          paused: false,
          catch_up: 'once',
          compaction_before_full: 'trigger',
        };
        const res = await d().api('PUT', '/v1/policies/example', policy);
        expect(res.status).toBe(201);
        const { name, version, created_at, updated_at, ...declared } = res.body;
        expect(declared).toEqual(policy);
        expect([name, version]).toEqual(['example', 1]);
        expect(created_at).toBe(updated_at);
      });

      it('a missing cluster, storage or secondary storage → 409 with the path of each', async () => {
        await d().api('PUT', '/v1/storages/ref_s', fixtures.fileStorage());
        const res = await d().api(
          'PUT',
          '/v1/policies/dangling',
          fixtures.policy('no-such-cluster', 'no_such_store', {
            secondary: { enabled: true, storage: 'no_such_dr', retention_days: 7, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
          }),
        );
        expectError(res, 409, 'conflict');
        expect(res.body.message).toBe(
          'policy "dangling" refers to cluster "no-such-cluster" and storage "no_such_store" and storage "no_such_dr", which must exist first',
        );
        expect(res.body.details).toEqual([
          { path: 'cluster', message: 'cluster "no-such-cluster" does not exist' },
          { path: 'storage', message: 'storage "no_such_store" does not exist' },
          { path: 'secondary.storage', message: 'storage "no_such_dr" does not exist' },
        ]);
        expectError(await d().api('GET', '/v1/policies/dangling'), 404, 'not_found');
      });

      it('one policy per cluster: a second one → 409 naming the first; moving a policy to a free cluster works', async () => {
        await d().api('PUT', '/v1/clusters/one', fixtures.cluster());
        await d().api('PUT', '/v1/clusters/two', fixtures.cluster());
        await d().api('PUT', '/v1/storages/one_s', fixtures.fileStorage());
        expect((await d().api('PUT', '/v1/policies/first', fixtures.policy('one', 'one_s'))).status).toBe(201);
        const second = await d().api('PUT', '/v1/policies/second', fixtures.policy('one', 'one_s'));
        expectError(second, 409, 'conflict');
        expect(second.body.message).toBe('cluster "one" already has policy "first"; a cluster has one policy: change that one or delete it first');
        expect(second.body.details).toEqual([{ path: 'cluster', message: 'cluster "one" already has policy "first"' }]);
        expect((await d().api('PUT', '/v1/policies/second', fixtures.policy('two', 'one_s'))).status).toBe(201);
        const moved = await d().api('PUT', '/v1/policies/first', fixtures.policy('two', 'one_s'));
        expectError(moved, 409, 'conflict');
        expect(moved.body.message).toContain('already has policy "second"');
      });

      it('concurrent policies for one cluster: exactly one wins, the others get 409', async () => {
        await d().api('PUT', '/v1/clusters/contended', fixtures.cluster());
        await d().api('PUT', '/v1/storages/contended_s', fixtures.fileStorage());
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => d().api('PUT', `/v1/policies/contender-${i}`, fixtures.policy('contended', 'contended_s'))),
        );
        expect(results.filter((r) => r.status === 201)).toHaveLength(1);
        for (const r of results.filter((x) => x.status !== 201)) expectError(r, 409, 'conflict');
      });

      it('deleting a cluster or storage a policy uses → 409 naming the policy; free after the policy goes', async () => {
        await d().api('PUT', '/v1/clusters/used', fixtures.cluster());
        await d().api('PUT', '/v1/storages/used_primary', fixtures.fileStorage());
        await d().api('PUT', '/v1/storages/used_dr', fixtures.ossStorage());
        const policy = fixtures.policy('used', 'used_primary', {
          secondary: { enabled: true, storage: 'used_dr', retention_days: 7, schedule: { period: 'weekly', time: '05:00', days: [{ day: 7, type: 'full' }] } },
        });
        expect((await d().api('PUT', '/v1/policies/user', policy)).status).toBe(201);

        const c = await d().api('DELETE', '/v1/clusters/used');
        expectError(c, 409, 'conflict');
        expect(c.body.message).toBe('cluster "used" is used by policy "user"; delete that policy first');
        const s = await d().api('DELETE', '/v1/storages/used_primary');
        expectError(s, 409, 'conflict');
        expect(s.body.message).toBe('storage "used_primary" is used by policy "user"; change or delete that policy first');
        expectError(await d().api('DELETE', '/v1/storages/used_dr'), 409, 'conflict');
        expect((await d().api('GET', '/v1/clusters/used')).status).toBe(200);

        expect((await d().api('DELETE', '/v1/policies/user')).status).toBe(204);
        expect((await d().api('DELETE', '/v1/clusters/used')).status).toBe(204);
        expect((await d().api('DELETE', '/v1/storages/used_primary')).status).toBe(204);
        expect((await d().api('DELETE', '/v1/storages/used_dr')).status).toBe(204);
      });

      it('a model rule violation → 400 validation_failed with the path and the model message', async () => {
        await d().api('PUT', '/v1/clusters/rules', fixtures.cluster());
        await d().api('PUT', '/v1/storages/rules_s', fixtures.fileStorage());
        const res = await d().api('PUT', '/v1/policies/logical-incr', fixtures.policy('rules', 'rules_s', { mode: 'logical' }));
        expectError(res, 400, 'validation_failed');
        expect(res.body.details).toEqual([{ path: 'schedule.days[1].type', message: 'a logical backup supports only full backups' }]);
        expect(res.body.message).toBe('invalid policy "logical-incr": 1 problem');
      });

      it('the body name must equal the URL name', async () => {
        const res = await d().api('PUT', '/v1/policies/urlname', { ...fixtures.policy('rules', 'rules_s'), name: 'other' });
        expectError(res, 400, 'validation_failed');
        expect(res.body.details).toEqual([{ path: 'name', message: 'must equal the name in the URL ("urlname") or be left out' }]);
      });

      it('DELETE → 204 then 404; GET of a missing policy → 404', async () => {
        await d().api('PUT', '/v1/clusters/delp', fixtures.cluster());
        await d().api('PUT', '/v1/storages/delp_s', fixtures.fileStorage());
        await d().api('PUT', '/v1/policies/delp', fixtures.policy('delp', 'delp_s'));
        expect((await d().api('DELETE', '/v1/policies/delp')).status).toBe(204);
        expectError(await d().api('DELETE', '/v1/policies/delp'), 404, 'not_found');
        expectError(await d().api('GET', '/v1/policies/delp'), 404, 'not_found');
      });
    });
  });
}
