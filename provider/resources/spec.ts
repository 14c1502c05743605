// Resources that are daemon objects with a declared spec (cluster, storage, policy): one PUT/GET/DELETE
// shape, validation and defaults through model/, optimistic concurrency, secrets write-only.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parsePath, resources as modelResources, validateSpec } from '../../model/index.js';
import type { ResourceKind } from '../../model/index.js';
import type { ObbackupClient } from '../client.js';
import type { CtyType } from '../cty/types.js';
import { Unknown, isObjectValue, valueEquals } from '../cty/values.js';
import type { ObjectValue, Value } from '../cty/values.js';
import { fromPlain, toPlain } from '../framework/convert.js';
import { DiagnosticError, Diagnostics, schemaPath } from '../framework/diagnostics.js';
import type { ApplyContext, PlanContext, PrivateState, ReadContext, ResourceDefinition } from '../framework/definitions.js';
import type { AttributeSpec, SchemaSpec } from '../framework/schema.js';
import { attributeType, schemaType } from '../framework/schema.js';
import { callApi } from './errors.js';

export interface SpecResourceOptions {
  typeName: string;
  kind: ResourceKind;
  schema: SchemaSpec;
  /**
   * Adds computed attributes from the stored object (e.g. next_runs); runs after create/update (with the
   * planned object) and after read (with the prior state).
   */
  decorate?(state: ObjectValue, stored: Record<string, unknown>, planned?: ObjectValue, prior?: ObjectValue): void;
  /** Extra planning after the model's defaults are applied (e.g. next_runs). */
  modifyPlan?(ctx: PlanContext<ObbackupClient>, spec: Record<string, unknown> | null): void;
}

interface SecretRecord {
  salt: string;
  hash: string;
}

interface SpecPrivate extends PrivateState {
  /**
   * Salted HMAC-SHA256 of the secrets last applied, so a changed secret in the configuration shows as a
   * change although the secret itself is never stored. It lives in the state's private data, which is as
   * sensitive as the state itself; a slow KDF here would cost every plan tens of ms per object.
   */
  secret_hashes?: Record<string, SecretRecord>;
  /** The daemon's fingerprints right after the last apply: a secret changed out of band shows as drift. */
  applied_fingerprints?: Record<string, string>;
}

const fingerprintAttr = (secret: string) => `${secret}_fingerprint`;

