// The obbackup provider: configuration, and the resources and data sources it serves.
import { DEFAULT_ENDPOINT, ObbackupClient, normalizeEndpoint } from './client.js';
import type { ProviderDefinition } from './framework/definitions.js';
import { path } from './framework/diagnostics.js';
import { attr } from './framework/schema.js';
import { backupResource } from './resources/backup.js';
import { clusterResource } from './resources/cluster.js';
import { backupSetsDataSource, clusterStatusDataSource } from './resources/data-sources.js';
import { policyResource } from './resources/policy.js';
import { storageResource } from './resources/storage.js';

export const PROVIDER_ADDRESS = 'obbackup.local/oceanbase/obbackup';

export function obbackupProvider(env: NodeJS.ProcessEnv = process.env): ProviderDefinition<ObbackupClient> {
  return {
    schema: {
      description: 'Manages OceanBase backup policies through obbackupd.',
      attributes: {
        endpoint: attr.string({ optional: true, description: `obbackupd URL; defaults to OBBACKUP_ENDPOINT, then ${DEFAULT_ENDPOINT}.` }),
        token: attr.string({ optional: true, sensitive: true, description: 'API bearer token; defaults to OBBACKUP_TOKEN.' }),
      },
    },
    validate({ config, diagnostics }) {
      if (typeof config.endpoint === 'string') {
        try {
          normalizeEndpoint(config.endpoint);
        } catch (e) {
          diagnostics.error('Invalid endpoint', (e as Error).message, path('endpoint'));
        }
      }
    },
    configure({ config, diagnostics, terraformVersion }) {
      const endpoint = (typeof config.endpoint === 'string' && config.endpoint) || env.OBBACKUP_ENDPOINT || DEFAULT_ENDPOINT;
      const token = (typeof config.token === 'string' && config.token) || env.OBBACKUP_TOKEN || undefined;
      try {
        return new ObbackupClient({
          endpoint,
          token,
          userAgent: `terraform-provider-obbackup (terraform ${terraformVersion || 'unknown'})`,
          timeoutMs: Number(env.OBBACKUP_TIMEOUT_MS) || undefined,
        });
      } catch (e) {
        diagnostics.error('Invalid endpoint', (e as Error).message, typeof config.endpoint === 'string' ? path('endpoint') : undefined);
        return null;
      }
    },
    resources: [clusterResource, storageResource, policyResource, backupResource],
    dataSources: [clusterStatusDataSource, backupSetsDataSource],
  };
}
