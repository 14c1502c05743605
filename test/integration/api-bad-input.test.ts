/**
 * Bad input on every route: a table of cases (each a 4xx with the contract's error JSON, never a 500 or
 * a stack trace, never an echo of the body) and a property test throwing random JSON at each route.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema, type ErrorCode } from '../../model/index.js';
import { BACKENDS, FIXTURE_OSS, fixtureDir, fixtures, useDaemon, useOssSim, type ApiResponse, type RequestOptions } from '../support/daemon.js';

interface Case extends RequestOptions {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  error: ErrorCode;
  /** Exact message, or a prefix ending in "…". */
  message?: string;
  details?: Array<{ path: string; message: string }>;
}

/** Planted in bodies: must never come back in an answer. */
const MARKER = 'Zq9-planted-secret-7Xw';
const json = { 'content-type': 'application/json' };
const weekly = { period: 'weekly', time: '02:00', days: [{ day: 1, type: 'full' }] };
const nameRule = 'must start with a letter and contain 2-63 letters, digits, "-" or "_"';
const storageNameRule = 'must start with a letter and contain 2-32 letters, digits or underscores';

const cases: Case[] = [
  // PUT /v1/clusters/{name}
  { name: 'truncated JSON', method: 'PUT', path: '/v1/clusters/c1', raw: `{"host":"h","password":"${MARKER}"`, headers: json, status: 400, error: 'bad_request', message: 'request body is not valid JSON…' },
  { name: 'JSON with trailing garbage', method: 'PUT', path: '/v1/clusters/c1', raw: `{"password":"${MARKER}"} x`, headers: json, status: 400, error: 'bad_request', message: 'request body is not valid JSON…' },
  { name: 'unquoted value holding a secret', method: 'PUT', path: '/v1/clusters/c1', raw: `{"password": ${MARKER}}`, headers: json, status: 400, error: 'bad_request', message: 'request body is not valid JSON…' },
  { name: 'single quotes', method: 'PUT', path: '/v1/clusters/c1', raw: "{'host':'h'}", headers: json, status: 400, error: 'bad_request', message: 'request body is not valid JSON…' },
  { name: 'body is a list', method: 'PUT', path: '/v1/clusters/c1', body: [], status: 400, error: 'bad_request', message: 'request body must be a JSON object describing the cluster' },
  { name: 'body is a string', method: 'PUT', path: '/v1/clusters/c1', body: MARKER, status: 400, error: 'bad_request', message: 'request body must be a JSON object describing the cluster' },
  { name: 'body is null', method: 'PUT', path: '/v1/clusters/c1', raw: 'null', headers: json, status: 400, error: 'bad_request' },
  { name: 'body is a number', method: 'PUT', path: '/v1/clusters/c1', raw: '42', headers: json, status: 400, error: 'bad_request' },
  { name: 'empty JSON body', method: 'PUT', path: '/v1/clusters/c1', raw: '', headers: json, status: 400, error: 'bad_request', message: 'request body is empty; send a JSON object' },
  { name: 'whitespace-only JSON body', method: 'PUT', path: '/v1/clusters/c1', raw: ' \n ', headers: json, status: 400, error: 'bad_request', message: 'request body is empty; send a JSON object' },
  { name: 'no body at all', method: 'PUT', path: '/v1/clusters/c1', status: 400, error: 'bad_request', message: 'request body must be a JSON object describing the cluster' },
  { name: 'text/plain body', method: 'PUT', path: '/v1/clusters/c1', raw: `password=${MARKER}`, headers: { 'content-type': 'text/plain' }, status: 415, error: 'unsupported_media_type', message: 'request body must be JSON (Content-Type: application/json)' },
  { name: 'form body', method: 'PUT', path: '/v1/clusters/c1', raw: 'host=h', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: 'unsupported_media_type' },
  { name: 'XML body', method: 'PUT', path: '/v1/clusters/c1', raw: '<cluster/>', headers: { 'content-type': 'application/xml' }, status: 415, error: 'unsupported_media_type' },
  { name: 'oversized body', method: 'PUT', path: '/v1/clusters/c1', raw: JSON.stringify({ host: 'h', password: 'p', tenants: ['x'.repeat(300_000)] }), headers: json, status: 413, error: 'payload_too_large', message: 'request body exceeds the limit of 262144 bytes' },
  { name: 'deeply nested body', method: 'PUT', path: '/v1/clusters/c1', raw: '['.repeat(100_000) + ']'.repeat(100_000), headers: json, status: 400, error: 'bad_request', message: 'request body nests deeper than 32 levels' },
  { name: 'deeply nested object under a known field', method: 'PUT', path: '/v1/clusters/c1', raw: `{"host":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, headers: json, status: 400, error: 'bad_request' },
  { name: '__proto__ key', method: 'PUT', path: '/v1/clusters/c1', raw: '{"host":"h","password":"p","__proto__":{"admin":true}}', headers: json, status: 400, error: 'bad_request', message: 'request body must not contain a "__proto__" key' },
  { name: 'constructor.prototype key', method: 'PUT', path: '/v1/clusters/c1', raw: '{"constructor":{"prototype":{"x":1}}}', headers: json, status: 400, error: 'bad_request', message: 'request body must not contain a "constructor" key' },
  { name: 'port as a string', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ port: '2881' }), status: 400, error: 'validation_failed', details: [{ path: 'port', message: 'must be a number, got a string' }] },
  { name: 'port as a fraction', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ port: 2881.5 }), status: 400, error: 'validation_failed', details: [{ path: 'port', message: 'must be an integer' }] },
  { name: 'password as a number', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ password: 98765 }), status: 400, error: 'validation_failed', details: [{ path: 'password', message: 'must be a string, got a number' }] },
  { name: 'unknown field', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ admin: MARKER }), status: 400, error: 'validation_failed', details: [{ path: 'admin', message: 'unknown field "admin"' }] },
  { name: 'missing host', method: 'PUT', path: '/v1/clusters/c1', body: { password: MARKER }, status: 400, error: 'validation_failed', details: [{ path: 'host', message: 'is required' }] },
  { name: 'control character in host', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ host: 'ob\u0000host' }), status: 400, error: 'validation_failed', details: [{ path: 'host', message: 'must be a host name or an IP address' }] },
  { name: 'version as a string', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ version: '1' }), status: 400, error: 'validation_failed', details: [{ path: 'version', message: 'must be a number, got a string' }] },
  { name: 'body name differs from the URL', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster({ name: 'c2', password: MARKER }), status: 400, error: 'validation_failed', details: [{ path: 'name', message: 'must equal the name in the URL ("c1") or be left out' }] },
  { name: 'name starting with a digit', method: 'PUT', path: '/v1/clusters/9lives', body: fixtures.cluster(), status: 400, error: 'validation_failed', message: 'invalid cluster name in the URL', details: [{ path: 'name', message: nameRule }] },
  { name: 'name of 64 characters', method: 'PUT', path: `/v1/clusters/a${'b'.repeat(63)}`, body: fixtures.cluster(), status: 400, error: 'validation_failed', details: [{ path: 'name', message: nameRule }] },
  { name: 'name with an encoded space', method: 'PUT', path: '/v1/clusters/prod%20ob', body: fixtures.cluster(), status: 400, error: 'validation_failed' },
  { name: 'name with an encoded slash', method: 'PUT', path: '/v1/clusters/a%2Fb', body: fixtures.cluster(), status: 400, error: 'validation_failed' },
  { name: 'name with non-ASCII letters', method: 'PUT', path: `/v1/clusters/${encodeURIComponent('集群')}`, body: fixtures.cluster(), status: 400, error: 'validation_failed' },
  { name: 'malformed If-Match', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster(), headers: { 'if-match': 'v1' }, status: 400, error: 'bad_request' },
  { name: 'If-Match on a missing cluster', method: 'PUT', path: '/v1/clusters/c-missing', body: fixtures.cluster(), headers: { 'if-match': '"1"' }, status: 412, error: 'precondition_failed' },
  { name: 'no token', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster(), token: null, status: 401, error: 'unauthorized' },
  { name: 'wrong token', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster(), token: MARKER, status: 401, error: 'unauthorized', message: 'invalid API token' },
  { name: 'empty bearer', method: 'PUT', path: '/v1/clusters/c1', body: fixtures.cluster(), token: null, headers: { authorization: 'Bearer ' }, status: 401, error: 'unauthorized' },
  { name: 'oversized body without a token', method: 'PUT', path: '/v1/clusters/c1', raw: 'x'.repeat(400_000), headers: json, token: null, status: 401, error: 'unauthorized' },

  // PUT /v1/storages/{name}
  { name: 'storage name with a hyphen', method: 'PUT', path: '/v1/storages/nfs-main', body: fixtures.fileStorage(), status: 400, error: 'validation_failed', details: [{ path: 'name', message: storageNameRule }] },
  { name: 'storage name of one character', method: 'PUT', path: '/v1/storages/s', body: fixtures.fileStorage(), status: 400, error: 'validation_failed' },
  { name: 'oss without credentials', method: 'PUT', path: '/v1/storages/oss1', body: { type: 'oss', path: 'bucket-a/x' }, status: 400, error: 'validation_failed', details: [
    { path: 'endpoint', message: 'is required for oss storage' },
    { path: 'access_key_id', message: 'is required for oss storage' },
    { path: 'access_key_secret', message: 'is required for oss storage' },
  ] },
  { name: 'threshold 150', method: 'PUT', path: '/v1/storages/s1', body: fixtures.fileStorage({ capacity_alarm_threshold: 150 }), status: 400, error: 'validation_failed', details: [{ path: 'capacity_alarm_threshold', message: 'must be 1-99 (percent)' }] },
  { name: 'missing type', method: 'PUT', path: '/v1/storages/s1', body: { path: '/x' }, status: 400, error: 'validation_failed', details: [{ path: 'type', message: 'must be "file" or "oss"' }] },
  { name: 'relative file path', method: 'PUT', path: '/v1/storages/s1', body: fixtures.fileStorage({ path: 'backup' }), status: 400, error: 'validation_failed', details: [{ path: 'path', message: 'must be an absolute directory path for file storage' }] },
  { name: 'secret with a wrong type field', method: 'PUT', path: '/v1/storages/oss1', body: fixtures.ossStorage({ access_key_secret: MARKER, capacity_alarm_threshold: 'high' }), status: 400, error: 'validation_failed', details: [{ path: 'capacity_alarm_threshold', message: 'must be a number, got a string' }] },
  { name: 'storage body true', method: 'PUT', path: '/v1/storages/s1', raw: 'true', headers: json, status: 400, error: 'bad_request' },

  // PUT /v1/policies/{name}
  { name: 'schedule as a string', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { schedule: 'weekly' }), status: 400, error: 'validation_failed', details: [{ path: 'schedule', message: 'must be an object, got a string' }] },
  { name: 'missing schedule', method: 'PUT', path: '/v1/policies/p1', body: { cluster: 'c1', storage: 's1' }, status: 400, error: 'validation_failed', details: [{ path: 'schedule', message: 'is required' }] },
  { name: 'eleven monthly days', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { schedule: { ...weekly, period: 'monthly', days: Array.from({ length: 11 }, (_, i) => ({ day: i + 1, type: 'full' })) } }), status: 400, error: 'validation_failed', details: [{ path: 'schedule.days', message: 'a monthly schedule may select at most 10 days, got 11' }] },
  { name: '10,000 schedule days', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { schedule: { ...weekly, days: Array.from({ length: 10_000 }, () => ({ day: 1, type: 'full' })) } }), status: 400, error: 'validation_failed' },
  { name: 'path-like timezone', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { schedule: { ...weekly, timezone: '../../etc/passwd' } }), status: 400, error: 'validation_failed', details: [{ path: 'schedule.timezone', message: 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"' }] },
  { name: 'secondary on the primary storage', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { secondary: { enabled: true, storage: 's1', retention_days: 7, schedule: weekly } }), status: 400, error: 'validation_failed', details: [{ path: 'secondary.storage', message: 'must differ from the primary storage "s1"' }] },
  { name: 'log archive off for physical', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('c1', 's1', { log_archive: { enabled: false } }), status: 400, error: 'validation_failed', details: [{ path: 'log_archive.enabled', message: 'log archiving cannot be turned off for a physical backup' }] },
  { name: 'policy for a missing cluster', method: 'PUT', path: '/v1/policies/p1', body: fixtures.policy('ghost', 's1'), status: 409, error: 'conflict', details: [{ path: 'cluster', message: 'cluster "ghost" does not exist' }] },
  { name: 'policy name with a dot', method: 'PUT', path: '/v1/policies/p.1', body: fixtures.policy('c1', 's1'), status: 400, error: 'validation_failed' },

  // GET / DELETE / list / routing
  { name: 'GET cluster with a bad name', method: 'GET', path: '/v1/clusters/-x', status: 400, error: 'validation_failed' },
  { name: 'GET storage with a bad name', method: 'GET', path: '/v1/storages/x-y', status: 400, error: 'validation_failed' },
  { name: 'GET policy with a bad name', method: 'GET', path: '/v1/policies/_p', status: 400, error: 'validation_failed' },
  { name: 'GET a missing policy', method: 'GET', path: '/v1/policies/nowhere', status: 404, error: 'not_found', message: 'policy "nowhere" does not exist' },
  { name: 'GET with bad percent-encoding', method: 'GET', path: '/v1/clusters/%zz', status: 400, error: 'bad_request' },
  { name: 'GET with a long name', method: 'GET', path: `/v1/clusters/${'a'.repeat(200)}`, status: 400, error: 'validation_failed', details: [{ path: 'name', message: nameRule }] },
  { name: 'GET with a very long name', method: 'GET', path: `/v1/clusters/${'a'.repeat(5000)}`, status: 414, error: 'bad_request', message: 'a name in the URL is far too long' },
  { name: 'DELETE with a bad name', method: 'DELETE', path: '/v1/storages/9s', status: 400, error: 'validation_failed' },
  { name: 'DELETE with a malformed If-Match', method: 'DELETE', path: '/v1/clusters/c1', headers: { 'if-match': 'latest' }, status: 400, error: 'bad_request' },
  { name: 'DELETE with a malformed JSON body', method: 'DELETE', path: '/v1/clusters/c1', raw: '{', headers: json, status: 400, error: 'bad_request' },
  { name: 'DELETE a missing storage', method: 'DELETE', path: '/v1/storages/nothing', status: 404, error: 'not_found' },
  { name: 'list without a token', method: 'GET', path: '/v1/policies', token: null, status: 401, error: 'unauthorized' },
  { name: 'POST on a collection', method: 'POST', path: '/v1/clusters', body: fixtures.cluster(), status: 404, error: 'not_found', message: 'no route POST /v1/clusters' },
  { name: 'PATCH on a policy', method: 'PATCH', path: '/v1/policies/p1', body: {}, status: 404, error: 'not_found' },
  { name: 'unknown route', method: 'GET', path: '/v2/clusters', status: 404, error: 'not_found' },
];

function expectContractError(res: ApiResponse) {
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text).toBeLessThan(500);
  const parsed = errorBodySchema.strict().safeParse(res.body);
  expect(parsed.success, res.text).toBe(true);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

for (const backend of BACKENDS) {
  describe(`bad input on ${backend}`, () => {
    const d = useDaemon(backend);
    const oss = useOssSim();
    beforeAll(async () => {
      await d().api('PUT', '/v1/clusters/c1', fixtures.cluster());
      await d().api('PUT', '/v1/storages/s1', fixtures.fileStorage());
      await d().api('PUT', '/v1/storages/s2', fixtures.ossStorage());
    });

    it(`has at least 40 cases (${cases.length})`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it.each(cases)('$method $name → $status $error', async (c) => {
      const res = await d().api(c.method, c.path, c.body, c);
      expect(res.status, res.text).toBe(c.status);
      expectContractError(res);
      expect(res.body.error).toBe(c.error);
      if (c.message?.endsWith('…')) expect(res.body.message.startsWith(c.message.slice(0, -1)), res.body.message).toBe(true);
      else if (c.message) expect(res.body.message).toBe(c.message);
      if (c.details) expect(res.body.details).toEqual(c.details);
      expect(res.text).not.toContain(MARKER);
    });

    it('left nothing behind: the fixtures are unchanged and no rejected write was stored', async () => {
      const clusters = await d().api('GET', '/v1/clusters');
      expect(clusters.body.items.map((c: { name: string }) => c.name)).toEqual(['c1']);
      expect(clusters.body.items[0].version).toBe(1);
      expect((await d().api('GET', '/v1/policies')).body.items).toEqual([]);
      expect((await d().api('GET', '/v1/healthz'.replace('/v1', ''), undefined, { token: null })).status).toBe(200);
    });

    describe('random input (fast-check)', () => {
      beforeAll(async () => {
        for (const c of ['c2', 'c3']) await d().api('PUT', `/v1/clusters/${c}`, fixtures.cluster());
      });
      const anyJson = fc.jsonValue({ maxDepth: 4 });
      // Mostly well-formed names (so requests reach the store), sometimes anything at all.
      const name = fc.oneof(
        { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{1,20}$/) },
        { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
      );
      const schedule = fc.record({
        period: fc.constant('weekly'),
        time: fc.constantFrom('02:00', '23:59'),
        timezone: fc.constantFrom('UTC', 'Asia/Shanghai'),
        days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }).map((days) => days.map((day) => ({ day, type: 'full' }))),
      });
      const validBodies = {
        clusters: fc.record(
          {
            host: fc.constantFrom('10.0.0.1', 'ob.example'),
            port: fc.integer({ min: 1, max: 65535 }),
            password: fc.string({ maxLength: 40 }),
            tenants: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), { maxLength: 4 }),
          },
          { requiredKeys: ['host', 'password'] },
        ),
        storages: fc.oneof(
          // Real places, so valid bodies pass the storage test PUT runs; a random secret fails it (422).
          fc.record({ type: fc.constant('file'), path: fc.constantFrom('a', 'b').map((dir) => fixtureDir(dir)), capacity_alarm_threshold: fc.integer({ min: 1, max: 99 }) }),
          fc.record({
            type: fc.constant('oss'),
            path: fc.constant(`${FIXTURE_OSS.bucket}/p`),
            endpoint: fc.constant(null).map(() => oss().endpoint),
            access_key_id: fc.constant(FIXTURE_OSS.accessKeyId),
            access_key_secret: fc.oneof(fc.constant(FIXTURE_OSS.accessKeySecret), fc.string({ minLength: 1, maxLength: 30 })),
          }),
        ),
        policies: fc.record({
          cluster: fc.constantFrom('c1', 'c2', 'c3', 'ghost'),
          storage: fc.constantFrom('s1', 's2'),
          mode: fc.constantFrom('physical', 'logical'),
          schedule,
          catch_up: fc.constantFrom('once', 'skip'),
          paused: fc.boolean(),
        }),
      };
      // A change that may break the body: drop a field, replace one with random JSON, or add one.
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('drop' as const), index: fc.nat() }),
        fc.record({ op: fc.constant('replace' as const), index: fc.nat(), value: anyJson }),
        fc.record({ op: fc.constant('add' as const), key: fc.string({ maxLength: 12 }), value: anyJson }),
      );
      const mutated = (valid: fc.Arbitrary<Record<string, unknown>>) =>
        fc.tuple(valid, fc.array(mutation, { maxLength: 2 })).map(([body, mutations]) => {
          const out: Record<string, unknown> = { ...body };
          for (const m of mutations) {
            const keys = Object.keys(out);
            if (m.op === 'add') out[m.key] = m.value;
            else if (keys.length > 0 && m.op === 'drop') delete out[keys[m.index % keys.length]!];
            else if (keys.length > 0 && m.op === 'replace') out[keys[m.index % keys.length]!] = m.value;
          }
          return out;
        });
      const bodies = {
        clusters: fc.oneof({ weight: 1, arbitrary: anyJson }, { weight: 4, arbitrary: mutated(validBodies.clusters) }),
        storages: fc.oneof({ weight: 1, arbitrary: anyJson }, { weight: 4, arbitrary: mutated(validBodies.storages) }),
        policies: fc.oneof({ weight: 1, arbitrary: anyJson }, { weight: 4, arbitrary: mutated(validBodies.policies) }),
      };

      const seen = new Map<string, number>();
      async function expectOnly2xxOr4xx(res: ApiResponse, tally?: string) {
        if (tally) seen.set(`${tally} ${res.status}`, (seen.get(`${tally} ${res.status}`) ?? 0) + 1);
        if (res.status >= 200 && res.status < 300) {
          // A resource, or the list when the random name was empty (`/v1/clusters/` is the collection).
          if (res.status !== 204) expect(res.body.version ?? res.body.items, res.text).toBeDefined();
          return;
        }
        expectContractError(res);
      }

      for (const plural of ['clusters', 'storages', 'policies'] as const) {
        it(`PUT /v1/${plural}/{name} with random names and bodies answers 2xx or 4xx with the error JSON`, async () => {
          await fc.assert(
            fc.asyncProperty(name, bodies[plural], async (n, body) => {
              const res = await d().api('PUT', `/v1/${plural}/${encodeURIComponent(n)}`, undefined, { raw: JSON.stringify(body), headers: json });
              await expectOnly2xxOr4xx(res, plural);
            }),
            { numRuns: 120 },
          );
          // The generators are shaped so that some bodies are valid: the write path is exercised too.
          expect(seen.get(`${plural} 201`) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
        });

        it(`GET and DELETE /v1/${plural}/{name} with random names answer 2xx or 4xx`, async () => {
          await fc.assert(
            fc.asyncProperty(name, fc.constantFrom('GET', 'DELETE'), async (n, method) => {
              await expectOnly2xxOr4xx(await d().api(method, `/v1/${plural}/${encodeURIComponent(n)}`));
            }),
            { numRuns: 60 },
          );
        });
      }

      it('random bytes as a JSON body answer 4xx', async () => {
        await fc.assert(
          fc.asyncProperty(fc.string({ maxLength: 200 }), fc.constantFrom('clusters', 'storages', 'policies'), async (text, plural) => {
            await expectOnly2xxOr4xx(await d().api('PUT', `/v1/${plural}/fuzzed`, undefined, { raw: text, headers: json }));
          }),
          { numRuns: 100 },
        );
      });
    });
  });
}
