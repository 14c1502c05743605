import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Requires `Authorization: Bearer <token>` on every route not marked `config: { public: true }`,
 * unknown routes included, before the body is read. Both sides are hashed first so the comparison
 * takes the same time whatever the length or content of the guess.
 */
export function registerBearerAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new ApiError(401, 'unauthorized', 'missing API token: send "Authorization: Bearer TOKEN"');
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new ApiError(401, 'unauthorized', 'invalid API token');
    }
  });
}
