import { z } from 'zod';

/**
 * Storage configuration names follow OCP (error BAK10004): a letter first, then letters, digits or
 * underscores, 2-32 characters in all.
 */
export const STORAGE_NAME = /^[A-Za-z][A-Za-z0-9_]{1,31}$/;
export const storageName = z
  .string()
  .regex(STORAGE_NAME, 'must start with a letter and contain 2-32 letters, digits or underscores');

/**
 * Cluster and policy names: a letter first, then letters, digits, `-` or `_`, 2-63 characters, so a
 * name works as a URL segment, a Terraform import ID and a Prometheus label value.
 */
export const RESOURCE_NAME = /^[A-Za-z][A-Za-z0-9_-]{1,62}$/;
export const resourceName = z
  .string()
  .regex(RESOURCE_NAME, 'must start with a letter and contain 2-63 letters, digits, "-" or "_"');

/** OceanBase tenant names (4.x scope of a cluster). */
export const tenantName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an OceanBase tenant name (letters, digits, underscores)');
