// obbackup_cluster: an OceanBase cluster registration (sys tenant credentials).
import { t } from '../cty/types.js';
import { attr } from '../framework/schema.js';
import { specResource } from './spec.js';

export const clusterResource = specResource({
  typeName: 'obbackup_cluster',
  kind: 'cluster',
  schema: {
    version: 0,
    description: 'An OceanBase cluster registered with obbackupd.',
    attributes: {
      name: attr.string({ required: true, requiresReplace: true, description: 'Cluster name: a letter first, 2-63 letters, digits, "-" or "_". Import ID.' }),
      host: attr.string({ required: true, description: 'Host name or IP address of an OBServer (or OBProxy).' }),
      port: attr.number({ optional: true, computed: true, description: 'MySQL protocol port (default 2881).' }),
      user: attr.string({ optional: true, computed: true, description: 'Sys tenant user (default "root@sys").' }),
      password: attr.string({
        required: true,
        sensitive: true,
        writeOnly: true,
        description: 'Password of the sys tenant user. Write-only: never stored in state; changes are detected through a salted hash kept in private state.',
      }),
      tenants: attr.list(t.string, { optional: true, description: 'OceanBase 4.x: tenants to back up (default: all user tenants).' }),
      password_fingerprint: attr.string({ computed: true, description: "The daemon's fingerprint of the stored password; changes when the password changes." }),
      version: attr.number({ computed: true, description: 'Version of the stored object (optimistic concurrency).' }),
    },
  },
});
