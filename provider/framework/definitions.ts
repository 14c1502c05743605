// What a provider, a resource and a data source declare; the framework does the protocol around it.
import type { ObjectValue } from '../cty/values.js';
import type { JsonTree } from '../cty/json.js';
import type { Diagnostics } from './diagnostics.js';
import type { SchemaSpec } from './schema.js';

/** Free-form data kept by Terraform next to the state (protocol "private"), JSON-encoded. */
export type PrivateState = Record<string, unknown>;

interface BaseContext<Client> {
  client: Client;
  /** Aborted when Terraform asks the provider to stop (Ctrl-C). */
  signal: AbortSignal;
  diagnostics: Diagnostics;
}

export interface ValidateContext {
  /** The configuration; values not known until apply are `Unknown`. */
  config: ObjectValue;
  diagnostics: Diagnostics;
}

export interface PlanContext<Client> extends BaseContext<Client> {
  prior: ObjectValue | null;
  config: ObjectValue;
  /** The plan so far (framework rules applied); change it in place. */
  planned: ObjectValue;
  private: PrivateState;
  /** Add attribute paths here to force replacement beyond `requiresReplace`. */
  requiresReplace: import('./diagnostics.js').AttributePath[];
  /** True when the provider configuration is not known yet (client is unusable). */
  clientUnknown: boolean;
}

export interface ApplyContext<Client> extends BaseContext<Client> {
  prior: ObjectValue | null;
  planned: ObjectValue;
  /** The configuration, including write-only attributes (which the plan never holds). */
  config: ObjectValue;
  private: PrivateState;
}

export interface ReadContext<Client> extends BaseContext<Client> {
  state: ObjectValue;
  private: PrivateState;
}

export interface ImportContext<Client> extends BaseContext<Client> {
  id: string;
  private: PrivateState;
}

export interface ResourceDefinition<Client> {
  typeName: string;
  schema: SchemaSpec;
  /** Attribute set from the import ID when `importState` is not given (default "name"). */
  importAttribute?: string;
  /** Steps that turn stored JSON of version N into version N+1 (keys are N). */
  upgrades?: Record<number, (state: { [key: string]: JsonTree }) => { [key: string]: JsonTree }>;
  validate?(ctx: ValidateContext): void | Promise<void>;
  modifyPlan?(ctx: PlanContext<Client>): void | Promise<void>;
  create(ctx: ApplyContext<Client>): Promise<ObjectValue>;
  /** Return null when the object no longer exists (Terraform then plans to create it again). */
  read(ctx: ReadContext<Client>): Promise<ObjectValue | null>;
  /** Without update, every attribute change replaces the object. */
  update?(ctx: ApplyContext<Client>): Promise<ObjectValue>;
  delete(ctx: ApplyContext<Client>): Promise<void>;
  importState?(ctx: ImportContext<Client>): ObjectValue | Promise<ObjectValue>;
}

export interface DataSourceContext<Client> extends BaseContext<Client> {
  config: ObjectValue;
}

export interface DataSourceDefinition<Client> {
  typeName: string;
  schema: SchemaSpec;
  validate?(ctx: ValidateContext): void | Promise<void>;
  read(ctx: DataSourceContext<Client>): Promise<ObjectValue>;
}

export interface ConfigureContext {
  config: ObjectValue;
  terraformVersion: string;
  diagnostics: Diagnostics;
  signal: AbortSignal;
}

export interface ProviderDefinition<Client> {
  schema: SchemaSpec;
  validate?(ctx: ValidateContext): void | Promise<void>;
  /** Returns the client handed to every resource call; null when configuration failed (diagnostics say why). */
  configure(ctx: ConfigureContext): Client | null | Promise<Client | null>;
  resources: ResourceDefinition<Client>[];
  dataSources: DataSourceDefinition<Client>[];
}

export function defineResource<Client>(def: ResourceDefinition<Client>): ResourceDefinition<Client> {
  return def;
}

export function defineDataSource<Client>(def: DataSourceDefinition<Client>): DataSourceDefinition<Client> {
  return def;
}
