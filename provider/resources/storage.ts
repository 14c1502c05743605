// obbackup_storage: a backup destination (file path or OSS bucket); the daemon tests it on every write.
import { attr } from '../framework/schema.js';
import { specResource } from './spec.js';

export const storageResource = specResource({
  typeName: 'obbackup_storage',
  kind: 'storage',
  schema: {
    version: 0,
    description: 'A backup storage configuration (file directory or OSS bucket). Creating or changing it runs the storage test.',
    attributes: {
      name: attr.string({ required: true, requiresReplace: true, description: 'Storage name: a letter first, 2-32 letters, digits or underscores. Import ID.' }),
      type: attr.string({ required: true, description: '"file" or "oss".' }),
      path: attr.string({ required: true, description: 'Absolute directory for file storage; "bucket/prefix" for OSS.' }),
      capacity_alarm_threshold: attr.number({ optional: true, computed: true, description: 'Usage percent that raises a capacity alarm (default 80).' }),
      endpoint: attr.string({ optional: true, description: 'OSS endpoint (oss only).' }),
      access_key_id: attr.string({ optional: true, description: 'OSS access key ID (oss only).' }),
      access_key_secret: attr.string({ optional: true, sensitive: true, writeOnly: true, description: 'OSS access key secret (oss only). Write-only: never stored in state; changes are detected through a salted hash kept in private state.' }),
      access_key_secret_fingerprint: attr.string({ computed: true, description: 'The daemon\'s fingerprint of the stored secret; changes when the secret is changed.' }),
      version: attr.number({ computed: true, description: 'Version of the stored object (optimistic concurrency).' }),
    },
  },
});