function hashSecret(secret: string, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

function secretMatches(secret: string, record: SecretRecord): boolean {
  const expected = Buffer.from(record.hash, 'base64');
  const actual = hashSecret(secret, Buffer.from(record.salt, 'base64'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Spec attributes: what the user declares (required or optional), sent to the daemon. */
export function specAttributeNames(schema: SchemaSpec): string[] {
  return Object.entries(schema.attributes)
    .filter(([, a]) => a.required || a.optional)
    .map(([n]) => n);
}

function pathHitsUnknown(issuePath: (string | number)[], unknownPaths: (string | number)[][]): boolean {
  return unknownPaths.some((u) => {
    const n = Math.min(u.length, issuePath.length);
    for (let i = 0; i < n; i++) if (String(u[i]) !== String(issuePath[i])) return false;
    return true;
  });
}

// Terraform validates each object, then plans it with the same configuration: validate once per process.
const validations = new Map<string, ReturnType<typeof validateSpec>>();

function validateCached(kind: ResourceKind, plain: Record<string, unknown>): ReturnType<typeof validateSpec> {
  const key = `${kind}\u0000${JSON.stringify(plain)}`;
  let result = validations.get(key);
  if (!result) {
    if (validations.size >= 5000) validations.clear();
    result = validateSpec(kind, plain);
    validations.set(key, result);
  }
  return result;
}

/** Validates the configuration through model/ (same rules and messages as the API), unknowns skipped. */
export function validateThroughModel(
  kind: ResourceKind,
  schema: SchemaSpec,
  config: ObjectValue,
  diagnostics: Diagnostics,
  fields: string[] = specAttributeNames(schema),
): Record<string, unknown> | null {
  const unknownPaths: (string | number)[][] = [];
  const body: ObjectValue = {};
  for (const f of fields) body[f] = config[f] ?? null;
  const plain = toPlain(body, unknownPaths) as Record<string, unknown>;
  const result = validateCached(kind, plain);
  if (result.ok) return unknownPaths.length === 0 ? (result.value as Record<string, unknown>) : null;
  for (const issue of result.issues) {
    const steps = parsePath(issue.path);
    if (pathHitsUnknown(steps, unknownPaths)) continue;
    diagnostics.error(`Invalid ${issue.path || kind}`, issue.message, steps.length > 0 ? schemaPath(schema, steps) : undefined);
  }
  return null;
}

/**
 * Where the configuration leaves an optional+computed attribute unset, plan the model's default (the value
 * the daemon will store), so the plan is exact and a removed setting returns to its default.
 */
function applyDefaults(attributes: Record<string, AttributeSpec>, planned: ObjectValue, config: ObjectValue | null, model: Record<string, unknown>): void {
  for (const [name, spec] of Object.entries(attributes)) {
    if (!(spec.required || spec.optional) || spec.writeOnly) continue;
    const configValue = config ? (config[name] ?? null) : null;
    const type = attributeType(spec);
    if (configValue === null) {
      if (spec.computed) planned[name] = fromPlain(type, model[name]);
      continue;
    }
    if (!spec.nested) continue;
    const inner = model[name];
    const plannedValue = planned[name];
    if (spec.nested.nesting === 'single' && isObjectValue(plannedValue) && isObjectValue(configValue) && inner && typeof inner === 'object')
      applyDefaults(spec.nested.attributes, plannedValue, configValue, inner as Record<string, unknown>);
    if (spec.nested.nesting === 'list' && Array.isArray(plannedValue) && Array.isArray(configValue) && Array.isArray(inner))
      plannedValue.forEach((p, i) => {
        const c = configValue[i];
        if (isObjectValue(p) && isObjectValue(c) && inner[i] && typeof inner[i] === 'object')
          applyDefaults(spec.nested!.attributes, p, c, inner[i] as Record<string, unknown>);
      });
  }
}

/** Keeps null where the user left an optional attribute unset and the daemon answers with nothing in it. */
function keepUnsetEmpty(schema: SchemaSpec, prior: ObjectValue | null, next: ObjectValue): void {
  if (!prior) return;
  for (const [name, spec] of Object.entries(schema.attributes)) {
    if (!spec.optional || spec.computed) continue;
    const v = next[name];
    const empty = v === null || (Array.isArray(v) && v.length === 0) || (isObjectValue(v) && Object.keys(v).length === 0) || v === '';
    if ((prior[name] ?? null) === null && empty) next[name] = null;
  }
}

export function specResource(options: SpecResourceOptions): ResourceDefinition<ObbackupClient> {
  const { kind, schema, typeName } = options;
  const plural = modelResources[kind].plural;
  const secrets = [...modelResources[kind].secrets];
  const fields = specAttributeNames(schema);
  const objectType = schemaType(schema) as CtyType & { kind: 'object' };
  const label = (name: Value) => `${kind} "${typeof name === 'string' ? name : '?'}"`;

  const toState = (stored: Record<string, unknown>, prior: ObjectValue | null, planned?: ObjectValue): ObjectValue => {
    const state = fromPlain(objectType, stored) as ObjectValue;
    for (const s of secrets) state[s] = null;
    keepUnsetEmpty(schema, prior, state);
    options.decorate?.(state, stored, planned, prior ?? undefined);
    return state;
  };

  const body = (planned: ObjectValue, config: ObjectValue): Record<string, unknown> => {
    const out: ObjectValue = {};
    for (const f of fields) out[f] = secrets.includes(f) ? (config[f] ?? null) : (planned[f] ?? null);
    delete out.name; // the name is the URL
    return toPlain(out) as Record<string, unknown>;
  };

  const recordSecrets = (ctx: ApplyContext<ObbackupClient>, stored: Record<string, unknown>) => {
    const priv = ctx.private as SpecPrivate;
    priv.secret_hashes = {};
    priv.applied_fingerprints = {};
    for (const s of secrets) {
      const value = ctx.config[s];
      if (typeof value === 'string') {
        const salt = randomBytes(16);
        priv.secret_hashes[s] = { salt: salt.toString('base64'), hash: hashSecret(value, salt).toString('base64') };
      }
      const fp = stored[fingerprintAttr(s)];
      if (typeof fp === 'string') priv.applied_fingerprints[s] = fp;
    }
  };

  const write = async (ctx: ApplyContext<ObbackupClient>, version: number | null, action: string) => {
    const name = ctx.planned.name as string;
    // If-Match carries the version Terraform last read: a change made meanwhile is refused (412), not lost.
    const headers = version !== null ? { 'if-match': `"${version}"` } : undefined;
    const stored = await callApi(ctx.diagnostics, schema, `Cannot ${action} ${label(name)}`, () =>
      ctx.client.putResource<Record<string, unknown>>(plural, name, body(ctx.planned, ctx.config), ctx.signal, undefined, headers),
    );
    recordSecrets(ctx, stored);
    return toState(stored, ctx.planned, ctx.planned);
  };

  return {
    typeName,
    schema,
    importAttribute: 'name',

    validate({ config, diagnostics }) {
      validateThroughModel(kind, schema, config, diagnostics, fields);
    },

    modifyPlan(ctx) {
      const quiet = new Diagnostics(); // validation errors were reported by ValidateResourceConfig
      const spec = validateThroughModel(kind, schema, ctx.config, quiet, fields);
      if (spec) applyDefaults(schema.attributes, ctx.planned, ctx.config, spec);
      if (ctx.prior) {
        const priv = ctx.private as SpecPrivate;
        for (const s of secrets) {
          const fpName = fingerprintAttr(s);
          const configured = ctx.config[s] ?? null;
          const record = priv.secret_hashes?.[s];
          const applied = priv.applied_fingerprints?.[s];
          const current = ctx.prior[fpName];
          const changedInConfig =
            configured instanceof Unknown ||
            (typeof configured === 'string' && record !== undefined && !secretMatches(configured, record)) ||
            (configured === null && current !== null);
          const changedOutOfBand = applied !== undefined && typeof current === 'string' && current !== applied;
          if (changedInConfig || changedOutOfBand) ctx.planned[fpName] = new Unknown();
        }
        // Any change produces a new version.
        if (!sameKnown(ctx.prior, ctx.planned)) ctx.planned.version = new Unknown();
      }
      options.modifyPlan?.(ctx, spec);
    },

    async create(ctx) {
      const name = ctx.planned.name as string;
      const existing = await callApi(ctx.diagnostics, schema, `Cannot create ${label(name)}`, () => ctx.client.getResource(plural, name, ctx.signal));
      if (existing)
        throw new DiagnosticError(
          `${label(name)} already exists`,
          `obbackupd already has ${label(name)}. To manage it with Terraform, import it: terraform import ${typeName}.<address> ${name}`,
          [{ attr: 'name' }],
        );
      return write(ctx, null, 'create');
    },

    async update(ctx) {
      const version = typeof ctx.prior?.version === 'number' ? ctx.prior.version : null;
      return write(ctx, version, 'update');
    },

    async read(ctx: ReadContext<ObbackupClient>) {
      const name = ctx.state.name as string;
      const stored = await callApi(ctx.diagnostics, schema, `Cannot read ${label(name)}`, () =>
        ctx.client.readFromListing<Record<string, unknown>>(plural, name, ctx.signal),
      );
      if (!stored) return null;
      return toState(stored, ctx.state);
    },

    async delete(ctx) {
      const name = (ctx.prior?.name ?? ctx.planned.name) as string;
      await callApi(ctx.diagnostics, schema, `Cannot delete ${label(name)}`, () => ctx.client.deleteResource(plural, name, ctx.signal));
    },
  };

  function sameKnown(prior: ObjectValue, planned: ObjectValue): boolean {
    for (const name of Object.keys(objectType.attributes)) {
      if (name === 'version') continue;
      if (!valueEquals(objectType.attributes[name], prior[name] ?? null, planned[name] ?? null)) return false;
    }
    return true;
  }
}
