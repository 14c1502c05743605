import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { BackupPolicy, BackupStorage, ObBackupProvider, ObCluster, Schedule } from 'obbackup/constructs';

/** What differs between machines; secrets come in through TF_VAR_* at deploy time instead. */
export interface OssSecondarySettings {
  endpoint: string;
  obHost: string;
  obPort: number;
  /** OSS endpoint (Alibaba Cloud, or osssim on this machine) and the AccessKey id. */
  ossEndpoint: string;
  ossAccessKeyId: string;
  /** Bucket of the primary backups, and of the secondary copies. */
  primaryBucket: string;
  secondaryBucket: string;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): OssSecondarySettings {
  return {
    endpoint: env.OBBACKUP_ENDPOINT ?? 'http://127.0.0.1:7788',
    obHost: env.OB_HOST ?? '127.0.0.1',
    obPort: Number(env.OB_PORT ?? 2881),
    ossEndpoint: env.OSS_ENDPOINT ?? 'http://127.0.0.1:9000',
    ossAccessKeyId: env.OSS_ACCESS_KEY_ID ?? 'local-id',
    primaryBucket: env.OSS_PRIMARY_BUCKET ?? 'backup',
    secondaryBucket: env.OSS_SECONDARY_BUCKET ?? 'backup-dr',
  };
}

/**
 * A 4.x cluster backed up to one OSS bucket, with a weekly copy of the backups on a second bucket
 * (OCP's secondary backup) for disaster recovery.
 */
export class OssSecondaryStack extends TerraformStack {
  constructor(scope: Construct, id: string, settings: OssSecondarySettings) {
    super(scope, id);

    new ObBackupProvider(this, 'obbackup', { endpoint: settings.endpoint });

    const obPassword = new TerraformVariable(this, 'ob_password', {
      type: 'string',
      sensitive: true,
      default: '',
      description: 'Password of root@sys; set TF_VAR_ob_password',
    });
    const ossSecret = new TerraformVariable(this, 'oss_access_key_secret', {
      type: 'string',
      sensitive: true,
      description: 'OSS AccessKey secret; set TF_VAR_oss_access_key_secret',
    });

    const cluster = new ObCluster(this, 'cluster', {
      name: 'oss-ob4',
      host: settings.obHost,
      port: settings.obPort,
      password: obPassword.stringValue,
    });

    const oss = { endpoint: settings.ossEndpoint, accessKeyId: settings.ossAccessKeyId, accessKeySecret: ossSecret.stringValue };
    const primary = BackupStorage.oss(this, 'primary', { name: 'oss_primary', bucket: settings.primaryBucket, prefix: 'oss-ob4', ...oss });
    const secondary = BackupStorage.oss(this, 'secondary', { name: 'oss_dr', bucket: settings.secondaryBucket, prefix: 'oss-ob4', ...oss });

    const policy = new BackupPolicy(this, 'policy', {
      name: 'oss-ob4',
      cluster,
      storage: primary,
      schedule: Schedule.weekly({ full: ['sunday'], time: '01:30', timezone: 'Asia/Shanghai' }),
      logArchive: { pieceSwitchInterval: '1d' },
      retention: { days: 30 },
      // Copies are kept shorter than the primary backups (OCP requires it) but at least a week.
      secondary: {
        storage: secondary,
        retentionDays: 14,
        schedule: Schedule.weekly({ full: ['sunday'], incremental: ['wednesday'], time: '05:00', timezone: 'Asia/Shanghai' }),
      },
    });

    new TerraformOutput(this, 'next_runs', { value: policy.nextRuns });
  }
}
