// How the CLI reaches obbackupd: the endpoint (--endpoint, OBBACKUP_ENDPOINT, else the daemon's default
// address), the token (--token-file, OBBACKUP_TOKEN, else the token file the daemon generated in its data
// dir), and errors worded for a person: one line, never a stack.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LISTEN, defaultDataDir, TOKEN_ENV, TOKEN_FILE } from '../daemon/config.js';

export const ENDPOINT_ENV = 'OBBACKUP_ENDPOINT';

/** A failure to report as one line; `exitCode` says what kind (see HELP in main.ts). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  endpoint?: string;
  tokenFile?: string;
  env?: NodeJS.ProcessEnv;
  /** per request (default 30 s) */
  timeoutMs?: number;
}

function readToken(file: string, origin: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the API token from ${origin} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)}`, 2);
  }
  if (!text) throw new CliError(`the token file ${file} is empty`, 2);
  return text;
}

/** The bearer token and where it came from (for messages; never the token itself). */
export function resolveToken(options: ClientOptions): { token: string | undefined; source: string } {
  const env = options.env ?? process.env;
  if (options.tokenFile) return { token: readToken(path.resolve(options.tokenFile), '--token-file'), source: `--token-file ${options.tokenFile}` };
  if (env[TOKEN_ENV]) return { token: env[TOKEN_ENV]!.trim(), source: `env ${TOKEN_ENV}` };
  const file = path.join(defaultDataDir(env), TOKEN_FILE);
  if (fs.existsSync(file)) return { token: readToken(file, "the daemon's token file"), source: file };
  return { token: undefined, source: `none (no ${TOKEN_ENV}, no --token-file, no ${file})` };
}

export function resolveEndpoint(options: ClientOptions): string {
  const env = options.env ?? process.env;
  const raw = options.endpoint ?? env[ENDPOINT_ENV] ?? `http://${DEFAULT_LISTEN}`;
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new CliError(`${options.endpoint ? '--endpoint' : ENDPOINT_ENV} must be a URL such as http://127.0.0.1:7788, got "${raw}"`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`the endpoint must be http:// or https://, got "${raw}"`, 2);
  return url.toString().replace(/\/+$/, '');
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

export class Client {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly tokenSource: string;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions = {}) {
    this.endpoint = resolveEndpoint(options);
    const t = resolveToken(options);
    this.token = t.token;
    this.tokenSource = t.source;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Any answer the daemon gives; throws CliError only when it cannot be reached or refuses the token. */
  async request<T = any>(method: string, urlPath: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.endpoint}${urlPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
      const code = cause?.code ?? cause?.errors?.[0]?.code ?? ((err as Error).name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
      const reason = (code && NETWORK_REASONS[code]) ?? code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach obbackupd at ${this.endpoint} (${reason}); is it running? Set ${ENDPOINT_ENV} or --endpoint to where it listens`, 3);
    }
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (response.status === 401) {
      throw new CliError(
        this.token
          ? `obbackupd at ${this.endpoint} refused the API token from ${this.tokenSource}; use the token in the daemon's data dir (file "${TOKEN_FILE}")`
          : `obbackupd at ${this.endpoint} wants an API token: set ${TOKEN_ENV}, pass --token-file, or run where the daemon's data dir is (${this.tokenSource})`,
        4,
      );
    }
    return { status: response.status, body: parsed as T };
  }

  /** A 2xx answer's body; anything else becomes a CliError with the daemon's message. */
  async get<T = any>(urlPath: string): Promise<T> {
    const answer = await this.request<T>('GET', urlPath);
    if (answer.status >= 300) throw apiError(answer);
    return answer.body;
  }
}

/** The daemon's error JSON as one or a few lines. */
export function apiError(answer: ApiAnswer): CliError {
  const b = answer.body as { error?: string; message?: string; details?: Array<{ path: string; message: string }> } | string;
  if (b && typeof b === 'object' && b.message) {
    const details = (b.details ?? []).map((d) => `\n  ${d.path ? `${d.path}: ` : ''}${d.message}`).join('');
    return new CliError(`${b.message}${details}`, 1);
  }
  return new CliError(`obbackupd answered HTTP ${answer.status}${typeof b === 'string' && b ? `: ${b.split('\n')[0]!.slice(0, 200)}` : ''}`, 1);
}
