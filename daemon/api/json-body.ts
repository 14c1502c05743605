import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from './errors.js';

/** No resource nests anywhere near this deep; deeper bodies are refused before anything walks them. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses keys that could reach an object's prototype if a body were ever merged naively, and bodies
 * nested deeper than MAX_BODY_DEPTH. Iterative: a body of 100,000 nested lists must not overflow the stack.
 */
function checkParsedBody(root: unknown): ApiError | undefined {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) return badRequest(`request body nests deeper than ${MAX_BODY_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child)) {
        return badRequest(`request body must not contain a "${key}" key`);
      }
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const position = /position (\d+)/.exec((err as Error).message)?.[1];
      return done(badRequest(`request body is not valid JSON${position ? ` (error at character ${position})` : ''}`), undefined);
    }
    const problem = checkParsedBody(parsed);
    if (problem) return done(problem, undefined);
    done(null, parsed);
  });
}
