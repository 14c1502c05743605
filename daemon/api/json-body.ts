import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

/** Keys that could reach an object's prototype if a body were ever merged into an object naively. */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)) {
    throw badRequest(`request body must not contain a "${key}" key`);
  }
  return value;
}

/**
 * The only body type the API accepts is JSON (text/plain and the rest get 415). Errors say where the
 * JSON breaks but never quote it: the body may hold a password.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(badRequest('request body is empty; send a JSON object'), undefined);
    try {
      done(null, JSON.parse(text, refuseProtoKeys));
    } catch (err) {
      if (!(err instanceof SyntaxError)) return done(err as Error, undefined);
      const position = /position (\d+)/.exec(err.message)?.[1];
      done(badRequest(`request body is not valid JSON${position ? ` (error at character ${position})` : ''}`), undefined);
    }
  });
}
