// The tfplugin6 Provider service on top of declared resources: decoding, planning rules, encoding.
// Requests and responses are the plain objects of @grpc/proto-loader (snake_case, enums as strings).
import type { CtyType } from '../cty/types.js';
import { CtyError, decodeMsgpack, encodeMsgpack } from '../cty/msgpack.js';
import { fromJsonTree, parseJsonLossless } from '../cty/json.js';
import type { JsonTree } from '../cty/json.js';
import { isObjectValue, isWhollyKnown, valueEquals } from '../cty/values.js';
import type { ObjectValue, Value } from '../cty/values.js';
import { DiagnosticError, Diagnostics, DiagnosticsReported, protoStep } from './diagnostics.js';
import type { AttributePath } from './diagnostics.js';
import type { DataSourceDefinition, PrivateState, ProviderDefinition, ResourceDefinition } from './definitions.js';
import { nullWriteOnly, planObject, replacePaths, resolveUnknowns } from './plan.js';
import { checkSchema, schemaType, toProtoSchema } from './schema.js';
import type { SchemaSpec } from './schema.js';

type Req = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Res = Record<string, unknown>;

export interface RpcLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const silent: RpcLogger = { debug() {}, error() {} };

interface DynamicValueMsg {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

export class ProviderRpc<Client> {
  private client: Client | null = null;
  private clientUnknown = false;
  private configured = false;
  private readonly stop = new AbortController();
  private readonly resources = new Map<string, ResourceDefinition<Client>>();
  private readonly dataSources = new Map<string, DataSourceDefinition<Client>>();
  private readonly types = new Map<SchemaSpec, CtyType>();

  constructor(
    private readonly def: ProviderDefinition<Client>,
    private readonly log: RpcLogger = silent,
  ) {
    checkSchema(def.schema, 'provider');
    for (const r of def.resources) {
      checkSchema(r.schema, r.typeName);
      this.resources.set(r.typeName, r);
    }
    for (const d of def.dataSources) {
      checkSchema(d.schema, d.typeName);
      this.dataSources.set(d.typeName, d);
    }
  }

  /** Aborted by StopProvider; every handler context carries it. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  private typeOf(schema: SchemaSpec): CtyType {
    const cached = this.types.get(schema);
    if (cached) return cached;
    const type = schemaType(schema);
    this.types.set(schema, type);
    return type;
  }

  private decode(schema: SchemaSpec, dv: DynamicValueMsg | null | undefined): ObjectValue | null {
    const type = this.typeOf(schema);
    let value: Value;
    if (dv?.msgpack && dv.msgpack.length > 0) value = decodeMsgpack(type, dv.msgpack);
    else if (dv?.json && dv.json.length > 0) value = fromJsonTree(type, parseJsonLossless(Buffer.from(dv.json).toString('utf8')));
    else return null;
    if (value !== null && !isObjectValue(value)) throw new CtyError('expected an object');
    return value;
  }

  private encode(schema: SchemaSpec, value: ObjectValue | null): DynamicValueMsg {
    return { msgpack: encodeMsgpack(this.typeOf(schema), value) };
  }

  private resource(typeName: string): ResourceDefinition<Client> {
    const r = this.resources.get(typeName);
    if (!r) throw new DiagnosticError('Unknown resource type', `This provider has no resource type "${typeName}".`);
    return r;
  }

  private dataSource(typeName: string): DataSourceDefinition<Client> {
    const d = this.dataSources.get(typeName);
    if (!d) throw new DiagnosticError('Unknown data source', `This provider has no data source "${typeName}".`);
    return d;
  }

  private requireClient(): Client {
    if (this.clientUnknown)
      throw new DiagnosticError(
        'Provider configuration not known yet',
        'The provider configuration depends on values known only after apply; apply those first (e.g. with -target).',
      );
    if (!this.configured || this.client === null) throw new DiagnosticError('Provider not configured', 'The obbackup provider was not configured.');
    return this.client;
  }

  /** Runs a handler body, turning thrown errors into diagnostics. */
  private async guard(
    diagnostics: Diagnostics,
    name: string,
    body: () => Promise<Res>,
    onError: () => Res = () => ({}),
    schema?: () => SchemaSpec | undefined,
  ): Promise<Res> {
    try {
      const res = await body();
      return { ...res, diagnostics: diagnostics.toProto(schema?.()) };
    } catch (e) {
      this.reportError(diagnostics, e, name);
      return { ...onError(), diagnostics: diagnostics.toProto(schema?.()) };
    }
  }

