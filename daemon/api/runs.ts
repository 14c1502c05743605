/**
 * GET /v1/runs (newest first; filters cluster, policy, kind, state, type, trigger; paging with `limit` and
 * `cursor` = the `next_cursor` of the previous page), GET /v1/runs/{id}, and "backup now":
 * POST /v1/clusters/{name}/backups {"type": "full"|"incremental"} → 202 with the run, or 409 with the
 * pre-check's message (OCP's texts for full-before-incremental and compaction).
 */
import type { FastifyInstance } from 'fastify';
import { validateBackupRequest } from '../../model/index.js';
import { BackupRefused, type Engine } from '../engine/index.js';
import { RUN_KINDS, RUN_STATES, RUN_TRIGGERS, type RunFilter, type RunKind, type RunState, type RunTrigger } from '../engine/runs.js';
import type { DaemonContext } from './context.js';
import { ApiError, badRequest, notFound, validationFailed } from './errors.js';
import { errorResponse, jsonResponse } from './openapi.js';
import { onlyKnownParameters, positiveInt } from './query.js';

const runSchema = {
  type: 'object',
  description: 'A backup, cleanup or secondary backup run with its steps',
  properties: {
    id: { type: 'integer' },
    policy: { type: ['string', 'null'] },
    cluster: { type: 'string' },
    kind: { enum: [...RUN_KINDS] },
    type: { enum: ['full', 'incremental', null] },
    trigger: { enum: [...RUN_TRIGGERS] },
    scheduled_at: { type: 'string', format: 'date-time' },
    state: { enum: [...RUN_STATES] },
    reason: { type: ['string', 'null'] },
    progress: { type: ['number', 'null'], description: 'percent' },
    ob_job_id: { type: ['integer', 'null'] },
    jobs: { type: 'array', items: { type: 'object' } },
    backup_set_id: { type: ['integer', 'null'] },
    input_bytes: { type: ['integer', 'null'] },
    output_bytes: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    error_code: { type: ['integer', 'null'] },
    started_at: { type: ['string', 'null'] },
    finished_at: { type: ['string', 'null'] },
    timed_out_at: { type: ['string', 'null'] },
    steps: { type: 'array', items: { type: 'object' } },
  },
};

function requireEngine(engine: Engine | undefined): Engine {
  if (!engine) throw new ApiError(503, 'unavailable', 'this daemon runs without its engine (no scheduler, no runs)');
  return engine;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T[] | undefined {
  if (value === undefined) return undefined;
  const values = String(value).split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of values) {
    if (!allowed.includes(v as T)) throw badRequest(`query parameter ${field} must be one of ${allowed.join(', ')} (comma-separated), got "${v}"`);
  }
  return values as T[];
}

export function runRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  app.get(
    '/v1/runs',
    {
      config: {
        openapi: {
          summary: 'List runs, newest first',
          tags: ['runs'],
          parameters: ['cluster', 'policy', 'kind', 'state', 'type', 'trigger', 'limit', 'cursor'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          responses: {
            200: jsonResponse('A page of runs', { type: 'object', properties: { items: { type: 'array', items: runSchema }, next_cursor: { type: ['integer', 'null'] } } }),
            400: errorResponse('Bad filter'),
          },
        },
      },
    },
    async (request) => {
      const engine = requireEngine(ctx.engine);
      const q = request.query as Record<string, unknown>;
      onlyKnownParameters(q, ['cluster', 'policy', 'kind', 'state', 'type', 'trigger', 'limit', 'cursor']);
      const kinds = oneOf<RunKind>(q.kind, RUN_KINDS, 'kind');
      if (kinds && kinds.length > 1) throw badRequest('query parameter kind takes one value');
      const types = oneOf<'full' | 'incremental'>(q.type, ['full', 'incremental'], 'type');
      if (types && types.length > 1) throw badRequest('query parameter type takes one value');
      const filter: RunFilter = {
        cluster: q.cluster === undefined ? undefined : String(q.cluster),
        policy: q.policy === undefined ? undefined : String(q.policy),
        kind: kinds?.[0],
        type: types?.[0],
        state: oneOf<RunState>(q.state, RUN_STATES, 'state'),
        trigger: oneOf<RunTrigger>(q.trigger, RUN_TRIGGERS, 'trigger'),
        limit: positiveInt(q.limit, 'limit', 500) ?? 50,
        cursor: positiveInt(q.cursor, 'cursor'),
      };
      const page = await engine.runs.list(filter);
      return { items: page.runs, next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/v1/runs/:id',
    {
      config: {
        openapi: {
          summary: 'Read a run with its steps',
          tags: ['runs'],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: jsonResponse('The run', runSchema), 404: errorResponse('No such run') },
        },
      },
    },
    async (request) => {
      const engine = requireEngine(ctx.engine);
      const { id } = request.params as { id: string };
      if (!/^\d{1,15}$/.test(id)) throw badRequest(`run id must be a positive integer, got "${id}"`);
      const run = await engine.runs.get(Number(id));
      if (!run) throw notFound(`run ${id} does not exist`);
      return run;
    },
  );

  app.post(
    '/v1/clusters/:name/backups',
    {
      config: {
        openapi: {
          summary: 'Back up now: fast pre-checks, then the run (202)',
          tags: ['runs'],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: { type: 'object', properties: { type: { enum: ['full', 'incremental'] } } } } },
          },
          responses: {
            202: jsonResponse('Started: the run', runSchema),
            404: errorResponse('No such cluster'),
            409: errorResponse('A pre-check failed, a backup is already running, or the policy is logical'),
          },
        },
      },
    },
    async (request, reply) => {
      const engine = requireEngine(ctx.engine);
      const { name } = request.params as { name: string };
      const parsed = validateBackupRequest(request.body ?? {});
      if (!parsed.ok) throw validationFailed('invalid backup request', parsed.issues);
      const { type } = parsed.value;
      try {
        const run = await engine.backups.requestNow(name, type);
        reply.code(202).header('location', `/v1/runs/${run.id}`);
        return run;
      } catch (err) {
        if (err instanceof BackupRefused) {
          throw new ApiError(err.status, err.code, err.message, err.check?.reason ? [{ path: `precheck.${err.check.name}`, message: err.check.reason }] : undefined);
        }
        throw err;
      }
    },
  );
}
