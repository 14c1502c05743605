// obbackup_cluster, obbackup_storage and obbackup_policy with the real terraform binary against a real
// obbackupd (in-process, SQLite): create, empty re-plan, in-place update, replacement, secret change,
// drift, out-of-band delete, CLI import, import blocks, daemon errors as diagnostics, destroy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';
import { createTerraformWorkspace, providerBlock } from '../support/terraform.js';
import type { TerraformWorkspace } from '../support/terraform.js';

let daemon: TestDaemon;
let tf: TerraformWorkspace;
// Real directories: creating or moving a storage runs the storage test.
const NFS = fixtureDir('nfs');
const NFS2 = fixtureDir('nfs2');

interface Vars {
  cluster?: string;
  host?: string;
  password?: string;
  storagePath?: string;
  threshold?: number;
  time?: string;
  extra?: string;
}

const config = (v: Vars = {}) => `${providerBlock}
provider "obbackup" {}

resource "obbackup_cluster" "prod" {
  name     = "${v.cluster ?? 'prod-ob4'}"
  host     = "${v.host ?? '10.0.0.1'}"
  password = "${v.password ?? 'first-password'}"
  tenants  = ["t1"]
}

resource "obbackup_storage" "nfs" {
  name = "nfs_main"
  type = "file"
  path = "${v.storagePath ?? NFS}"
${v.threshold !== undefined ? `  capacity_alarm_threshold = ${v.threshold}\n` : ''}}

resource "obbackup_policy" "nightly" {
  name    = "nightly"
  cluster = obbackup_cluster.prod.name
  storage = obbackup_storage.nfs.name
  schedule = {
    period   = "weekly"
    time     = "${v.time ?? '02:00'}"
    timezone = "Asia/Shanghai"
    days     = [{ day = 1, type = "full" }, { day = 3, type = "incremental" }]
  }
  cleanup = { enabled = true, retention_days = 14 }
}
${v.extra ?? ''}`;

async function get(path: string) {
  const res = await daemon.api('GET', path);
  return res.status === 200 ? res.body : null;
}

async function planExit(): Promise<number> {
  const plan = await tf.run(['plan', '-detailed-exitcode']);
  if (plan.code === 1) throw new Error(plan.stderr);
  return plan.code;
}