  private resourceSchema(typeName: string) {
    return () => this.resources.get(typeName)?.schema;
  }

  private dataSourceSchema(typeName: string) {
    return () => this.dataSources.get(typeName)?.schema;
  }

  private reportError(diagnostics: Diagnostics, e: unknown, name: string): void {
    if (e instanceof DiagnosticsReported) return;
    if (e instanceof DiagnosticError) diagnostics.error(e.summary, e.detail, e.at);
    else if (e instanceof CtyError) diagnostics.error('Invalid value', e.message);
    else if (this.stop.signal.aborted && e instanceof Error && e.name === 'AbortError')
      diagnostics.error('Operation cancelled', 'Terraform asked the provider to stop before the operation finished.');
    else {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`${name} failed`, { error: message });
      diagnostics.error(`${name} failed`, message);
    }
  }

  // ---- information -----------------------------------------------------------------------------------

  private capabilities() {
    return { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false };
  }

  GetMetadata(): Res {
    return {
      server_capabilities: this.capabilities(),
      diagnostics: [],
      resources: [...this.resources.keys()].map((type_name) => ({ type_name })),
      data_sources: [...this.dataSources.keys()].map((type_name) => ({ type_name })),
      functions: [],
      ephemeral_resources: [],
    };
  }

  GetProviderSchema(): Res {
    const resource_schemas: Record<string, unknown> = {};
    for (const [name, r] of this.resources) resource_schemas[name] = toProtoSchema(r.schema);
    const data_source_schemas: Record<string, unknown> = {};
    for (const [name, d] of this.dataSources) data_source_schemas[name] = toProtoSchema(d.schema);
    return {
      provider: toProtoSchema(this.def.schema),
      resource_schemas,
      data_source_schemas,
      functions: {},
      ephemeral_resource_schemas: {},
      diagnostics: [],
      server_capabilities: this.capabilities(),
    };
  }

  GetFunctions(): Res {
    return { functions: {}, diagnostics: [] };
  }

  CallFunction(req: Req): Res {
    return { error: { text: `This provider has no function "${req.name}".` } };
  }

  // ---- validation ------------------------------------------------------------------------------------

