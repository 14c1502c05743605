// The provider schema in the JSON form `terraform providers schema -json` prints: the one input the
// bindings generator reads, whatever produced it.

import { readFileSync } from 'node:fs';

export const PROVIDER_SOURCE = 'obbackup.local/oceanbase/obbackup';
/**
 * Each provider build is versioned <major>.<minor>.<n> (see provider/build.ts), so the bindings ask for
 * any build of the package's major.minor line rather than one exact version.
 */
export const PROVIDER_VERSION_CONSTRAINT = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const [major, minor] = pkg.version.split('.');
  return `~> ${major}.${minor}.0`;
})();

export type TfTypeJson = string | [string, unknown] | [string, unknown, unknown];

export interface TfAttribute {
  type?: TfTypeJson;
  nested_type?: { nesting_mode: 'single' | 'list' | 'set' | 'map'; attributes: Record<string, TfAttribute> };
  description?: string;
  description_kind?: 'plain';
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  write_only?: boolean;
  deprecated?: boolean;
}

export interface TfBlock {
  attributes?: Record<string, TfAttribute>;
  block_types?: Record<string, { nesting_mode: string; block: TfBlock; min_items?: number; max_items?: number }>;
  description?: string;
  description_kind?: 'plain';
}

export interface TfSchema {
  version: number;
  block: TfBlock;
}

export interface TfProviderSchemas {
  format_version: '1.0';
  provider_schemas: Record<
    string,
    {
      provider: TfSchema;
      resource_schemas: Record<string, TfSchema>;
      data_source_schemas: Record<string, TfSchema>;
    }
  >;
  provider_versions: Record<string, string>;
}

/** Wraps one provider's schemas in the document shape, with sorted keys so the output is stable. */
export function providerSchemas(parts: {
  provider: TfSchema;
  resources: Record<string, TfSchema>;
  dataSources: Record<string, TfSchema>;
}): TfProviderSchemas {
  return {
    format_version: '1.0',
    provider_schemas: {
      [PROVIDER_SOURCE]: {
        provider: parts.provider,
        resource_schemas: sortKeys(parts.resources),
        data_source_schemas: sortKeys(parts.dataSources),
      },
    },
    provider_versions: { [PROVIDER_SOURCE]: PROVIDER_VERSION_CONSTRAINT },
  };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
