import type { FastifyInstance } from 'fastify';
import type { SpecOf } from '../../model/index.js';
import { storageFromRecord } from '../engine/config.js';
import { secretContext } from '../secrets/index.js';
import { testStorage, type StorageConfig } from '../storage/index.js';
import type { StoredResource } from '../store/index.js';
import type { DaemonContext } from './context.js';
import { ApiError, conflict, notFound } from './errors.js';
import { errorResponse, jsonResponse } from './openapi.js';
import { describePolicies, nameFromUrl, resourceRoutes } from './resources.js';

/** One OSS request of the test may take this long; the whole test answers within a few of them. */
const TEST_REQUEST_TIMEOUT_MS = 15_000;

type StorageSpec = SpecOf<'storage'>;

function configOf(spec: StorageSpec): StorageConfig {
  return spec.type === 'file'
    ? { type: 'file', path: spec.path }
    : { type: 'oss', path: spec.path, endpoint: spec.endpoint!, access_key_id: spec.access_key_id!, access_key_secret: spec.access_key_secret! };
}

/** Whether a PUT changes where the storage points or how it logs in (the threshold alone does not). */
function locationChanged(ctx: DaemonContext, name: string, existing: StoredResource, spec: StorageSpec): boolean {
  const stored = existing.spec as Partial<StorageSpec>;
  if (stored.type !== spec.type || stored.path !== spec.path || stored.endpoint !== spec.endpoint || stored.access_key_id !== spec.access_key_id) return true;
  const secret = spec.access_key_secret;
  const kept = existing.secrets.access_key_secret?.fingerprint;
  if (secret === undefined) return kept !== undefined;
  return kept !== ctx.secrets.fingerprint(secret, secretContext('storage', name, 'access_key_secret'));
}

/** /v1/storages: backup destinations; a storage used by a policy (primary or secondary) cannot be deleted. */
const storageResourceRoutes = resourceRoutes({
  kind: 'storage',
  table: 'storages',
  async beforeDelete({ store, trx }, name) {
    const users = await store.resources.policiesUsing(trx, 'storage', name, true);
    if (users.length > 0) {
      throw conflict(`storage "${name}" is used by ${describePolicies(users)}; change or delete that policy first`);
    }
  },
  // Creating a storage, or changing where it points or its credentials, runs the storage test first:
  // one that cannot be written, read, listed and cleaned is refused before anything is stored.
  async validate(ctx, name, spec) {
    const existing = await ctx.store.resources.get('storages', name);
    if (existing && !locationChanged(ctx, name, existing, spec)) return;
    const report = await testStorage(configOf(spec), { requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS });
    if (report.ok) return;
    const problem = report.error ?? `the storage test of ${report.storage} failed`;
    throw new ApiError(422, 'precheck_failed', `storage "${name}" failed the storage test: ${problem}`, [{ path: report.error_field ?? 'path', message: problem }]);
  },
});

const testReportSchema = {
  type: 'object',
  required: ['name', 'version', 'tested_at', 'ok', 'storage', 'steps', 'capacity_alarm_threshold', 'over_capacity_threshold'],
  properties: {
    name: { type: 'string' },
    version: { type: 'integer', description: 'the storage version tested' },
    tested_at: { type: 'string', format: 'date-time' },
    ok: { type: 'boolean', description: 'every step passed' },
    storage: { type: 'string', description: 'file:///path or oss://bucket/prefix (endpoint)' },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['step', 'ok', 'duration_ms'],
        properties: {
          step: { enum: ['write', 'read', 'list', 'delete', 'usage'] },
          ok: { type: 'boolean' },
          duration_ms: { type: 'integer' },
          error: { type: 'string' },
        },
      },
    },
    usage: {
      type: 'object',
      properties: {
        used_bytes: { type: 'integer' },
        object_count: { type: 'integer' },
        capacity_bytes: { type: ['integer', 'null'] },
        available_bytes: { type: ['integer', 'null'] },
        used_percent: { type: ['number', 'null'] },
      },
    },
    capacity_alarm_threshold: { type: 'integer' },
    over_capacity_threshold: { type: ['boolean', 'null'], description: 'null when the usage percentage is unknown' },
    error: { type: 'string', description: 'the first failure, for a person' },
    error_code: { type: 'string' },
  },
};

/**
 * POST /v1/storages/{name}/test: writes, reads, lists and deletes a probe object on the stored
 * configuration and reports usage against the capacity alarm threshold. 200 whenever the test ran;
 * `ok` says whether the storage passed.
 */
function storageTestRoute(app: FastifyInstance, ctx: DaemonContext): void {
  app.post(
    '/v1/storages/:name/test',
    {
      config: {
        openapi: {
          summary: 'Test a storage: write, read, list and delete a probe object; report usage',
          tags: ['storages'],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: jsonResponse('The test ran; `ok` tells whether the storage passed', testReportSchema),
            400: errorResponse('Bad name'),
            401: errorResponse('Missing or wrong token'),
            404: errorResponse('No such storage'),
          },
        },
      },
    },
    async (request) => {
      const name = nameFromUrl('storage', request);
      const record = await ctx.store.resources.get('storages', name);
      if (!record) throw notFound(`storage "${name}" does not exist`);
      const { config, capacityThreshold } = storageFromRecord(ctx.secrets, record);
      const report = await testStorage(config, { requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS });
      const usedPercent = report.usage?.used_percent ?? null;
      return {
        name,
        version: record.version,
        tested_at: new Date().toISOString(),
        ok: report.ok,
        storage: report.storage,
        steps: report.steps,
        ...(report.usage ? { usage: report.usage } : {}),
        capacity_alarm_threshold: capacityThreshold,
        over_capacity_threshold: usedPercent === null ? null : usedPercent >= capacityThreshold,
        ...(report.error !== undefined ? { error: report.error, error_code: report.error_code } : {}),
      };
    },
  );
}

export async function storageRoutes(app: FastifyInstance, ctx: DaemonContext): Promise<void> {
  await storageResourceRoutes(app, ctx);
  storageTestRoute(app, ctx);
}