  async ValidateProviderConfig(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Validate provider configuration', async () => {
      const config = this.decode(this.def.schema, req.config);
      if (config && this.def.validate) await this.def.validate({ config, diagnostics });
      return {};
    }, undefined, () => this.def.schema);
  }

  async ValidateResourceConfig(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Validate resource configuration', async () => {
      const r = this.resource(req.type_name);
      const config = this.decode(r.schema, req.config);
      if (config && r.validate) await r.validate({ config, diagnostics });
      return {};
    }, undefined, this.resourceSchema(req.type_name));
  }

  async ValidateDataResourceConfig(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Validate data source configuration', async () => {
      const d = this.dataSource(req.type_name);
      const config = this.decode(d.schema, req.config);
      if (config && d.validate) await d.validate({ config, diagnostics });
      return {};
    }, undefined, this.dataSourceSchema(req.type_name));
  }

  ValidateEphemeralResourceConfig(req: Req): Res {
    const diagnostics = new Diagnostics();
    diagnostics.error('Unknown ephemeral resource', `This provider has no ephemeral resource "${req.type_name}".`);
    return { diagnostics: diagnostics.toProto() };
  }

  // ---- provider configuration ------------------------------------------------------------------------

  async ConfigureProvider(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Configure provider', async () => {
      const config = this.decode(this.def.schema, req.config) ?? {};
      if (!isWhollyKnown(config)) {
        this.clientUnknown = true;
        return {};
      }
      this.client = await this.def.configure({
        config,
        terraformVersion: req.terraform_version ?? '',
        diagnostics,
        signal: this.stop.signal,
      });
      this.configured = true;
      return {};
    }, undefined, () => this.def.schema);
  }

  // ---- managed resources -----------------------------------------------------------------------------

  async UpgradeResourceState(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Upgrade resource state', async () => {
      const r = this.resource(req.type_name);
      const current = r.schema.version ?? 0;
      const from = Number(req.version ?? 0);
      const raw = req.raw_state ?? {};
      if ((!raw.json || raw.json.length === 0) && raw.flatmap && Object.keys(raw.flatmap).length > 0)
        throw new DiagnosticError('Unsupported state format', `The stored ${r.typeName} state uses the legacy flatmap format, which this provider never wrote.`);
      if (from > current)
        throw new DiagnosticError(
          'State written by a newer provider',
          `The stored ${r.typeName} state has schema version ${from}; this provider knows up to version ${current}. Use the newer provider version.`,
        );
      let tree = parseJsonLossless(Buffer.from(raw.json ?? []).toString('utf8') || 'null');
      if (tree === null) return { upgraded_state: this.encode(r.schema, null) };
      for (let v = from; v < current; v++) {
        const step = r.upgrades?.[v];
        if (!step) throw new DiagnosticError('Cannot upgrade state', `No upgrade from schema version ${v} of ${r.typeName}.`);
        tree = step(tree as { [key: string]: JsonTree });
      }
      // Attributes removed from the schema are dropped rather than failing every plan.
      const value = fromJsonTree(this.typeOf(r.schema), tree, { dropUnknownAttributes: true });
      return { upgraded_state: this.encode(r.schema, value as ObjectValue | null) };
    }, undefined, this.resourceSchema(req.type_name));
  }

  async ReadResource(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    const passThrough = () => ({ new_state: req.current_state, private: req.private });
    return this.guard(
      diagnostics,
      'Read',
      async () => {
        const r = this.resource(req.type_name);
        const state = this.decode(r.schema, req.current_state);
        if (state === null) return { new_state: this.encode(r.schema, null), private: req.private };
        if (this.clientUnknown && req.client_capabilities?.deferral_allowed)
          return { ...passThrough(), deferred: { reason: 'PROVIDER_CONFIG_UNKNOWN' } };
        const priv = parsePrivate(req.private);
        const next = await r.read({ client: this.requireClient(), signal: this.stop.signal, diagnostics, state, private: priv });
        const out = next === null ? null : nullWriteOnly(r.schema, resolveUnknowns(next) as ObjectValue);
        return { new_state: this.encode(r.schema, out), private: encodePrivate(priv) };
      },
      passThrough,
      this.resourceSchema(req.type_name),
    );
  }

  async PlanResourceChange(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Plan', async () => {
      const r = this.resource(req.type_name);
      const prior = this.decode(r.schema, req.prior_state);
      const proposed = this.decode(r.schema, req.proposed_new_state);
      const config = this.decode(r.schema, req.config);
      if (proposed === null) return { planned_state: this.encode(r.schema, null), planned_private: req.prior_private };
      const priv = parsePrivate(req.prior_private);
      const planned = planObject(r.schema, prior, proposed, config);
      const requiresReplace: AttributePath[] = [];
      if (r.modifyPlan) {
        await r.modifyPlan({
          client: this.client as Client,
          clientUnknown: this.clientUnknown || !this.configured,
          signal: this.stop.signal,
          diagnostics,
          prior,
          config: config ?? {},
          planned,
          private: priv,
          requiresReplace,
        });
      }
      if (prior !== null) {
        requiresReplace.push(...replacePaths(r.schema, prior, planned));
        if (!r.update) requiresReplace.push(...changedAttributes(r.schema, prior, planned));
      }
      return {
        planned_state: this.encode(r.schema, planned),
        requires_replace: dedupePaths(requiresReplace).map((steps) => ({ steps: steps.map(protoStep) })),
        planned_private: encodePrivate(priv),
      };
    }, undefined, this.resourceSchema(req.type_name));
  }

  async ApplyResourceChange(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    let fallback: Res = { new_state: req.prior_state, private: req.planned_private };
    return this.guard(
      diagnostics,
      'Apply',
      async () => {
        const r = this.resource(req.type_name);
        const prior = this.decode(r.schema, req.prior_state);
        const planned = this.decode(r.schema, req.planned_state);
        const config = this.decode(r.schema, req.config) ?? {};
        const priv = parsePrivate(req.planned_private);
        const ctx = { client: this.requireClient(), signal: this.stop.signal, diagnostics, prior, config, private: priv };
        if (planned === null) {
          if (prior !== null) await r.delete({ ...ctx, planned: prior });
          return { new_state: this.encode(r.schema, null), private: Buffer.alloc(0) };
        }
        if (prior === null) fallback = { new_state: this.encode(r.schema, null), private: Buffer.alloc(0) };
        const apply = prior === null || !r.update ? r.create.bind(r) : r.update.bind(r);
        const result = await apply({ ...ctx, planned });
        const out = nullWriteOnly(r.schema, resolveUnknowns(result) as ObjectValue);
        return { new_state: this.encode(r.schema, out), private: encodePrivate(priv) };
      },
      () => fallback,
      this.resourceSchema(req.type_name),
    );
  }

  async ImportResourceState(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Import', async () => {
      const r = this.resource(req.type_name);
      const priv: PrivateState = {};
      let state: ObjectValue;
      if (r.importState) {
        state = await r.importState({ client: this.requireClient(), signal: this.stop.signal, diagnostics, id: req.id, private: priv });
      } else {
        const attribute = r.importAttribute ?? 'name';
        state = { [attribute]: req.id };
      }
      const full: ObjectValue = {};
      for (const name of Object.keys((this.typeOf(r.schema) as CtyType & { kind: 'object' }).attributes)) full[name] = state[name] ?? null;
      return {
        imported_resources: [{ type_name: r.typeName, state: this.encode(r.schema, full), private: encodePrivate(priv) }],
      };
    }, undefined, this.resourceSchema(req.type_name));
  }

  MoveResourceState(req: Req): Res {
    const diagnostics = new Diagnostics();
    diagnostics.error('Move not supported', `Moving ${req.source_type_name} state into ${req.target_type_name} is not supported.`);
    return { diagnostics: diagnostics.toProto() };
  }

  // ---- data sources ----------------------------------------------------------------------------------

  async ReadDataSource(req: Req): Promise<Res> {
    const diagnostics = new Diagnostics();
    return this.guard(diagnostics, 'Read data source', async () => {
      const d = this.dataSource(req.type_name);
      const config = this.decode(d.schema, req.config) ?? {};
      if (this.clientUnknown && req.client_capabilities?.deferral_allowed) return { state: req.config, deferred: { reason: 'PROVIDER_CONFIG_UNKNOWN' } };
      const state = await d.read({ client: this.requireClient(), signal: this.stop.signal, diagnostics, config });
      return { state: this.encode(d.schema, resolveUnknowns(state) as ObjectValue) };
    }, undefined, this.dataSourceSchema(req.type_name));
  }

  // ---- ephemeral resources (none) --------------------------------------------------------------------

  OpenEphemeralResource(req: Req): Res {
    return this.ValidateEphemeralResourceConfig(req);
  }
  RenewEphemeralResource(req: Req): Res {
    return this.ValidateEphemeralResourceConfig(req);
  }
  CloseEphemeralResource(req: Req): Res {
    return this.ValidateEphemeralResourceConfig(req);
  }

  // ---- stop ------------------------------------------------------------------------------------------

  StopProvider(): Res {
    this.log.debug('stop requested: cancelling in-flight operations');
    this.stop.abort(new DOMException('Terraform asked the provider to stop', 'AbortError'));
    return { Error: '' };
  }
}

