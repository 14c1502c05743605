/**
 * Secrets at rest: AES-256-GCM with a random IV per value, bound to the resource and field it belongs
 * to, and keyed fingerprints (HMAC-SHA-256) that let clients notice a changed secret without seeing it.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SECRET_KEY_ENV = 'OBBACKUP_SECRET_KEY';
export const SECRET_KEY_FILE = 'secret.key';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class SecretKeyError extends Error {}
export class SecretDecryptError extends Error {}

/** Decodes 32 bytes given as 64 hex characters or base64/base64url; undefined for anything else. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  return undefined;
}

export interface LoadedKey {
  key: Buffer;
  source: 'env' | 'file';
  /** The key file, when the key came from one. */
  file?: string;
  /** True when this start generated the key file. */
  created: boolean;
}

/**
 * The master key: env OBBACKUP_SECRET_KEY, else `<dataDir>/secret.key`, generated (0600) on first
 * start. Several daemons sharing a MySQL store must share this key. Errors never echo key material.
 */
export function loadSecretKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): LoadedKey {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = decodeKey(fromEnv);
    if (!key) {
      throw new SecretKeyError(
        `${SECRET_KEY_ENV} must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -base64 32)`,
      );
    }
    return { key, source: 'env', created: false };
  }
  const file = path.join(dataDir, SECRET_KEY_FILE);
  let created = false;
  try {
    fs.writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SecretKeyError(`cannot create the secret key file ${file}: ${(err as Error).message}`);
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `the secret key file ${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`,
    );
  }
  const key = decodeKey(fs.readFileSync(file, 'utf8'));
  if (!key) throw new SecretKeyError(`the secret key file ${file} does not hold a 32-byte key (64 hex characters or base64)`);
  return { key, source: 'file', file, created };
}

/** Encrypts, decrypts and fingerprints secret values with subkeys derived from one master key. */
export class SecretBox {
  private readonly encryptionKey: Buffer;
  private readonly fingerprintKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== KEY_BYTES) throw new SecretKeyError(`the secret key must be ${KEY_BYTES} bytes`);
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, KEY_BYTES));
    this.encryptionKey = derive('obbackup secrets aes-256-gcm');
    this.fingerprintKey = derive('obbackup secrets fingerprint');
  }

  /**
   * `context` (e.g. `cluster/prod/password`) is authenticated with the ciphertext, so a value copied
   * onto another row or field does not decrypt.
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [format, payload] = sealed.split('.', 2);
    if (format !== FORMAT || payload === undefined) throw new SecretDecryptError(`secret ${context} is not in a known format`);
    const raw = Buffer.from(payload, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptError(`secret ${context} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError(`secret ${context} cannot be decrypted: wrong secret key, or the stored value was altered`);
    }
  }

  /** Stable for the same key, context and value; reveals nothing without the key. */
  fingerprint(plaintext: string, context: string): string {
    return `hmac-sha256:${createHmac('sha256', this.fingerprintKey).update(context).update('\0').update(plaintext).digest('base64url').slice(0, 32)}`;
  }
}

/** Where a resource's secret lives: the context sealed with it and fingerprinted. */
export const secretContext = (kind: string, name: string, field: string) => `${kind}/${name}/${field}`;

const KEY_CHECK_SETTING = 'secret_key_check';
const KEY_CHECK_CONTEXT = 'settings/secret_key_check';
const KEY_CHECK_VALUE = 'obbackup';

/**
 * Refuses a key that differs from the one the store's secrets were sealed with (a daemon moved to a new
 * machine without its key file, or two daemons on one MySQL store with different keys).
 */
export async function verifyKeyAgainstStore(
  box: SecretBox,
  settings: { initSetting(name: string, value: string): Promise<string> },
  keyOrigin: string,
): Promise<void> {
  const stored = await settings.initSetting(KEY_CHECK_SETTING, box.seal(KEY_CHECK_VALUE, KEY_CHECK_CONTEXT));
  try {
    if (box.open(stored, KEY_CHECK_CONTEXT) === KEY_CHECK_VALUE) return;
  } catch {
    // reported below
  }
  throw new SecretKeyError(
    `the secret key (${keyOrigin}) is not the key this store's secrets were encrypted with; use the original key (env ${SECRET_KEY_ENV} or its ${SECRET_KEY_FILE} file)`,
  );
}
