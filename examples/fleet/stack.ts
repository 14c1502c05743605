import { TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { BackupPolicy, BackupStorage, ObBackupProvider, ObCluster, Schedule } from 'obbackup/constructs';

/** One cluster of the fleet: where to reach it and how it is backed up. */
export interface FleetMember {
  name: string;
  host: string;
  port: number;
  /** 4.x: tenants to back up (empty for all). 3.x backs up the whole cluster. */
  tenants?: string[];
  storage: 'nfs' | 'oss';
  schedule: Schedule;
}

export interface FleetSettings {
  endpoint: string;
  nfsDir: string;
  ossEndpoint: string;
  ossAccessKeyId: string;
  ossBucket: string;
  clusters: FleetMember[];
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): FleetSettings {
  const host = env.OB_HOST ?? '127.0.0.1';
  // The port of each cluster can be moved with OB_PORT_<NAME> (e.g. OB_PORT_BILLING_OB4=2882).
  const port = (name: string, fallback: number) => Number(env[`OB_PORT_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback);
  return {
    endpoint: env.OBBACKUP_ENDPOINT ?? 'http://127.0.0.1:7788',
    nfsDir: env.BACKUP_DIR ?? '/tmp/obbackup/fleet',
    ossEndpoint: env.OSS_ENDPOINT ?? 'http://127.0.0.1:9000',
    ossAccessKeyId: env.OSS_ACCESS_KEY_ID ?? 'local-id',
    ossBucket: env.OSS_BUCKET ?? 'backup',
    clusters: [
      {
        name: 'orders-ob4',
        host,
        port: port('orders-ob4', 2881),
        tenants: ['orders'],
        storage: 'nfs',
        schedule: Schedule.weekly({ full: ['monday', 'thursday'], time: '01:00' }),
      },
      {
        name: 'billing-ob4',
        host,
        port: port('billing-ob4', 2882),
        storage: 'oss',
        schedule: Schedule.weekly({ full: ['saturday'], time: '03:00' }),
      },
      {
        // An older 3.x cluster with little change: a full backup twice a month, incrementals in between.
        name: 'archive-ob3',
        host,
        port: port('archive-ob3', 2883),
        storage: 'nfs',
        schedule: Schedule.monthly({ full: [1, 15], incremental: [8, 22], time: '02:30' }),
      },
    ],
  };
}

/** Several 3.x and 4.x clusters sharing two storages, one policy each, declared from a list. */
export class FleetStack extends TerraformStack {
  constructor(scope: Construct, id: string, settings: FleetSettings) {
    super(scope, id);

    new ObBackupProvider(this, 'obbackup', { endpoint: settings.endpoint });

    const obPassword = new TerraformVariable(this, 'ob_password', {
      type: 'string',
      sensitive: true,
      default: '',
      description: 'Password of root@sys on every cluster; set TF_VAR_ob_password',
    });
    const ossSecret = new TerraformVariable(this, 'oss_access_key_secret', {
      type: 'string',
      sensitive: true,
      description: 'OSS AccessKey secret; set TF_VAR_oss_access_key_secret',
    });

    const storages: Record<FleetMember['storage'], BackupStorage> = {
      nfs: BackupStorage.file(this, 'nfs', { name: 'fleet_nfs', path: settings.nfsDir }),
      oss: BackupStorage.oss(this, 'oss', {
        name: 'fleet_oss',
        bucket: settings.ossBucket,
        prefix: 'fleet',
        endpoint: settings.ossEndpoint,
        accessKeyId: settings.ossAccessKeyId,
        accessKeySecret: ossSecret.stringValue,
      }),
    };

    for (const member of settings.clusters) {
      const cluster = new ObCluster(this, member.name, {
        host: member.host,
        port: member.port,
        password: obPassword.stringValue,
        tenants: member.tenants,
      });
      new BackupPolicy(this, `${member.name}-policy`, {
        name: member.name,
        cluster,
        storage: storages[member.storage],
        schedule: member.schedule,
        retention: { days: 30 },
      });
    }
  }
}
