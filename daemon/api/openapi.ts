import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { errorBodySchema, fingerprintField, resources, type ResourceKind } from '../../model/index.js';

export type JsonSchema = Record<string, unknown>;

/** An OpenAPI operation attached to a route as `config: { openapi: … }`; collected when the route is added. */
export interface OpenApiOperation {
  summary: string;
  tags?: string[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security?: unknown[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: OpenApiOperation;
  }
}

export const ref = (component: string) => ({ $ref: `#/components/schemas/${component}` });

/** A JSON response of the given schema, or the contract's error JSON. */
export const jsonResponse = (description: string, schema?: unknown) =>
  schema === undefined ? { description } : { description, content: { 'application/json': { schema } } };
export const errorResponse = (description: string) => jsonResponse(description, ref('Error'));

export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Builds /openapi.json from the model's schemas and the operations routes declare. */
export class OpenApiRegistry {
  private readonly schemas = new Map<string, JsonSchema>();
  private readonly paths: Record<string, Record<string, OpenApiOperation>> = {};

  constructor() {
    this.addSchema('Error', toJsonSchema(errorBodySchema, 'output'));
    for (const kind of Object.keys(resources) as ResourceKind[]) {
      const { spec, secrets } = resources[kind];
      const title = kind[0]!.toUpperCase() + kind.slice(1);
      this.addSchema(`${title}Input`, toJsonSchema(spec, 'input'));
      this.addSchema(title, resourceResponseSchema(toJsonSchema(spec, 'output'), secrets));
      this.addSchema(`${title}List`, {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: { items: { type: 'array', items: ref(title) }, next_cursor: { type: ['string', 'null'] } },
      });
    }
  }

  addSchema(name: string, schema: JsonSchema): void {
    this.schemas.set(name, schema);
  }

  /** fastify `onRoute` hook: records the route's declared operation. */
  collect = (route: RouteOptions): void => {
    const operation = route.config?.openapi;
    if (!operation) return;
    const url = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      (this.paths[url] ??= {})[method.toLowerCase()] = operation;
    }
  };

  document(): JsonSchema {
    return {
      openapi: '3.1.0',
      info: { title: 'obbackupd', version: '1', description: 'OceanBase backup policies as code: the obbackup daemon REST API' },
      security: [{ bearer: [] }],
      paths: this.paths,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: Object.fromEntries(this.schemas),
      },
    };
  }
}

/** A resource as returned: declared fields with defaults, secrets replaced by fingerprints, plus metadata. */
function resourceResponseSchema(output: JsonSchema, secrets: readonly string[]): JsonSchema {
  const properties = { ...(output.properties as Record<string, JsonSchema>) };
  const required = new Set<string>((output.required as string[] | undefined) ?? []);
  for (const field of secrets) {
    delete properties[field];
    required.delete(field);
    properties[fingerprintField(field)] = { type: 'string', description: `keyed fingerprint of ${field}; changes when it changes` };
  }
  properties.version = { type: 'integer', minimum: 1 };
  properties.created_at = { type: 'string', format: 'date-time' };
  properties.updated_at = { type: 'string', format: 'date-time' };
  for (const field of ['name', 'version', 'created_at', 'updated_at']) required.add(field);
  return { ...output, properties, required: [...required] };
}

/** Serves the document (bearer token required, like every route but /healthz). */
export function openApiRoutes(registry: OpenApiRegistry) {
  return (app: FastifyInstance) => {
    app.get('/openapi.json', { config: { openapi: { summary: 'This document', responses: { 200: jsonResponse('OpenAPI 3.1') } } } }, async () =>
      registry.document(),
    );
  };
}
