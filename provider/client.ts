// REST client for obbackupd: bearer token, JSON, the daemon's {error, message, details} kept intact,
// and timeouts: a daemon that is down fails at once (connection refused) or within the connect timeout
// (10 s, unreachable host); one that accepts but never answers fails after the request timeout.
// node:http with a keep-alive agent rather than fetch: loading fetch's HTTP stack costs a provider
// process ~35 ms of CPU, paid on every Terraform walk that talks to the daemon.
import http from 'node:http';
import https from 'node:https';

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error answer from the daemon (its code, message and per-field details). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The daemon could not be reached or did not answer in time. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

export interface ClientOptions {
  endpoint: string;
  token?: string;
  /** Time allowed for one request (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7788';

/** Time allowed to open a connection (TCP, and TLS for https). */
const CONNECT_TIMEOUT_MS = 10_000;

interface RawResponse {
  status: number;
  text: string;
}

export class ObbackupClient {
  readonly endpoint: string;
  private readonly token?: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly https: boolean;
  private readonly agent: http.Agent;
  /** Per collection, one listing shared by the reads of one Terraform walk (see readFromListing). */
  private readonly listings = new Map<string, Promise<Map<string, Record<string, unknown>> | null>>();

  constructor(options: ClientOptions) {
    this.endpoint = normalizeEndpoint(options.endpoint);
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'terraform-provider-obbackup';
    this.https = this.endpoint.startsWith('https:');
    this.agent = this.https ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.endpoint + path;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let response: RawResponse;
    try {
      response = await this.send(method, url, headers, body, signal);
    } catch (e) {
      if (options.signal?.aborted) throw abortError(options.signal);
      throw new UnreachableError(this.describeFailure(e, timeoutMs, timeout.aborted));
    }
    const { status, text } = response;
    if (status < 200 || status > 299) throw toApiError(status, text, `${method} ${path}`);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(status, 'bad_response', `obbackupd answered ${method} ${path} with something that is not JSON`);
    }
  }

  /** One HTTP exchange: status and body text, or the transport error. */
  private send(method: string, url: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const transport = this.https ? https : http;
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const req = transport.request(url, { method, headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        });
      });
      req.on('error', reject);
      req.on('socket', (socket) => {
        if (!socket.connecting) return; // a kept-alive connection
        const timer = setTimeout(() => req.destroy(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })), CONNECT_TIMEOUT_MS);
        socket.once(this.https ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.end(body);
    });
  }

  private describeFailure(e: unknown, timeoutMs: number, timedOut: boolean): string {
    const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = err?.code && err.code !== 'ABORT_ERR' ? err.code : (err?.cause?.code ?? '');
    const where = `obbackupd at ${this.endpoint}`;
    const hint = 'Check that the daemon is running and that `endpoint` (or OBBACKUP_ENDPOINT) points at it.';
    if (timedOut) return `${where} did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}. ${hint}`;
    if (code === 'CONNECT_TIMEOUT') return `cannot connect to ${where}: no answer to the connection attempt (host unreachable or filtered). ${hint}`;
    if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused. ${hint}`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${where}. ${hint}`;
    if (code === 'ECONNRESET' || code === 'EPIPE') return `${where} closed the connection. ${hint}`;
    if (code.startsWith('ERR_TLS') || code.includes('CERT')) return `TLS connection to ${where} failed (${code}).`;
    return `cannot reach ${where}: ${err?.cause?.message ?? err?.message ?? String(e)}. ${hint}`;
  }

  // ---- resources (cluster, storage, policy): PUT/GET/DELETE /v1/{plural}/{name} ------------------------

  /** The stored object, or null when the daemon has none by that name. */
  async getResource<T = Record<string, unknown>>(plural: string, name: string, signal?: AbortSignal): Promise<T | null> {
    try {
      return await this.request<T>('GET', `/v1/${plural}/${encodeURIComponent(name)}`, { signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  async putResource<T = Record<string, unknown>>(
    plural: string,
    name: string,
    body: unknown,
    signal?: AbortSignal,
    timeoutMs?: number,
    headers?: Record<string, string>,
  ): Promise<T> {
    this.listings.delete(plural);
    return this.request<T>('PUT', `/v1/${plural}/${encodeURIComponent(name)}`, { body, signal, timeoutMs, headers });
  }

  /**
   * Reads an object through one listing of its collection: a provider process serves one Terraform walk,
   * whose refresh reads every object of a type, so one GET of the collection replaces one GET per object.
   * An object missing from the listing is read on its own (it may be new, or really gone).
   */
  async readFromListing<T = Record<string, unknown>>(plural: string, name: string, signal?: AbortSignal): Promise<T | null> {
    let listing = this.listings.get(plural);
    if (!listing) {
      // A listing that fails (or a daemon without one) only means reading objects one by one.
      listing = this.request<{ items?: Record<string, unknown>[] }>('GET', `/v1/${plural}`).then(
        (body) => (Array.isArray(body?.items) ? new Map(body.items.map((item) => [String(item.name), item])) : null),
        () => null,
      );
      this.listings.set(plural, listing);
    }
    const found = (await listing)?.get(name);
    if (found) return found as T;
    return this.getResource<T>(plural, name, signal);
  }

  /** Deletes; an object already gone is not an error. */
  async deleteResource(plural: string, name: string, signal?: AbortSignal): Promise<void> {
    this.listings.delete(plural);
    try {
      await this.request('DELETE', `/v1/${plural}/${encodeURIComponent(name)}`, { signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return;
      throw e;
    }
  }
}

export function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${endpoint}" is not a valid endpoint; expected a URL such as ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint must use http or https, got "${url.protocol.replace(':', '')}"`);
  return withScheme;
}

function toApiError(status: number, text: string, what: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; details?: unknown };
    if (body && typeof body.message === 'string') {
      const details = Array.isArray(body.details)
        ? body.details
            .filter((d): d is ErrorDetail => d && typeof d.message === 'string')
            .map((d) => ({ path: typeof d.path === 'string' ? d.path : '', message: d.message }))
        : [];
      return new ApiError(status, typeof body.error === 'string' ? body.error : `http_${status}`, body.message, details);
    }
  } catch {
    // not JSON: fall through
  }
  const statusText: Record<number, string> = { 401: 'the token was not accepted (check `token` or OBBACKUP_TOKEN)', 403: 'forbidden', 404: 'not found', 502: 'bad gateway', 503: 'unavailable' };
  return new ApiError(status, `http_${status}`, `obbackupd answered ${what} with HTTP ${status}${statusText[status] ? `: ${statusText[status]}` : ''}`);
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}