function dedupePaths(paths: AttributePath[]): AttributePath[] {
  const seen = new Set<string>();
  return paths.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Without an update handler, every changed non-computed attribute forces replacement. */
function changedAttributes(schema: SchemaSpec, prior: ObjectValue, planned: ObjectValue): AttributePath[] {
  const type = schemaType(schema);
  const out: AttributePath[] = [];
  for (const [name, spec] of Object.entries(schema.attributes)) {
    if (spec.computed && !spec.optional) continue;
    const a = prior[name] ?? null;
    const b = planned[name] ?? null;
    if (!valueEqualsAt(type, name, a, b)) out.push([{ attr: name }]);
  }
  for (const name of Object.keys(schema.blocks ?? {})) {
    if (!valueEqualsAt(type, name, prior[name] ?? null, planned[name] ?? null)) out.push([{ attr: name }]);
  }
  return out;
}

function valueEqualsAt(type: CtyType & { kind: 'object' }, name: string, a: Value, b: Value): boolean {
  return valueEquals(type.attributes[name], a, b);
}

export function parsePrivate(bytes: Uint8Array | null | undefined): PrivateState {
  if (!bytes || bytes.length === 0) return {};
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

export function encodePrivate(priv: PrivateState): Buffer {
  return Object.keys(priv).length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(priv), 'utf8');
}
