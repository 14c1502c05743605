import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { fingerprintField, resources, validateSpec, type Issue, type ResourceKind, type SpecOf } from '../../model/index.js';
import { secretContext } from '../secrets/index.js';
import {
  classifyStoreError,
  nowIso,
  type Database,
  type IndexedColumns,
  type ResourceTable,
  type SealedSecret,
  type StoredResource,
} from '../store/index.js';
import type { DaemonContext, RouteModule } from './context.js';
import { ApiError, badRequest, conflict, notFound, preconditionFailed, validationFailed } from './errors.js';
import { errorResponse, jsonResponse, ref, type OpenApiOperation } from './openapi.js';
import { onlyKnownParameters, positiveInt } from './query.js';

export interface WriteContext extends DaemonContext {
  trx: Transaction<Database>;
}

/** How one resource kind maps onto the generic PUT/GET/DELETE/list routes. */
export interface ResourceRoutes<K extends ResourceKind> {
  kind: K;
  table: ResourceTable;
  /** Columns the table keeps beside the JSON spec (policies: the names they reference). */
  indexedColumns?: (spec: SpecOf<K>) => IndexedColumns;
  /** Checks made in the write transaction before a PUT is stored (references); throw an ApiError. */
  beforePut?: (ctx: WriteContext, name: string, spec: SpecOf<K>) => Promise<void>;
  /** Checks made in the delete transaction (still referenced?); throw an ApiError. */
  beforeDelete?: (ctx: WriteContext, name: string) => Promise<void>;
  /** Checks made before the write transaction, with the whole spec (secrets too): e.g. reach the cluster. */
  validate?: (ctx: DaemonContext, name: string, spec: SpecOf<K>) => Promise<void>;
  /** After a PUT committed; `changed` is false when the stored resource stayed as it was. */
  afterPut?: (ctx: DaemonContext, name: string, record: StoredResource, changed: boolean) => Promise<void>;
  /** After a DELETE committed, with the deleted resource. */
  afterDelete?: (ctx: DaemonContext, name: string, record: StoredResource) => Promise<void>;
}

type Params = { name: string };

/** Most items one page of a resource list holds. */
const MAX_PAGE = 1000;

/** The URL name must satisfy the same rule as the body's `name` (the model's). */
const nameSchemas = Object.fromEntries(
  (Object.keys(resources) as ResourceKind[]).map((kind) => [
    kind,
    ((resources[kind].spec as unknown as z.ZodObject).shape.name as z.ZodOptional<z.ZodString>).unwrap(),
  ]),
) as Record<ResourceKind, z.ZodString>;

export function nameFromUrl(kind: ResourceKind, request: FastifyRequest): string {
  const { name } = request.params as Params;
  const parsed = nameSchemas[kind].safeParse(name);
  if (!parsed.success) {
    throw validationFailed(`invalid ${kind} name in the URL`, [{ path: 'name', message: parsed.error.issues[0]!.message }]);
  }
  return name;
}

/**
 * If-Match: `"3"`, `W/"3"`, `3`, a comma-separated list of those, or `*` (any existing version).
 * Returns undefined without the header.
 */
export function parseIfMatch(header: string | string[] | undefined): { any: boolean; versions: number[] } | undefined {
  if (header === undefined) return undefined;
  const values = (Array.isArray(header) ? header.join(',') : header).split(',').map((v) => v.trim());
  if (values.length === 1 && values[0] === '*') return { any: true, versions: [] };
  const versions = values.map((v) => {
    const m = /^(?:W\/)?(?:"([1-9]\d{0,15})"|([1-9]\d{0,15}))$/.exec(v);
    if (!m) throw badRequest('If-Match must be a version as returned in ETag, such as "3", or *');
    return Number(m[1] ?? m[2]);
  });
  return { any: false, versions };
}

const etag = (version: number) => `"${version}"`;

/** A stored resource as the API returns it: name, declared fields, secret fingerprints, version, timestamps. */
export function present(record: StoredResource): Record<string, unknown> {
  const out: Record<string, unknown> = { name: record.name, ...record.spec };
  for (const [field, sealed] of Object.entries(record.secrets)) out[fingerprintField(field)] = sealed.fingerprint;
  out.version = record.version;
  out.created_at = record.created_at;
  out.updated_at = record.updated_at;
  return out;
}

