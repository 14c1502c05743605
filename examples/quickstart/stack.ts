import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { BackupPolicy, BackupStorage, ObBackupProvider, ObCluster, Schedule } from 'obbackup/constructs';

/** What differs between machines; everything secret comes in through TF_VAR_* at deploy time instead. */
export interface QuickstartSettings {
  /** obbackupd URL. */
  endpoint: string;
  /** An OBServer of the 4.x cluster, and its MySQL port. */
  obHost: string;
  obPort: number;
  /** Tenants to back up; empty for all. */
  tenants: string[];
  /** Backup directory, as the OBServers and obbackupd see it. */
  backupDir: string;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): QuickstartSettings {
  return {
    endpoint: env.OBBACKUP_ENDPOINT ?? 'http://127.0.0.1:7788',
    obHost: env.OB_HOST ?? '127.0.0.1',
    obPort: Number(env.OB_PORT ?? 2881),
    tenants: (env.OB_TENANTS ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    backupDir: env.BACKUP_DIR ?? '/tmp/obbackup/quickstart',
  };
}

/** One OceanBase 4.x cluster backed up to a directory: weekly full + daily incremental, cleanup, alarms. */
export class QuickstartStack extends TerraformStack {
  constructor(scope: Construct, id: string, settings: QuickstartSettings) {
    super(scope, id);

    // The API token is read from OBBACKUP_TOKEN when Terraform runs, so it never lands in cdktf.out.
    new ObBackupProvider(this, 'obbackup', { endpoint: settings.endpoint });

    const obPassword = new TerraformVariable(this, 'ob_password', {
      type: 'string',
      sensitive: true,
      default: '', // root@sys of a fresh cluster (and of obsim without --password)
      description: 'Password of root@sys; set TF_VAR_ob_password',
    });

    const cluster = new ObCluster(this, 'cluster', {
      name: 'quickstart-ob4',
      host: settings.obHost,
      port: settings.obPort,
      password: obPassword.stringValue,
      tenants: settings.tenants.length > 0 ? settings.tenants : undefined,
    });

    const storage = BackupStorage.file(this, 'storage', {
      name: 'quickstart_nfs',
      path: settings.backupDir,
      capacityAlarmThreshold: 85,
    });

    const policy = new BackupPolicy(this, 'policy', {
      name: 'quickstart',
      cluster,
      storage,
      // Full on Monday, incremental Tuesday to Sunday, at 02:00 UTC.
      schedule: Schedule.weekly({ full: ['monday'], time: '02:00' }),
      retention: { days: 14, cleanupTime: '04:00' },
      alarms: { dataBackupTimeoutMinutes: 240, logBackupDelaySeconds: 900, noSuccessfulBackupDays: 2 },
    });

    new TerraformOutput(this, 'cluster_name', { value: cluster.nameRef });
    new TerraformOutput(this, 'next_runs', { value: policy.nextRuns });
  }
}
