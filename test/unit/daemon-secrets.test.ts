import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKey, loadSecretKey, SecretBox, SecretDecryptError, SecretKeyError, verifyKeyAgainstStore } from '../../daemon/secrets/index.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obbackup-secrets-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const box = new SecretBox(randomBytes(32));

describe('SecretBox', () => {
  it('seals with a fresh IV each time and opens back', () => {
    const a = box.seal('hunter2', 'cluster/c1/password');
    const b = box.seal('hunter2', 'cluster/c1/password');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('hunter2');
    expect(box.open(a, 'cluster/c1/password')).toBe('hunter2');
    expect(box.open(box.seal('', 'x'), 'x')).toBe('');
    expect(box.open(box.seal('密码 ✓', 'x'), 'x')).toBe('密码 ✓');
  });

  it('refuses a ciphertext moved to another resource or field, altered, or opened with another key', () => {
    const sealed = box.seal('hunter2', 'cluster/c1/password');
    expect(() => box.open(sealed, 'cluster/c2/password')).toThrow(SecretDecryptError);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1.${raw.toString('base64url')}`, 'cluster/c1/password')).toThrow(SecretDecryptError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'cluster/c1/password')).toThrow(
      'secret cluster/c1/password cannot be decrypted: wrong secret key, or the stored value was altered',
    );
    expect(() => box.open('v2.abc', 'x')).toThrow('secret x is not in a known format');
    expect(() => box.open('v1.abc', 'x')).toThrow('secret x is truncated');
  });

  it('fingerprints are stable per key and context, and differ across keys, contexts and values', () => {
    const fp = box.fingerprint('hunter2', 'cluster/c1/password');
    expect(fp).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{32}$/);
    expect(box.fingerprint('hunter2', 'cluster/c1/password')).toBe(fp);
    expect(box.fingerprint('hunter3', 'cluster/c1/password')).not.toBe(fp);
    expect(box.fingerprint('hunter2', 'cluster/c2/password')).not.toBe(fp);
    expect(new SecretBox(randomBytes(32)).fingerprint('hunter2', 'cluster/c1/password')).not.toBe(fp);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretKeyError);
  });
});

describe('loadSecretKey', () => {
  it('generates a 0600 key file on first start and reuses it', () => {
    const dir = tempDir();
    const first = loadSecretKey(dir, {});
    expect(first).toMatchObject({ source: 'file', created: true, file: path.join(dir, 'secret.key') });
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    const second = loadSecretKey(dir, {});
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('refuses a key file others can read, and one without a key', () => {
    const dir = tempDir();
    const file = path.join(dir, 'secret.key');
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => loadSecretKey(dir, {})).toThrow(`the secret key file ${file} is readable by other users (mode 644); run: chmod 600 ${file}`);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, 'short');
    expect(() => loadSecretKey(dir, {})).toThrow('does not hold a 32-byte key');
  });

  it('takes OBBACKUP_SECRET_KEY as hex or base64 and never echoes a bad one', () => {
    const key = randomBytes(32);
    for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
      const loaded = loadSecretKey(tempDir(), { OBBACKUP_SECRET_KEY: text });
      expect(loaded.source).toBe('env');
      expect(loaded.key.equals(key)).toBe(true);
    }
    const bad = 'not-a-key-but-maybe-a-password';
    let message = '';
    try {
      loadSecretKey(tempDir(), { OBBACKUP_SECRET_KEY: bad });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('OBBACKUP_SECRET_KEY must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -base64 32)');
    expect(decodeKey(randomBytes(31).toString('base64'))).toBeUndefined();
  });
});

describe('verifyKeyAgainstStore', () => {
  it('records a check value on first use and refuses a different key later', async () => {
    const settings = new Map<string, string>();
    const store = { initSetting: async (name: string, value: string) => settings.get(name) ?? (settings.set(name, value), value) };
    await verifyKeyAgainstStore(box, store, 'test');
    await verifyKeyAgainstStore(box, store, 'test');
    await expect(verifyKeyAgainstStore(new SecretBox(randomBytes(32)), store, '/x/secret.key')).rejects.toThrow(
      "the secret key (/x/secret.key) is not the key this store's secrets were encrypted with",
    );
  });
});