function sameJson(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkVersion(kind: ResourceKind, name: string, existing: StoredResource | undefined, wanted: number[], anyExisting: boolean) {
  if (!existing) {
    if (wanted.length > 0 || anyExisting) {
      throw preconditionFailed(`${kind} "${name}" does not exist, so no version can match; leave the version out to create it`);
    }
    return;
  }
  if (wanted.length > 0 && !wanted.includes(existing.version)) {
    throw preconditionFailed(
      `${kind} "${name}" is at version ${existing.version}, not ${wanted.join(' or ')}: it changed since it was read; read it again and retry`,
    );
  }
}

/** Retries a write once when a concurrent writer broke a key (the retry sees its row and answers properly). */
async function withKeyRetry<T>(kind: ResourceKind, name: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const storeError = classifyStoreError(err);
      if (storeError !== 'unique' && storeError !== 'foreign_key') throw err;
      if (attempt < 2) continue;
      throw conflict(`${kind} "${name}" conflicts with a concurrent change; read it again and retry`);
    }
  }
}

/** The OpenAPI operations of one resource kind's routes. */
function operations(kind: ResourceKind): Record<'list' | 'get' | 'put' | 'delete', OpenApiOperation> {
  const title = kind[0]!.toUpperCase() + kind.slice(1);
  const tags = [resources[kind].plural];
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'the version read, as in ETag' };
  const common = { 400: errorResponse('Bad name or body'), 401: errorResponse('Missing or wrong token') };
  return {
    list: {
      summary: `List ${resources[kind].plural} by name: every one, or pages of \`limit\` with \`cursor\` = the \`next_cursor\` of the page before`,
      tags,
      parameters: [
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE } },
        { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: 'next_cursor of the previous page' },
      ],
      responses: { 200: jsonResponse('By name; next_cursor is null on the last page', ref(`${title}List`)), 400: errorResponse('Bad query'), 401: common[401] },
    },
    get: {
      summary: `Read a ${kind}`,
      tags,
      parameters: [nameParam],
      responses: { 200: jsonResponse(`The ${kind}`, ref(title)), ...common, 404: errorResponse('No such name') },
    },
    put: {
      summary: `Create or replace a ${kind}`,
      tags,
      parameters: [nameParam, ifMatch],
      requestBody: { required: true, content: { 'application/json': { schema: ref(`${title}Input`) } } },
      responses: {
        200: jsonResponse('Replaced, or unchanged (same version)', ref(title)),
        201: jsonResponse('Created', ref(title)),
        ...common,
        409: errorResponse('A reference or uniqueness rule is broken'),
        412: errorResponse('Stale version'),
        413: errorResponse('Body too large'),
        422: errorResponse('The cluster cannot be reached, or the storage fails its test (precheck_failed)'),
        415: errorResponse('Body is not JSON'),
      },
    },
    delete: {
      summary: `Delete a ${kind}`,
      tags,
      parameters: [nameParam, ifMatch],
      responses: {
        204: jsonResponse('Deleted'),
        ...common,
        404: errorResponse('No such name'),
        409: errorResponse('Still used by a policy'),
        412: errorResponse('Stale version'),
      },
    },
  };
}

