/** Where the daemon keeps its files and how it is reached: flags, env and first-start generation. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A configuration problem to report in one line (no stack trace). */
export class ConfigError extends Error {}

export const DEFAULT_LISTEN = '127.0.0.1:7788';
export const DATA_DIR_ENV = 'OBBACKUP_DATA_DIR';
export const TOKEN_ENV = 'OBBACKUP_TOKEN';
export const TOKEN_FILE = 'token';
const MIN_TOKEN_LENGTH = 16;

/** `$OBBACKUP_DATA_DIR`, else `~/.obbackup`, else (no home directory) `./.obbackup`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[DATA_DIR_ENV]) return path.resolve(env[DATA_DIR_ENV]);
  let home = '';
  try {
    home = os.homedir();
  } catch {
    // no home directory (some service accounts)
  }
  return home ? path.join(home, '.obbackup') : path.resolve('.obbackup');
}

export function ensureDataDir(dir: string): string {
  const resolved = path.resolve(dir);
  try {
    fs.mkdirSync(resolved, { recursive: true, mode: 0o700 });
    if (!fs.statSync(resolved).isDirectory()) throw new ConfigError(`--data-dir ${resolved} is not a directory`);
    fs.accessSync(resolved, fs.constants.W_OK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot use the data dir ${resolved}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return resolved;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[IPv6]:PORT`; port 0 picks a free port. */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--listen must be HOST:PORT (e.g. ${DEFAULT_LISTEN}), got "${value}"`);
  return { host: m[1] ?? m[2]!, port };
}

export interface LoadedToken {
  token: string;
  source: 'token-file' | 'env' | 'data-dir';
  /** The file the token came from or was written to. */
  file?: string;
  /** True when this start generated it. */
  created: boolean;
}

function checkToken(token: string, origin: string): string {
  if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`the API token from ${origin} is too short (at least ${MIN_TOKEN_LENGTH} characters)`);
  if (/\s/.test(token)) throw new ConfigError(`the API token from ${origin} must not contain spaces`);
  return token;
}

function readPrivateFile(file: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return text.trim();
}

/** The bearer token: `--token-file`, else env OBBACKUP_TOKEN, else `<dataDir>/token` (generated 0600 on first start). */
export function loadToken(options: { tokenFile?: string; dataDir: string; env?: NodeJS.ProcessEnv }): LoadedToken {
  const env = options.env ?? process.env;
  if (options.tokenFile) {
    const file = path.resolve(options.tokenFile);
    return { token: checkToken(readPrivateFile(file, '--token-file'), `--token-file ${file}`), source: 'token-file', file, created: false };
  }
  if (env[TOKEN_ENV]) return { token: checkToken(env[TOKEN_ENV], `env ${TOKEN_ENV}`), source: 'env', created: false };

  const file = path.join(options.dataDir, TOKEN_FILE);
  let created = false;
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot write the API token to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new ConfigError(`the token file ${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
  return { token: checkToken(readPrivateFile(file, 'the token file'), file), source: 'data-dir', file, created };
}
