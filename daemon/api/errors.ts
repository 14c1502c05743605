import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody, ErrorCode, Issue } from '../../model/index.js';
import { classifyStoreError } from '../store/index.js';

/** An error the API answers with `{"error","message","details"}`; messages never carry secret values. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Issue[],
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return this.details && this.details.length > 0
      ? { error: this.code, message: this.message, details: this.details }
      : { error: this.code, message: this.message };
  }
}

export const badRequest = (message: string, details?: Issue[]) => new ApiError(400, 'bad_request', message, details);
export const validationFailed = (message: string, details: Issue[]) => new ApiError(400, 'validation_failed', message, details);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string, details?: Issue[]) => new ApiError(409, 'conflict', message, details);
export const preconditionFailed = (message: string) => new ApiError(412, 'precondition_failed', message);

/** Codes by status for errors raised by fastify itself (parsers, limits, routing). */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/**
 * Maps what fastify and the store throw to the contract's error JSON. Fastify's own messages may
 * quote the request (a JSON parse error quotes the body), so they are replaced by fixed texts.
 */
export function toApiError(err: FastifyError | Error, bodyLimit: number): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', `request body exceeds the limit of ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'request body must be JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('Content-Length does not match the request body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest('request body is not valid JSON');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(414, 'bad_request', 'a name in the URL is far too long');
    case 'FST_ERR_BAD_URL':
      return badRequest('request URL is not valid (bad percent-encoding)');
  }
  if (err instanceof SyntaxError) return badRequest('request body is not valid JSON');
  if (classifyStoreError(err) === 'unavailable') return new ApiError(503, 'unavailable', 'the store is unavailable; try again later');
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, CODE_BY_STATUS[status] ?? 'bad_request', `request rejected (HTTP ${status})`);
  }
  return undefined;
}

function send(reply: FastifyReply, error: ApiError) {
  if (error.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toBody());
}

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toApiError(err, bodyLimit);
    if (known) {
      if (known.status >= 500) request.log.warn({ err }, known.message);
      return send(reply, known);
    }
    request.log.error({ err }, 'request failed');
    return send(reply, new ApiError(500, 'internal', `internal error; the daemon log has the details (request ${request.id})`));
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, notFound(`no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** For fastify's `frameworkErrors` option: errors raised before routing (bad URL encoding). */
export function frameworkErrorHandler(bodyLimit: number) {
  return (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) =>
    send(reply, toApiError(err, bodyLimit) ?? badRequest('request rejected'));
}
