// The provider schema derived from the contract (model/'s zod schemas): resource attributes mirror the
// JSON shapes of the API, snake_case, nested attributes for objects. The generator falls back to this
// when the provider's own declarations are not available.
import { z } from 'zod';
import { backupRequest, resources } from '../../model/index.js';
import { providerSchemas, type TfAttribute, type TfProviderSchemas, type TfSchema } from './tf-schema.js';

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}

function describe(s: JsonSchema): string | undefined {
  const parts: string[] = [];
  if (s.enum) parts.push(`One of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}.`);
  if (s.default !== undefined && (typeof s.default !== 'object' || s.default === null)) parts.push(`Default ${JSON.stringify(s.default)}.`);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function primitive(s: JsonSchema): string {
  switch (s.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      throw new Error(`no Terraform type for JSON schema type ${String(s.type)}`);
  }
}

function attribute(s: JsonSchema, required: boolean, secret: boolean): TfAttribute {
  // Fields the API defaults are optional in configuration and computed (the daemon returns the default).
  const mode: Partial<TfAttribute> = required ? { required: true } : s.default !== undefined ? { optional: true, computed: true } : { optional: true };
  const out: TfAttribute = {};
  if (s.type === 'object') {
    out.nested_type = { nesting_mode: 'single', attributes: attributes(s) };
  } else if (s.type === 'array' && s.items?.type === 'object') {
    out.nested_type = { nesting_mode: 'list', attributes: attributes(s.items) };
  } else if (s.type === 'array') {
    out.type = ['list', primitive(s.items ?? {})];
  } else {
    out.type = primitive(s);
  }
  const description = describe(s);
  if (description) Object.assign(out, { description, description_kind: 'plain' });
  Object.assign(out, mode);
  if (secret) out.sensitive = true;
  return out;
}

function attributes(s: JsonSchema, secrets: readonly string[] = [], skip: readonly string[] = []): Record<string, TfAttribute> {
  const out: Record<string, TfAttribute> = {};
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    if (skip.includes(name)) continue;
    out[name] = attribute(prop, s.required?.includes(name) ?? false, secrets.includes(name));
  }
  return out;
}

const jsonSchemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

const str = (mode: Partial<TfAttribute>, description?: string): TfAttribute => ({
  type: 'string',
  ...(description ? { description, description_kind: 'plain' as const } : {}),
  ...mode,
});
const num = (mode: Partial<TfAttribute>): TfAttribute => ({ type: 'number', ...mode });
const computed = { computed: true };
const nextRuns: TfAttribute = { type: ['list', ['object', { at: 'string', type: 'string' }]], computed: true };

function schema(attrs: Record<string, TfAttribute>, description: string): TfSchema {
  return { version: 0, block: { attributes: attrs, description, description_kind: 'plain' } };
}

function resourceSchema(kind: keyof typeof resources, description: string, extra: Record<string, TfAttribute> = {}): TfSchema {
  const spec = jsonSchemaOf(resources[kind].spec);
  // `name` is the identity (the URL segment), required here though optional in a PUT body; `version`
  // is the API's optimistic-concurrency counter, kept by the provider, not configured.
  const attrs = attributes(spec, resources[kind].secrets, ['name', 'version']);
  return schema({ name: str({ required: true }, 'Name, the identity used by the API and `terraform import`.'), ...attrs, ...extra }, description);
}

export function contractSchema(): TfProviderSchemas {
  const backup = attributes(jsonSchemaOf(backupRequest));
  return providerSchemas({
    provider: schema(
      {
        endpoint: str({ optional: true }, 'obbackupd URL. Default: OBBACKUP_ENDPOINT, else http://127.0.0.1:7788.'),
        token: { ...str({ optional: true }, 'API bearer token. Default: OBBACKUP_TOKEN.'), sensitive: true },
      },
      'obbackupd, the OceanBase backup daemon.',
    ),
    resources: {
      obbackup_cluster: resourceSchema('cluster', 'An OceanBase cluster registered for backup (sys tenant credentials).'),
      obbackup_storage: resourceSchema('storage', 'A backup storage configuration: a file path or an OSS bucket.'),
      obbackup_policy: resourceSchema('policy', "A cluster's backup policy: schedule, log archive, cleanup, alarms, secondary.", {
        next_runs: nextRuns,
      }),
      obbackup_backup: schema(
        {
          cluster: str({ required: true }, 'Name of the cluster to back up.'),
          ...backup,
          wait: { type: 'bool', optional: true, description: 'Wait for the backup to finish.', description_kind: 'plain' },
          triggers: { type: ['map', 'string'], optional: true, description: 'Any change starts a new backup.', description_kind: 'plain' },
          run_id: str(computed),
          status: str(computed),
        },
        'Backup now: creating it runs the pre-checks and starts a backup.',
      ),
    },
    dataSources: {
      obbackup_cluster_status: schema(
        {
          cluster: str({ required: true }),
          schedule_status: str(computed),
          last_data_backup_at: str(computed),
          log_backup_delay_seconds: num(computed),
          backup_size_bytes: num(computed),
          next_runs: nextRuns,
        },
        'Backup overview of one cluster.',
      ),
      obbackup_backup_sets: schema(
        {
          cluster: str({ required: true }),
          backup_sets: {
            type: ['list', ['object', { id: 'number', type: 'string', status: 'string', start_time: 'string', end_time: 'string', size_bytes: 'number' }]],
            computed: true,
          },
        },
        'Backup sets of one cluster.',
      ),
    },
  });
}
