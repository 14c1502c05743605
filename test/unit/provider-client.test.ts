// The REST client against small real HTTP servers: bearer token, error JSON kept intact, timeouts,
// a daemon that is down, cancellation.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, ObbackupClient, UnreachableError, normalizeEndpoint } from '../../provider/client.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serveWith(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

describe('ObbackupClient', () => {
  it('sends the bearer token and JSON, and parses the answer', async () => {
    let seen: { auth?: string; type?: string; body?: string; method?: string; url?: string } = {};
    const url = await serveWith((req, res, body) => {
      seen = { auth: req.headers.authorization, type: req.headers['content-type'], body, method: req.method, url: req.url };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"s1","version":1}');
    });
    const client = new ObbackupClient({ endpoint: url + '/', token: 'tok' });
    const out = await client.putResource('storages', 'a b', { type: 'file' });
    expect(out).toEqual({ name: 's1', version: 1 });
    expect(seen).toEqual({ auth: 'Bearer tok', type: 'application/json', body: '{"type":"file"}', method: 'PUT', url: '/v1/storages/a%20b' });
  });

  it("keeps the daemon's error, message and details", async () => {
    const url = await serveWith((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({ error: 'validation_failed', message: 'invalid policy "p": 1 problem', details: [{ path: 'schedule.days', message: 'too many' }] }),
      ),
    );
    const err = (await new ObbackupClient({ endpoint: url }).request('PUT', '/v1/policies/p', { body: {} }).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'validation_failed', message: 'invalid policy "p": 1 problem', details: [{ path: 'schedule.days', message: 'too many' }] });
  });

  it('explains a non-JSON error and a rejected token', async () => {
    const url = await serveWith((req, res) => (req.url === '/auth' ? res.writeHead(401).end() : res.writeHead(502).end('<html>bad gateway</html>')));
    const client = new ObbackupClient({ endpoint: url });
    await expect(client.request('GET', '/x')).rejects.toThrow('obbackupd answered GET /x with HTTP 502: bad gateway');
    await expect(client.request('GET', '/auth')).rejects.toThrow('the token was not accepted (check `token` or OBBACKUP_TOKEN)');
  });

  it('GET of a missing object is null; DELETE of a missing object is fine', async () => {
    const url = await serveWith((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"storage \\"x\\" does not exist"}'));
    const client = new ObbackupClient({ endpoint: url });
    expect(await client.getResource('storages', 'x')).toBe(null);
    await expect(client.deleteResource('storages', 'x')).resolves.toBeUndefined();
  });

  it('a daemon that is down fails at once with a clear message', async () => {
    const port = await closedPort();
    const started = performance.now();
    const err = (await new ObbackupClient({ endpoint: `127.0.0.1:${port}` }).request('GET', '/healthz').catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(
      `cannot connect to obbackupd at http://127.0.0.1:${port}: connection refused. Check that the daemon is running and that \`endpoint\` (or OBBACKUP_ENDPOINT) points at it.`,
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a daemon that never answers fails after the timeout', async () => {
    const url = await serveWith(() => {
      /* never answers */
    });
    const err = (await new ObbackupClient({ endpoint: url, timeoutMs: 300 }).request('GET', '/v1/clusters').catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain('did not answer within 300 ms');
  });

  it('cancellation wins over the timeout and is not reported as unreachable', async () => {
    const url = await serveWith(() => {});
    const controller = new AbortController();
    const pending = new ObbackupClient({ endpoint: url }).request('GET', '/slow', { signal: controller.signal }).catch((e: Error) => e) as Promise<Error>;
    setTimeout(() => controller.abort(new DOMException('stop', 'AbortError')), 50);
    const err = await pending;
    expect(err.name).toBe('AbortError');
  });

  it('normalizes endpoints', () => {
    expect(normalizeEndpoint('127.0.0.1:7788')).toBe('http://127.0.0.1:7788');
    expect(normalizeEndpoint('https://ob.example:8443/')).toBe('https://ob.example:8443');
    expect(() => normalizeEndpoint('ftp://x')).toThrow('endpoint must use http or https, got "ftp"');
  });
});
