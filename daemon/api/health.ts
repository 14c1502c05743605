import type { FastifyInstance } from 'fastify';
import { jsonResponse } from './openapi.js';

/** Liveness: answers while the process serves HTTP; no token needed. */
export function healthRoutes(app: FastifyInstance): void {
  app.get(
    '/healthz',
    { config: { public: true, openapi: { summary: 'Liveness', security: [], responses: { 200: jsonResponse('The daemon is up') } } } },
    async () => ({ status: 'ok' }),
  );
}
