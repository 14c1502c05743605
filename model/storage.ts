import { z } from 'zod';
import { storageName } from './names.js';

export const STORAGE_TYPES = ['file', 'oss'] as const;

/**
 * A storage configuration (OCP's 存储配置): where backups go. `path` is an absolute directory for
 * `file` and `bucket/prefix` for `oss`; `access_key_secret` is write-only.
 */
export const storageSpec = z
  .strictObject({
    name: storageName.optional(),
    version: z.number().int('must be an integer').min(1, 'must be a version returned by a read').optional(),
    type: z.enum(STORAGE_TYPES, { message: 'must be "file" or "oss"' }),
    path: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'),
    capacity_alarm_threshold: z
      .number()
      .int('must be an integer')
      .min(1, 'must be 1-99 (percent)')
      .max(99, 'must be 1-99 (percent)')
      .default(80),
    endpoint: z.string().min(1, 'must not be empty').max(512).optional(),
    access_key_id: z.string().min(1, 'must not be empty').max(256).optional(),
    access_key_secret: z.string().min(1, 'must not be empty').max(256).optional(),
  })
  .superRefine((s, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.type === 'file') {
      if (!s.path.startsWith('/')) fail('path', 'must be an absolute directory path for file storage');
      if (/(^|\/)\.\.(\/|$)/.test(s.path)) fail('path', 'must not contain ".." segments');
      for (const k of ['endpoint', 'access_key_id', 'access_key_secret'] as const) {
        if (s[k] !== undefined) fail(k, 'applies to oss storage only');
      }
    } else {
      if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9](\/[^\s?#]*)?$/.test(s.path)) {
        fail('path', 'must be "bucket/prefix" with a valid OSS bucket name (3-63 lowercase letters, digits, "-")');
      }
      for (const k of ['endpoint', 'access_key_id', 'access_key_secret'] as const) {
        if (s[k] === undefined) fail(k, 'is required for oss storage');
      }
    }
  });

export type StorageSpec = z.output<typeof storageSpec>;
export type StorageInput = z.input<typeof storageSpec>;
export const storageSecrets = ['access_key_secret'] as const;