beforeAll(async () => {
  daemon = await startTestDaemon('sqlite');
  tf = await createTerraformWorkspace({ OBBACKUP_ENDPOINT: daemon.url, OBBACKUP_TOKEN: daemon.token });
  tf.write(config());
  expect((await tf.run(['init'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  tf?.cleanup();
});

describe('resources against obbackupd', () => {
  it('creates all three, then plans no changes', async () => {
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    expect(apply.stdout).not.toContain('first-password');
    expect(await get('/v1/clusters/prod-ob4')).toMatchObject({ host: '10.0.0.1', port: 2881, user: 'root@sys', tenants: ['t1'], version: 1 });
    expect(await get('/v1/storages/nfs_main')).toMatchObject({ type: 'file', path: NFS, capacity_alarm_threshold: 80 });
    expect(await get('/v1/policies/nightly')).toMatchObject({ cluster: 'prod-ob4', storage: 'nfs_main', cleanup: { enabled: true, retention_days: 14, time: '04:00' } });
    expect(await planExit()).toBe(0);
    // the state never holds the password
    const show = await tf.run(['show', '-json']);
    expect(show.stdout).not.toContain('first-password');
    expect(show.stdout).toContain('password_fingerprint');
  }, 90_000);

  it('updates in place, and recomputes next_runs when the schedule changes', async () => {
    tf.write(config({ host: '10.0.0.2', storagePath: NFS2, threshold: 70, time: '03:30' }));
    const plan = await tf.run(['plan']);
    expect(plan.stdout).toContain('Plan: 0 to add, 3 to change, 0 to destroy.');
    expect(plan.stdout).toMatch(/~ next_runs\s+= \[/);
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('0 added, 3 changed, 0 destroyed');
    expect(await get('/v1/clusters/prod-ob4')).toMatchObject({ host: '10.0.0.2', version: 2 });
    expect(await get('/v1/storages/nfs_main')).toMatchObject({ path: NFS2, capacity_alarm_threshold: 70, version: 2 });
    expect((await get('/v1/policies/nightly')).schedule.time).toBe('03:30');
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('a changed password in the configuration is an update, an unchanged one is not', async () => {
    const before = (await get('/v1/clusters/prod-ob4')).password_fingerprint;
    tf.write(config({ host: '10.0.0.2', storagePath: NFS2, threshold: 70, time: '03:30', password: 'second-password' }));
    const plan = await tf.run(['plan']);
    expect(plan.stdout).toContain('# obbackup_cluster.prod will be updated in-place');
    expect(plan.stdout).toMatch(/~ password_fingerprint\s+= "[^"]+" -> \(known after apply\)/);
    expect(plan.stdout).not.toContain('second-password');
    expect((await tf.run(['apply', '-auto-approve'])).code).toBe(0);
    expect((await get('/v1/clusters/prod-ob4')).password_fingerprint).not.toBe(before);
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('shows changes made outside Terraform and undoes them', async () => {
    const policy = await get('/v1/policies/nightly');
    const { name: _n, version, created_at: _c, updated_at: _u, ...spec } = policy;
    const put = await daemon.api('PUT', '/v1/policies/nightly', { ...spec, paused: true }, { headers: { 'if-match': `"${version}"` } });
    expect(put.status).toBe(200);
    const plan = await tf.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/~ paused\s+= true -> false/);
    expect((await tf.run(['apply', '-auto-approve'])).code).toBe(0);
    expect((await get('/v1/policies/nightly')).paused).toBe(false);
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('plans to create again what was deleted outside Terraform', async () => {
    expect((await daemon.api('DELETE', '/v1/policies/nightly')).status).toBe(204);
    const plan = await tf.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('# obbackup_policy.nightly will be created');
    expect((await tf.run(['apply', '-auto-approve'])).code).toBe(0);
    expect(await get('/v1/policies/nightly')).not.toBe(null);
  }, 90_000);

  it('replaces the cluster (and its policy) when the name changes', async () => {
    tf.write(config({ cluster: 'prod-ob4b', host: '10.0.0.2', storagePath: NFS2, threshold: 70, time: '03:30', password: 'second-password' }));
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toMatch(/~ name\s+= "prod-ob4" -> "prod-ob4b" # forces replacement/);
    expect(apply.stdout).toContain('2 added, 0 changed, 2 destroyed');
    expect(await get('/v1/clusters/prod-ob4')).toBe(null);
    expect((await get('/v1/policies/nightly')).cluster).toBe('prod-ob4b');
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('imports with terraform import, then plans no changes', async () => {
    for (const address of ['obbackup_policy.nightly', 'obbackup_storage.nfs', 'obbackup_cluster.prod']) {
      expect((await tf.run(['state', 'rm', address])).code).toBe(0);
    }
    for (const [address, id] of [
      ['obbackup_cluster.prod', 'prod-ob4b'],
      ['obbackup_storage.nfs', 'nfs_main'],
      ['obbackup_policy.nightly', 'nightly'],
    ]) {
      const imported = await tf.run(['import', address, id]);
      expect(imported.stderr).toBe('');
      expect(imported.stdout).toContain('Import successful!');
    }
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('imports with an import block', async () => {
    expect((await tf.run(['state', 'rm', 'obbackup_storage.nfs'])).code).toBe(0);
    tf.write(
      config({
        cluster: 'prod-ob4b',
        host: '10.0.0.2',
        storagePath: NFS2,
        threshold: 70,
        time: '03:30',
        password: 'second-password',
        extra: 'import {\n  to = obbackup_storage.nfs\n  id = "nfs_main"\n}\n',
      }),
    );
    const plan = await tf.run(['plan']);
    expect(plan.stdout).toContain('Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.');
    expect((await tf.run(['apply', '-auto-approve'])).code).toBe(0);
    expect(await planExit()).toBe(0);
  }, 90_000);

  it('importing what does not exist fails clearly', async () => {
    expect((await tf.run(['state', 'rm', 'obbackup_policy.nightly'])).code).toBe(0);
    const imported = await tf.run(['import', 'obbackup_policy.nightly', 'no-such-policy']);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain('Cannot import non-existent remote object');
    expect((await tf.run(['import', 'obbackup_policy.nightly', 'nightly'])).code).toBe(0);
  }, 90_000);

  it('daemon refusals arrive as diagnostics at the attribute', async () => {
    // A second policy for the same cluster: the daemon answers 409 with details.
    const extra = `
resource "obbackup_policy" "second" {
  name     = "second"
  cluster  = obbackup_cluster.prod.name
  storage  = obbackup_storage.nfs.name
  schedule = { period = "weekly", time = "05:00", days = [{ day = 7, type = "full" }] }
}
`;
    tf.write(config({ cluster: 'prod-ob4b', host: '10.0.0.2', storagePath: NFS2, threshold: 70, time: '03:30', password: 'second-password', extra }));
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('Error: Cannot create policy "second"');
    expect(apply.stderr).toContain('cluster "prod-ob4b" already has policy "nightly"');
    expect(apply.stderr).toMatch(/with obbackup_policy\.second,\s+on main\.tf line \d+, in resource "obbackup_policy" "second":\s+\d+:\s+cluster\s+= obbackup_cluster\.prod\.name/);
    expect(apply.stderr).not.toMatch(/at .*\.ts:\d+/);
  }, 90_000);

  it('destroys everything', async () => {
    tf.write(config({ cluster: 'prod-ob4b', host: '10.0.0.2', storagePath: NFS2, threshold: 70, time: '03:30', password: 'second-password' }));
    const destroy = await tf.run(['destroy', '-auto-approve']);
    expect(destroy.stderr).toBe('');
    expect(destroy.stdout).toContain('Destroy complete! Resources: 3 destroyed.');
    expect((await daemon.api('GET', '/v1/policies')).body.items).toEqual([]);
    expect((await daemon.api('GET', '/v1/storages')).body.items).toEqual([]);
    expect((await daemon.api('GET', '/v1/clusters')).body.items).toEqual([]);
  }, 90_000);
});
