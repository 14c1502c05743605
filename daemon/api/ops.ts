// GET /v1/alarms, GET /v1/clusters/{name}/status and GET /metrics, served from the operations engine.
import type { FastifyInstance } from 'fastify';
import { ALARM_NAMES, type AlarmName } from '../engine/alarms.js';
import type { OpsEngine } from '../engine/ops.js';
import type { OpsContext } from '../engine/ops-context.js';
import { metricsText, StatusService } from '../engine/status.js';
import type { WebhookNotifier } from '../engine/webhook.js';
import type { RouteModule } from './context.js';
import { badRequest, notFound } from './errors.js';
import { errorResponse, jsonResponse } from './openapi.js';
import { positiveInt } from './query.js';

export interface OpsRoutesOptions {
  ctx: OpsContext;
  ops: OpsEngine;
  webhook?: WebhookNotifier;
}

export function opsRoutes(options: OpsRoutesOptions): RouteModule {
  const { ctx, ops, webhook } = options;
  const status = new StatusService(ctx, ops);
  return (app: FastifyInstance) => {
    app.get(
      '/v1/alarms',
      {
        config: {
          openapi: {
            summary: 'Alarm events: each alarm raised once and resolved when its condition clears',
            tags: ['alarms'],
            parameters: [
              { name: 'state', in: 'query', schema: { type: 'string', enum: ['active', 'resolved'] } },
              { name: 'active', in: 'query', schema: { type: 'boolean' }, description: 'true = state=active' },
              { name: 'cluster', in: 'query', schema: { type: 'string' } },
              { name: 'policy', in: 'query', schema: { type: 'string' } },
              { name: 'name', in: 'query', schema: { type: 'string', enum: [...ALARM_NAMES] } },
              { name: 'limit', in: 'query', schema: { type: 'integer' } },
              { name: 'cursor', in: 'query', schema: { type: 'integer' } },
            ],
            responses: { 200: jsonResponse('Newest first; next_cursor pages on'), 400: errorResponse('Bad query'), 401: errorResponse('Missing or wrong token') },
          },
        },
      },
      async (request) => {
        const q = request.query as Record<string, string | undefined>;
        let state: 'active' | 'resolved' | undefined;
        if (q.state !== undefined) {
          if (q.state !== 'active' && q.state !== 'resolved') throw badRequest('query parameter state must be "active" or "resolved"');
          state = q.state;
        }
        if (q.active !== undefined) {
          if (q.active !== 'true' && q.active !== 'false') throw badRequest('query parameter active must be true or false');
          state = q.active === 'true' ? 'active' : 'resolved';
        }
        if (q.name !== undefined && !(ALARM_NAMES as readonly string[]).includes(q.name)) {
          throw badRequest(`query parameter name must be one of ${ALARM_NAMES.join(', ')}`);
        }
        const page = await ops.alarms.list({
          state,
          cluster: q.cluster,
          policy: q.policy,
          name: q.name as AlarmName | undefined,
          limit: positiveInt(q.limit, 'limit', 500),
          cursor: positiveInt(q.cursor, 'cursor'),
        });
        return { items: page.alarms, next_cursor: page.next_cursor };
      },
    );

    app.get(
      '/v1/clusters/:name/status',
      {
        config: {
          openapi: {
            summary: 'Backup overview of a cluster (OCP): schedule status, last data backup, log delay, size, running run, next runs, active alarms',
            tags: ['clusters'],
            parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
            responses: { 200: jsonResponse('The overview'), 401: errorResponse('Missing or wrong token'), 404: errorResponse('No such cluster') },
          },
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const result = await status.cluster(name);
        if (!result) throw notFound(`cluster "${name}" does not exist`);
        return result;
      },
    );

    app.get(
      '/metrics',
      {
        config: {
          openapi: {
            summary: 'Prometheus metrics (text format 0.0.4)',
            tags: ['metrics'],
            responses: { 200: { description: 'Prometheus text', content: { 'text/plain': {} } }, 401: errorResponse('Missing or wrong token') },
          },
        },
      },
      async (_request, reply) => {
        const text = await metricsText(ctx, ops, webhook);
        return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
      },
    );
  };
}
