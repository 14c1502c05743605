/**
 * The obbackup contract: the shapes and rules shared by the daemon's API, the Terraform provider and
 * the CDKTF constructs. Pure code: no I/O, so every front door validates the same way.
 */
import { z } from 'zod';
import { backupRequest } from './backup.js';
import { clusterSecrets, clusterSpec } from './cluster.js';
import { check, type Issue, type Result } from './errors.js';
import { policySpec } from './policy.js';
import { storageSecrets, storageSpec } from './storage.js';

export * from './backup.js';
export * from './cluster.js';
export * from './errors.js';
export * from './names.js';
export * from './policy.js';
export * from './schedule.js';
export * from './storage.js';

export const RESOURCE_KINDS = ['cluster', 'storage', 'policy'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Per kind: its spec schema, URL plural and write-only secret fields. */
export const resources = {
  cluster: { spec: clusterSpec, plural: 'clusters', secrets: clusterSecrets as readonly string[] },
  storage: { spec: storageSpec, plural: 'storages', secrets: storageSecrets as readonly string[] },
  policy: { spec: policySpec, plural: 'policies', secrets: [] as readonly string[] },
} as const;

export type SpecOf<K extends ResourceKind> = z.output<(typeof resources)[K]['spec']>;

/** Validates a resource body; the result carries defaults applied, or every issue found. */
export function validateSpec<K extends ResourceKind>(kind: K, input: unknown): Result<SpecOf<K>> {
  return check(resources[kind].spec as unknown as z.ZodType<SpecOf<K>>, input);
}

export function validateBackupRequest(input: unknown) {
  return check(backupRequest, input);
}

/** The name of the fingerprint field returned in place of a secret field. */
export const fingerprintField = (secret: string) => `${secret}_fingerprint`;

/** Metadata every stored resource carries in responses. */
export interface ResourceMeta {
  name: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'not_found',
  'conflict',
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'precheck_failed',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Every error the API answers: `{"error", "message", "details"}`. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  details?: Issue[];
}

export const errorBodySchema = z.object({
  error: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
