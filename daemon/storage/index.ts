// Backup storages as the daemon sees them: a directory (`file`) or an OSS bucket prefix (`oss`).
//
//   const storage = openStorage({ type: 'oss', path: 'bucket/prefix', endpoint, access_key_id, access_key_secret });
//   const report = await testStorage(config);                 // write/read/list/delete a probe + usage
//   await copyTree(primary, secondary, { sourcePrefix: 'backup_set_1/' });
//   destinationUri(config, 'tenant_1002/data');                // what OceanBase is given
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError, type StorageField } from './errors.js';
import { FileStorage } from './file.js';
import { OssStorage } from './oss.js';
import type { Storage, StorageConfig, StorageOptions, StorageUsage } from './types.js';
import { redactSecrets } from './uri.js';

export { copyOneObject, copyTree, sameContent, type CopiedObject, type CopyOptions, type CopyProgress, type CopyReport } from './copy.js';
export { StorageError, type StorageErrorCode, type StorageField } from './errors.js';
export { FileStorage, PARTIAL_SUFFIX } from './file.js';
export { OssStorage, usesPathStyle } from './oss.js';
export type * from './types.js';
export { DestinationUriError, destinationUri, redactDestinationUri, redactSecrets, splitOssPath } from './uri.js';

export function openStorage(config: StorageConfig, options: StorageOptions = {}): Storage {
  return config.type === 'file' ? new FileStorage(config.path, options) : new OssStorage(config, options);
}

export type StorageTestStep = 'write' | 'read' | 'list' | 'delete' | 'usage';

export interface StorageTestReport {
  ok: boolean;
  /** The storage as messages name it (no secret). */
  storage: string;
  steps: { step: StorageTestStep; ok: boolean; duration_ms: number; error?: string }[];
  usage?: StorageUsage;
  /** The first failure, worded for a person; absent when ok. */
  error?: string;
  error_code?: StorageError['code'];
  /** The setting the failure points at: always `path` for file storage; for OSS when the endpoint says. */
  error_field?: StorageField;
}

/**
 * The storage test run when a storage is created or changed: write a probe object, read it back and
 * compare, find it by listing, delete it, then measure usage. Never throws for a storage failure: the
 * report says which step failed and why.
 */
export async function testStorage(config: StorageConfig, options: StorageOptions = {}): Promise<StorageTestReport> {
  const secrets = config.type === 'oss' ? [config.access_key_secret] : [];
  let storage: Storage | undefined;
  const report: StorageTestReport = { ok: false, storage: '', steps: [] };
  const probeKey = `.obbackup-probe-${randomBytes(6).toString('hex')}`;
  const probe = Buffer.from(`obbackup storage test ${new Date().toISOString()}\n`);
  let written = false;

  const step = async <T>(name: StorageTestStep, action: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const result = await action();
      report.steps.push({ step: name, ok: true, duration_ms: Date.now() - started });
      return result;
    } catch (error) {
      const message = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
      report.steps.push({ step: name, ok: false, duration_ms: Date.now() - started, error: message });
      report.error ??= message;
      report.error_code ??= error instanceof StorageError ? error.code : 'failed';
      report.error_field ??= fieldOf(config, error);
      throw error;
    }
  };

  try {
    storage = openStorage(config, options);
    report.storage = storage.label;
    const opened = storage;
    await step('write', async () => {
      await opened.write(probeKey, Readable.from([probe]), probe.length);
      written = true;
    });
    await step('read', async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of await opened.read(probeKey)) chunks.push(chunk as Buffer);
      if (!Buffer.concat(chunks).equals(probe)) {
        throw new StorageError('verification_failed', opened.label, 'read', probeKey, 'the probe object read back differs from what was written');
      }
    });
    await step('list', async () => {
      for await (const object of opened.list(probeKey)) if (object.key === probeKey) return;
      throw new StorageError('verification_failed', opened.label, 'list', probeKey, 'the probe object just written is missing from the listing');
    });
    await step('delete', async () => {
      await opened.delete(probeKey);
      written = false;
      if (await opened.stat(probeKey)) {
        throw new StorageError('verification_failed', opened.label, 'delete', probeKey, 'the probe object is still there after deleting it');
      }
    });
    report.usage = await step('usage', () => opened.usage());
    report.ok = true;
  } catch (error) {
    if (report.error === undefined) {
      // Failed before any step: the configuration itself (for example an endpoint ali-oss cannot parse).
      report.error = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
      report.error_code = error instanceof StorageError ? error.code : 'invalid';
      report.error_field = fieldOf(config, error);
    }
  } finally {
    if (storage) {
      if (written) await storage.delete(probeKey).catch(() => undefined);
      await storage.close();
    }
  }
  return report;
}

function fieldOf(config: StorageConfig, error: unknown): StorageField | undefined {
  if (config.type === 'file') return 'path';
  return error instanceof StorageError ? error.field : undefined;
}
