import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseIfMatch } from '../../daemon/api/resources.js';
import { defaultDataDir, loadToken, parseListen } from '../../daemon/config.js';
import { describeStore, parseStoreUrl } from '../../daemon/store/index.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-config-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('--listen', () => {
  it('reads HOST:PORT and [IPv6]:PORT', () => {
    expect(parseListen('127.0.0.1:7788')).toEqual({ host: '127.0.0.1', port: 7788 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  });

  it('says what is wrong', () => {
    for (const bad of ['7788', '127.0.0.1', '127.0.0.1:', ':7788', 'host:65536', 'host:port', '::1:80']) {
      expect(() => parseListen(bad)).toThrow(`--listen must be HOST:PORT (e.g. 127.0.0.1:7788), got "${bad}"`);
    }
  });
});

describe('--data-dir default', () => {
  it('is $OBBACKUP_DATA_DIR, else ~/.obbackup', () => {
    expect(defaultDataDir({ OBBACKUP_DATA_DIR: '/srv/obbackup' })).toBe('/srv/obbackup');
    expect(defaultDataDir({})).toBe(path.join(os.homedir(), '.obbackup'));
  });
});

describe('--store', () => {
  it('sqlite: defaults to obbackup.db in the data dir; FILE is relative to it', () => {
    expect(parseStoreUrl('sqlite:', '/d')).toEqual({ kind: 'sqlite', file: '/d/obbackup.db' });
    expect(parseStoreUrl('sqlite:meta.db', '/d')).toEqual({ kind: 'sqlite', file: '/d/meta.db' });
    expect(parseStoreUrl('sqlite:/var/lib/x.db', '/d')).toEqual({ kind: 'sqlite', file: '/var/lib/x.db' });
    expect(parseStoreUrl('sqlite:///var/lib/x.db', '/d')).toEqual({ kind: 'sqlite', file: '/var/lib/x.db' });
  });

  it('mysql:// decodes user and password; the description hides the password', () => {
    const config = parseStoreUrl('mysql://ob%40user:p%40ss%3Aw%2Fd@db.example:3307/obbackup', '/d');
    expect(config).toEqual({ kind: 'mysql', host: 'db.example', port: 3307, user: 'ob@user', password: 'p@ss:w/d', database: 'obbackup' });
    expect(describeStore(config)).toBe('mysql://ob%40user:***@db.example:3307/obbackup');
    expect(parseStoreUrl('mariadb://u@h/db', '/d')).toMatchObject({ kind: 'mysql', port: 3306, password: '' });
  });

  it('says what is wrong without repeating the URL', () => {
    const cases: Array<[string, string]> = [
      ['postgres://u:secretpw@h/db', '--store must be "sqlite:", "sqlite:FILE" or "mysql://user:password@host:port/database"'],
      ['mysql://u:secretpw@h', '--store: the MySQL URL needs a database name of letters, digits, "_" or "$" (…/database)'],
      ['mysql://u:secretpw@h/db;drop', '--store: the MySQL URL needs a database name of letters, digits, "_" or "$" (…/database)'],
      ['mysql://:secretpw@h/db', '--store: the MySQL URL needs a user (mysql://user:password@host:port/database)'],
      ['mysql://u:secretpw@h:99999/db', '--store is not a valid URL; expected mysql://user:password@host:port/database'],
    ];
    for (const [url, message] of cases) {
      expect(() => parseStoreUrl(url, '/d')).toThrow(message);
      try {
        parseStoreUrl(url, '/d');
      } catch (err) {
        expect((err as Error).message).not.toContain('secretpw');
      }
    }
  });
});

describe('API token', () => {
  it('is generated into the data dir (0600) on first start and reused', () => {
    const dir = tempDir();
    const first = loadToken({ dataDir: dir, env: {} });
    expect(first).toMatchObject({ source: 'data-dir', created: true, file: path.join(dir, 'token') });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(loadToken({ dataDir: dir, env: {} })).toEqual({ ...first, created: false });
  });

  it('--token-file wins over OBBACKUP_TOKEN, which wins over the data dir', () => {
    const dir = tempDir();
    const file = path.join(dir, 'given');
    fs.writeFileSync(file, 'from-the-token-file-123\n');
    expect(loadToken({ dataDir: dir, tokenFile: file, env: { OBBACKUP_TOKEN: 'from-the-environment-1' } })).toMatchObject({
      token: 'from-the-token-file-123',
      source: 'token-file',
    });
    expect(loadToken({ dataDir: dir, env: { OBBACKUP_TOKEN: 'from-the-environment-1' } })).toMatchObject({ token: 'from-the-environment-1', source: 'env' });
    expect(fs.existsSync(path.join(dir, 'token'))).toBe(false);
  });

  it('refuses short, unreadable and world-readable tokens', () => {
    const dir = tempDir();
    expect(() => loadToken({ dataDir: dir, env: { OBBACKUP_TOKEN: 'short' } })).toThrow('the API token from env OBBACKUP_TOKEN is too short (at least 16 characters)');
    expect(() => loadToken({ dataDir: dir, tokenFile: path.join(dir, 'missing'), env: {} })).toThrow(`cannot read --token-file ${path.join(dir, 'missing')}: ENOENT`);
    fs.writeFileSync(path.join(dir, 'token'), 'a-long-enough-token-value', { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'token'), 0o644);
    expect(() => loadToken({ dataDir: dir, env: {} })).toThrow('is readable by other users (mode 644)');
  });
});

describe('If-Match', () => {
  it('reads quoted, weak and bare versions, lists and *', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('"3"')).toEqual({ any: false, versions: [3] });
    expect(parseIfMatch('W/"3", 4')).toEqual({ any: false, versions: [3, 4] });
    expect(parseIfMatch('*')).toEqual({ any: true, versions: [] });
    for (const bad of ['"0"', 'abc', '"3', '', '*, "1"']) expect(() => parseIfMatch(bad)).toThrow('If-Match must be a version');
  });
});
