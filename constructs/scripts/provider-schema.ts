// The provider schema from the provider's own declarations (provider/), in the JSON form
// `terraform providers schema -json` prints: read in-process, no terraform and no provider binary.
import { typeToJson } from '../../provider/cty/types.js';
import type { AttributeSpec, BlockSpec, SchemaSpec } from '../../provider/framework/schema.js';
import { attributeType } from '../../provider/framework/schema.js';
import { obbackupProvider, PROVIDER_ADDRESS } from '../../provider/provider.js';
import { PROVIDER_SOURCE, providerSchemas, type TfAttribute, type TfBlock, type TfProviderSchemas, type TfSchema } from './tf-schema.js';

function attribute(spec: AttributeSpec): TfAttribute {
  const out: TfAttribute = {};
  if (spec.nested) {
    out.nested_type = { nesting_mode: spec.nested.nesting, attributes: attributes(spec.nested.attributes) };
  } else {
    out.type = typeToJson(attributeType(spec));
  }
  if (spec.description) Object.assign(out, { description: spec.description, description_kind: 'plain' });
  for (const flag of ['required', 'optional', 'computed', 'sensitive', 'deprecated'] as const) if (spec[flag]) out[flag] = true;
  if (spec.writeOnly) out.write_only = true;
  return out;
}

function attributes(specs: Record<string, AttributeSpec>): Record<string, TfAttribute> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, attribute(spec)]));
}

function block(specs: Record<string, AttributeSpec>, blocks: Record<string, BlockSpec> | undefined, description?: string): TfBlock {
  const out: TfBlock = { attributes: attributes(specs) };
  if (blocks && Object.keys(blocks).length > 0) {
    out.block_types = Object.fromEntries(
      Object.entries(blocks).map(([name, b]) => [
        name,
        {
          nesting_mode: b.nesting,
          block: block(b.attributes, b.blocks, b.description),
          ...(b.minItems ? { min_items: b.minItems } : {}),
          ...(b.maxItems ? { max_items: b.maxItems } : {}),
        },
      ]),
    );
  }
  if (description) Object.assign(out, { description, description_kind: 'plain' });
  return out;
}

function schema(spec: SchemaSpec): TfSchema {
  return { version: spec.version ?? 0, block: block(spec.attributes, spec.blocks, spec.description) };
}

export function providerSchema(): TfProviderSchemas {
  if (PROVIDER_ADDRESS !== PROVIDER_SOURCE) throw new Error(`provider address ${PROVIDER_ADDRESS} differs from ${PROVIDER_SOURCE}`);
  const definition = obbackupProvider({});
  return providerSchemas({
    provider: schema(definition.schema),
    resources: Object.fromEntries(definition.resources.map((r) => [r.typeName, schema(r.schema)])),
    dataSources: Object.fromEntries(definition.dataSources.map((d) => [d.typeName, schema(d.schema)])),
  });
}
