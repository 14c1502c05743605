// Declaring schemas once: attribute specs give the cty type, the protocol schema and the planning rules.
import type { CtyType } from '../cty/types.js';
import { t, typeToJson } from '../cty/types.js';
import type { Value } from '../cty/values.js';

export type Nesting = 'single' | 'list' | 'set' | 'map';
export type BlockNesting = Nesting | 'group';

export interface AttributeOptions {
  description?: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  /** Accepted in configuration, never stored in plan or state (Terraform >= 1.11). */
  writeOnly?: boolean;
  /** A change of this attribute (or anything inside it) replaces the object. */
  requiresReplace?: boolean;
  deprecated?: boolean;
  /** Optional+computed: the value planned when the configuration leaves it unset. */
  default?: Value;
  /**
   * Computed: by default the prior value is kept on update. Set to false when the value is recomputed by
   * every change, so that it is planned as unknown whenever the object changes.
   */
  stableOnUpdate?: boolean;
}

export interface AttributeSpec extends AttributeOptions {
  type?: CtyType;
  nested?: { nesting: Nesting; attributes: Record<string, AttributeSpec> };
}

export interface BlockSpec {
  nesting: BlockNesting;
  attributes: Record<string, AttributeSpec>;
  blocks?: Record<string, BlockSpec>;
  description?: string;
  minItems?: number;
  maxItems?: number;
}

export interface SchemaSpec {
  /** Schema version recorded in state; raise it together with an upgrade step. */
  version?: number;
  description?: string;
  attributes: Record<string, AttributeSpec>;
  blocks?: Record<string, BlockSpec>;
}

const typed =
  (type: CtyType) =>
  (options: AttributeOptions = {}): AttributeSpec => ({ ...options, type });

export const attr = {
  string: typed(t.string),
  number: typed(t.number),
  bool: typed(t.bool),
  dynamic: typed(t.dynamic),
  list: (element: CtyType, options: AttributeOptions = {}): AttributeSpec => ({ ...options, type: t.list(element) }),
  set: (element: CtyType, options: AttributeOptions = {}): AttributeSpec => ({ ...options, type: t.set(element) }),
  map: (element: CtyType, options: AttributeOptions = {}): AttributeSpec => ({ ...options, type: t.map(element) }),
  object: (attributes: Record<string, CtyType>, options: AttributeOptions = {}): AttributeSpec => ({
    ...options,
    type: t.object(attributes),
  }),
  /** Nested attributes (protocol nested_type): `schedule = { period = "weekly" … }`. */
  nested: (nesting: Nesting, attributes: Record<string, AttributeSpec>, options: AttributeOptions = {}): AttributeSpec => ({
    ...options,
    nested: { nesting, attributes },
  }),
};

function wrap(nesting: BlockNesting, object: CtyType): CtyType {
  switch (nesting) {
    case 'single':
    case 'group':
      return object;
    case 'list':
      return t.list(object);
    case 'set':
      return t.set(object);
    case 'map':
      return t.map(object);
  }
}

// Types are derived once per declaration: planning and encoding ask for them on every call.
const attributeTypes = new WeakMap<AttributeSpec, CtyType>();
const objectTypes = new WeakMap<Record<string, AttributeSpec>, WeakMap<Record<string, BlockSpec>, CtyType & { kind: 'object' }>>();
const NO_BLOCKS: Record<string, BlockSpec> = {};

export function attributeType(spec: AttributeSpec): CtyType {
  if (!spec.nested) {
    if (!spec.type) throw new Error('attribute needs a type or nested attributes');
    return spec.type;
  }
  let type = attributeTypes.get(spec);
  if (!type) attributeTypes.set(spec, (type = wrap(spec.nested.nesting, objectTypeOf(spec.nested.attributes))));
  return type;
}

