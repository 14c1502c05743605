// The examples' synthesized Terraform JSON (file snapshots under __snapshots__/examples/), with the
// default settings, plus the environment overrides each README documents.
import { Testing, type TerraformStack } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, exampleStack } from '../support/example-app.js';

const synth = (stack: TerraformStack) => JSON.parse(Testing.synth(stack, true)) as Record<string, any>;

describe('examples', () => {
  it.each(EXAMPLES)('%s synthesizes, passes validation and matches its snapshot', async (name) => {
    const json = synth(exampleStack(name));
    expect(json.terraform.required_providers.obbackup.source).toBe('obbackup.local/oceanbase/obbackup');
    // Secrets stay Terraform variables: nothing sensitive is written into the synthesized JSON.
    for (const cluster of Object.values(json.resource.obbackup_cluster) as Array<{ password: string }>) {
      expect(cluster.password).toBe('${var.ob_password}');
    }
    for (const storage of Object.values(json.resource.obbackup_storage) as Array<{ type: string; access_key_secret?: string }>) {
      if (storage.type === 'oss') expect(storage.access_key_secret).toBe('${var.oss_access_key_secret}');
    }
    await expect(JSON.stringify(json, null, 2) + '\n').toMatchFileSnapshot(`__snapshots__/examples/${name}.tf.json`);
  });

  it('quickstart takes its endpoint, host, tenants and directory from the environment', () => {
    const json = synth(
      exampleStack('quickstart', { OBBACKUP_ENDPOINT: 'http://10.1.1.1:7788', OB_HOST: '10.2.2.2', OB_PORT: '3881', OB_TENANTS: 't1, t2', BACKUP_DIR: '/mnt/nfs/ob' }),
    );
    expect(json.provider.obbackup[0].endpoint).toBe('http://10.1.1.1:7788');
    expect(json.resource.obbackup_cluster.cluster).toMatchObject({ host: '10.2.2.2', port: 3881, tenants: ['t1', 't2'] });
    expect(json.resource.obbackup_storage.storage.path).toBe('/mnt/nfs/ob');
  });

  it('quickstart is one 4.x cluster on file storage, weekly full + incremental, with cleanup and alarms', () => {
    const policy = synth(exampleStack('quickstart')).resource.obbackup_policy.policy;
    expect(policy.schedule.period).toBe('weekly');
    expect(new Set(policy.schedule.days.map((d: { type: string }) => d.type))).toEqual(new Set(['full', 'incremental']));
    expect(policy.cleanup.enabled).toBe(true);
    expect(Object.keys(policy.alarms).sort()).toEqual(['data_backup_timeout_minutes', 'log_backup_delay_seconds', 'no_successful_backup_days']);
  });

  it('oss-secondary copies to a different bucket than the primary', () => {
    const json = synth(exampleStack('oss-secondary', { OSS_PRIMARY_BUCKET: 'prod-backup', OSS_SECONDARY_BUCKET: 'prod-dr' }));
    const { primary, secondary } = json.resource.obbackup_storage;
    expect(primary).toMatchObject({ type: 'oss', path: 'prod-backup/oss-ob4' });
    expect(secondary).toMatchObject({ type: 'oss', path: 'prod-dr/oss-ob4' });
    expect(json.resource.obbackup_policy.policy.secondary.storage).toBe('${obbackup_storage.secondary.name}');
  });

  it('fleet shares two storages among its clusters and schedules one monthly', () => {
    const json = synth(exampleStack('fleet', { OB_PORT_BILLING_OB4: '4000' }));
    const policies = Object.values(json.resource.obbackup_policy) as Array<{ storage: string; schedule: { period: string } }>;
    expect(policies.length).toBeGreaterThanOrEqual(3);
    expect(new Set(policies.map((p) => p.storage)).size).toBe(2);
    expect(policies.filter((p) => p.schedule.period === 'monthly')).toHaveLength(1);
    expect(json.resource.obbackup_cluster['billing-ob4'].port).toBe(4000);
  });
});