export function resourceRoutes<K extends ResourceKind>(def: ResourceRoutes<K>): RouteModule {
  const { kind, table } = def;
  const { plural, secrets: secretFields } = resources[kind];
  const collection = `/v1/${plural}`;
  const item = `${collection}/:name`;
  const openapi = operations(kind);

  return (app: FastifyInstance, ctx: DaemonContext) => {
    app.get(collection, { config: { openapi: openapi.list } }, async (request) => {
      const q = request.query as Record<string, unknown>;
      onlyKnownParameters(q, ['limit', 'cursor']);
      const limit = positiveInt(q.limit, 'limit', MAX_PAGE);
      const cursor = q.cursor === undefined ? undefined : String(q.cursor);
      if (cursor !== undefined && !nameSchemas[kind].safeParse(cursor).success) {
        throw badRequest(`query parameter cursor must be a ${kind} name, as returned in next_cursor`);
      }
      if (limit === undefined) {
        if (cursor !== undefined) throw badRequest('query parameter cursor needs limit');
        return { items: (await ctx.store.resources.list(table)).map(present), next_cursor: null };
      }
      // One more than asked tells whether another page follows.
      const rows = await ctx.store.resources.list(table, undefined, { limit: limit + 1, after: cursor });
      const items = rows.slice(0, limit).map(present);
      return { items, next_cursor: rows.length > limit ? (items.at(-1)!.name as string) : null };
    });

    app.get(item, { config: { openapi: openapi.get } }, async (request, reply) => {
      const name = nameFromUrl(kind, request);
      const record = await ctx.store.resources.get(table, name);
      if (!record) throw notFound(`${kind} "${name}" does not exist`);
      reply.header('etag', etag(record.version));
      return present(record);
    });

    app.put(item, { config: { openapi: openapi.put } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const name = nameFromUrl(kind, request);
      const body = request.body;
      if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw badRequest(`request body must be a JSON object describing the ${kind}`);
      }
      const result = validateSpec(kind, body);
      const issues: Issue[] = result.ok ? [] : [...result.issues];
      const bodyName = (body as { name?: unknown }).name;
      if (typeof bodyName === 'string' && bodyName !== name && !issues.some((i) => i.path === 'name')) {
        issues.unshift({ path: 'name', message: `must equal the name in the URL ("${name}") or be left out` });
      }
      if (!result.ok || issues.length > 0) {
        throw validationFailed(`invalid ${kind} "${name}": ${issues.length} problem${issues.length === 1 ? '' : 's'}`, issues);
      }
      const spec = result.value;
      const ifMatch = parseIfMatch(request.headers['if-match']);
      const wanted = [
        ...(ifMatch?.versions ?? []),
        ...((spec as { version?: number }).version !== undefined ? [(spec as { version: number }).version] : []),
      ];
      if (ifMatch && ifMatch.versions.length > 0 && (spec as { version?: number }).version !== undefined) {
        if (!ifMatch.versions.includes((spec as { version: number }).version)) {
          throw badRequest('If-Match and the body\'s "version" disagree; send one of them');
        }
      }

      // What is stored: declared fields without identity, version and secrets; secrets apart.
      const declared: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
      delete declared.name;
      delete declared.version;
      const plainSecrets: Record<string, string> = {};
      for (const field of secretFields) {
        if (declared[field] !== undefined) plainSecrets[field] = declared[field] as string;
        delete declared[field];
      }
      const fingerprints = Object.fromEntries(
        Object.entries(plainSecrets).map(([field, value]) => [field, ctx.secrets.fingerprint(value, secretContext(kind, name, field))]),
      );
      const columns = def.indexedColumns?.(spec) ?? {};
      await def.validate?.(ctx, name, spec);

      const outcome = await withKeyRetry(kind, name, () =>
        ctx.store.transaction(async (trx) => {
          const existing = await ctx.store.resources.get(table, name, { executor: trx, lock: true });
          checkVersion(kind, name, existing, wanted, ifMatch?.any ?? false);
          await def.beforePut?.({ ...ctx, trx }, name, spec);

          const unchangedSecrets =
            existing !== undefined &&
            sameJson(Object.keys(existing.secrets).sort(), Object.keys(fingerprints).sort()) &&
            Object.entries(fingerprints).every(([field, fp]) => existing.secrets[field]?.fingerprint === fp);
          if (existing && unchangedSecrets && sameJson(existing.spec, declared)) return { status: 200, record: existing, before: existing.version };

          const sealed: Record<string, SealedSecret> = {};
          for (const [field, value] of Object.entries(plainSecrets)) {
            const kept = existing?.secrets[field];
            sealed[field] =
              kept && kept.fingerprint === fingerprints[field]
                ? kept
                : { ciphertext: ctx.secrets.seal(value, secretContext(kind, name, field)), fingerprint: fingerprints[field]! };
          }
          const now = nowIso();
          if (!existing) {
            const record = { name, version: 1, spec: declared, secrets: sealed, created_at: now, updated_at: now };
            await ctx.store.resources.insert(trx, table, record, columns);
            return { status: 201, record };
          }
          const record = { ...existing, version: existing.version + 1, spec: declared, secrets: sealed, updated_at: now };
          if (!(await ctx.store.resources.update(trx, table, record, existing.version, columns))) {
            throw preconditionFailed(`${kind} "${name}" changed while this request was being applied; read it again and retry`);
          }
          return { status: 200, record };
        }),
      );

      await def.afterPut?.(ctx, name, outcome.record, outcome.record.version !== (outcome as { before?: number }).before);
      reply.code(outcome.status).header('etag', etag(outcome.record.version));
      if (outcome.status === 201) reply.header('location', `${collection}/${encodeURIComponent(name)}`);
      return present(outcome.record);
    });

    app.delete(item, { config: { openapi: openapi.delete } }, async (request, reply) => {
      const name = nameFromUrl(kind, request);
      const ifMatch = parseIfMatch(request.headers['if-match']);
      const deleted = await withKeyRetry(kind, name, () =>
        ctx.store.transaction(async (trx) => {
          const existing = await ctx.store.resources.get(table, name, { executor: trx, lock: true });
          if (!existing) throw notFound(`${kind} "${name}" does not exist`);
          checkVersion(kind, name, existing, ifMatch?.versions ?? [], false);
          await def.beforeDelete?.({ ...ctx, trx }, name);
          await ctx.store.resources.delete(trx, table, name);
          return existing;
        }),
      );
      await def.afterDelete?.(ctx, name, deleted);
      return reply.code(204).send();
    });
  };
}

/** `policy "a"` / `policies "a", "b"` for messages about who uses something. */
export function describePolicies(names: string[]): string {
  return `${names.length === 1 ? 'policy' : 'policies'} ${names.map((n) => `"${n}"`).join(', ')}`;
}

export { ApiError };
