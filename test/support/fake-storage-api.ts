// TEST DOUBLE, not the daemon: a tiny HTTP server answering PUT/GET/DELETE /v1/storages/{name} the way
// the contract describes (bearer token, defaults applied, version + If-Match, secret fingerprints,
// {error, message, details} errors). It lets provider protocol tests run without obbackupd.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateSpec } from '../../model/index.js';

export interface FakeStorageApi {
  url: string;
  token: string;
  storages: Map<string, Record<string, unknown>>;
  requests: string[];
  /** Holds each PUT this long before answering (a slow storage test). */
  putDelayMs: number;
  close(): Promise<void>;
}

export async function startFakeStorageApi(token = 'test-token'): Promise<FakeStorageApi> {
  const storages = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === 'PUT' && api.putDelayMs > 0) {
        const timer = setTimeout(handle, api.putDelayMs);
        res.on('close', () => clearTimeout(timer));
      } else handle();
    });
    const handle = () => {
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'unauthorized', message: 'missing or invalid bearer token' });
      const m = /^\/v1\/storages\/([^/?]+)$/.exec(req.url ?? '');
      if (!m) return send(404, { error: 'not_found', message: `no route ${req.method} ${req.url}` });
      const name = decodeURIComponent(m[1]);
      const existing = storages.get(name);
      const ifMatch = req.headers['if-match'];
      if (req.method === 'GET') {
        if (!existing) return send(404, { error: 'not_found', message: `storage "${name}" does not exist` });
        return send(200, existing);
      }
      if (req.method === 'DELETE') {
        if (!existing) return send(404, { error: 'not_found', message: `storage "${name}" does not exist` });
        storages.delete(name);
        return send(204);
      }
      if (req.method === 'PUT') {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return send(400, { error: 'bad_request', message: 'request body is not valid JSON' });
        }
        const result = validateSpec('storage', body);
        if (!result.ok)
          return send(400, { error: 'validation_failed', message: `invalid storage "${name}": ${result.issues.length} problem(s)`, details: result.issues });
        if (ifMatch && existing && ifMatch.replace(/"/g, '') !== String(existing.version))
          return send(412, { error: 'precondition_failed', message: `storage "${name}" is at version ${existing.version}, not ${ifMatch}: it changed since it was read; read it again and retry` });
        const spec = { ...(result.value as Record<string, unknown>) };
        delete spec.name;
        delete spec.version;
        const secret = spec.access_key_secret;
        delete spec.access_key_secret;
        const stored: Record<string, unknown> = { name, ...spec };
        if (typeof secret === 'string') stored.access_key_secret_fingerprint = createHmac('sha256', 'fake-key').update(secret).digest('hex').slice(0, 16);
        stored.version = existing ? (existing.version as number) + 1 : 1;
        storages.set(name, stored);
        return send(existing ? 200 : 201, stored);
      }
      send(405, { error: 'bad_request', message: `method ${req.method} not allowed` });
    };
  });
  const api: FakeStorageApi = {
    url: '',
    token,
    storages,
    requests,
    putDelayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  api.url = `http://127.0.0.1:${port}`;
  return api;
}
