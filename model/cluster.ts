import { z } from 'zod';
import { resourceName, tenantName } from './names.js';

const host = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or an IP address');

/** A cluster registration as sent with PUT /v1/clusters/{name}. `password` is write-only. */
export const clusterSpec = z
  .strictObject({
    name: resourceName.optional(),
    version: z.number().int('must be an integer').min(1, 'must be a version returned by a read').optional(),
    host,
    port: z.number().int('must be an integer').min(1, 'must be 1-65535').max(65535, 'must be 1-65535').default(2881),
    user: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').default('root@sys'),
    password: z.string().max(256, 'must be at most 256 characters'),
    tenants: z
      .array(tenantName)
      .max(512, 'must list at most 512 tenants')
      .refine((t) => new Set(t).size === t.length, 'must not list a tenant twice')
      .optional(),
  });

export type ClusterSpec = z.output<typeof clusterSpec>;
export type ClusterInput = z.input<typeof clusterSpec>;

/** Fields whose values are secrets: accepted on write, never returned (a keyed fingerprint is). */
export const clusterSecrets = ['password'] as const;