export function objectTypeOf(attributes: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec> = NO_BLOCKS): CtyType & { kind: 'object' } {
  let byBlocks = objectTypes.get(attributes);
  if (!byBlocks) objectTypes.set(attributes, (byBlocks = new WeakMap()));
  const cached = byBlocks.get(blocks);
  if (cached) return cached;
  const out: Record<string, CtyType> = {};
  for (const [name, a] of Object.entries(attributes)) out[name] = attributeType(a);
  for (const [name, b] of Object.entries(blocks)) out[name] = wrap(b.nesting, objectTypeOf(b.attributes, b.blocks));
  const type = { kind: 'object' as const, attributes: out };
  byBlocks.set(blocks, type);
  return type;
}

export function schemaType(schema: SchemaSpec): CtyType & { kind: 'object' } {
  return objectTypeOf(schema.attributes, schema.blocks);
}

// ---------------------------------------------------------------------------------------------------------
// Protocol form (tfplugin6.Schema), as plain objects for the gRPC encoder.

const NESTING: Record<BlockNesting, string> = { single: 'SINGLE', list: 'LIST', set: 'SET', map: 'MAP', group: 'GROUP' };

function protoAttribute(name: string, a: AttributeSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name,
    description: a.description ?? '',
    description_kind: 'PLAIN',
    required: a.required === true,
    optional: a.optional === true,
    computed: a.computed === true,
    sensitive: a.sensitive === true,
    deprecated: a.deprecated === true,
    write_only: a.writeOnly === true,
  };
  if (a.nested) {
    out.nested_type = {
      attributes: Object.entries(a.nested.attributes).map(([n, s]) => protoAttribute(n, s)),
      nesting: NESTING[a.nested.nesting],
    };
  } else {
    out.type = Buffer.from(JSON.stringify(typeToJson(attributeType(a))), 'utf8');
  }
  return out;
}

function protoBlock(attributes: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec>, description: string, version: number): Record<string, unknown> {
  return {
    version,
    attributes: Object.entries(attributes).map(([n, a]) => protoAttribute(n, a)),
    block_types: Object.entries(blocks).map(([typeName, b]) => ({
      type_name: typeName,
      block: protoBlock(b.attributes, b.blocks ?? {}, b.description ?? '', 0),
      nesting: NESTING[b.nesting],
      min_items: b.minItems ?? 0,
      max_items: b.maxItems ?? 0,
    })),
    description,
    description_kind: 'PLAIN',
    deprecated: false,
  };
}

export function toProtoSchema(schema: SchemaSpec): Record<string, unknown> {
  const version = schema.version ?? 0;
  return { version, block: protoBlock(schema.attributes, schema.blocks ?? {}, schema.description ?? '', version) };
}

/** Checks a declaration for mistakes Terraform would only report at run time. */
export function checkSchema(schema: SchemaSpec, where: string): void {
  const visit = (attributes: Record<string, AttributeSpec>, prefix: string) => {
    for (const [name, a] of Object.entries(attributes)) {
      const at = `${where}: ${prefix}${name}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${at}: attribute names are lower_snake_case`);
      const modes = [a.required, a.optional, a.computed].filter(Boolean).length;
      if (modes === 0) throw new Error(`${at}: set required, optional or computed`);
      if (a.required && (a.optional || a.computed)) throw new Error(`${at}: required excludes optional and computed`);
      if (a.default !== undefined && !(a.optional && a.computed)) throw new Error(`${at}: a default needs optional and computed`);
      if (a.writeOnly && (a.computed || a.requiresReplace)) throw new Error(`${at}: write-only attributes cannot be computed or force replacement`);
      if (!a.type === !a.nested) throw new Error(`${at}: give either a type or nested attributes`);
      if (a.nested) visit(a.nested.attributes, `${prefix}${name}.`);
    }
  };
  visit(schema.attributes, '');
  for (const [name, b] of Object.entries(schema.blocks ?? {})) checkSchema({ attributes: b.attributes, blocks: b.blocks }, `${where}: ${name}`);
}
