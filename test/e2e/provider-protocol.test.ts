// The plugin protocol end to end: the bundled provider, installed from a filesystem mirror, driven by the
// real terraform binary, managing obbackup_storage against a test double of the storage routes.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStorageApi } from '../support/fake-storage-api.js';
import type { FakeStorageApi } from '../support/fake-storage-api.js';
import { createTerraformWorkspace, providerBlock } from '../support/terraform.js';
import type { TerraformWorkspace } from '../support/terraform.js';

let api: FakeStorageApi;
let tf: TerraformWorkspace;

const storageTf = (name: string, path: string, extra = '') => `${providerBlock}
provider "obbackup" {}

resource "obbackup_storage" "main" {
  name = "${name}"
  type = "file"
  path = "${path}"
${extra}}
`;

beforeAll(async () => {
  api = await startFakeStorageApi();
  tf = await createTerraformWorkspace({ OBBACKUP_ENDPOINT: api.url, OBBACKUP_TOKEN: api.token });
}, 120_000);

afterAll(async () => {
  await api?.close();
  tf?.cleanup();
});

describe('terraform with the bundled provider', () => {
  it('installs from the filesystem mirror', async () => {
    tf.write(storageTf('nfs_main', '/backup/a'));
    const init = await tf.run(['init']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`Installed obbackup.local/oceanbase/obbackup v${tf.pkg.version}`);
  }, 60_000);

  it('plans a create with computed values unknown and defaults shown', async () => {
    const plan = await tf.run(['plan']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('# obbackup_storage.main will be created');
    expect(plan.stdout).toMatch(/capacity_alarm_threshold\s+= 80/);
    expect(plan.stdout).toMatch(/version\s+= \(known after apply\)/);
    expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
  }, 60_000);

  it('applies, then plans no changes', async () => {
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(api.storages.get('nfs_main')).toMatchObject({ type: 'file', path: '/backup/a', capacity_alarm_threshold: 80, version: 1 });
    const again = await tf.run(['plan', '-detailed-exitcode']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  }, 60_000);

  it('updates in place, sending the version it read', async () => {
    tf.write(storageTf('nfs_main', '/backup/b', '  capacity_alarm_threshold = 90\n'));
    const plan = await tf.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('# obbackup_storage.main will be updated in-place');
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('0 added, 1 changed, 0 destroyed');
    expect(api.storages.get('nfs_main')).toMatchObject({ path: '/backup/b', capacity_alarm_threshold: 90, version: 2 });
    expect((await tf.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  }, 60_000);

  it('sees a change made outside Terraform and plans to undo it', async () => {
    api.storages.set('nfs_main', { ...api.storages.get('nfs_main')!, path: '/elsewhere', version: 3 });
    const plan = await tf.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/~ path\s+= "\/elsewhere" -> "\/backup\/b"/);
  }, 60_000);

  it('replaces the object when the name changes', async () => {
    tf.write(storageTf('nfs_other', '/backup/b', '  capacity_alarm_threshold = 90\n'));
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('# obbackup_storage.main must be replaced');
    expect(apply.stdout).toMatch(/~ name\s+= "nfs_main" -> "nfs_other" # forces replacement/);
    expect(apply.stdout).toContain('1 added, 0 changed, 1 destroyed');
    expect([...api.storages.keys()]).toEqual(['nfs_other']);
  }, 60_000);

  it('rejects an invalid configuration at plan with the model message at the attribute', async () => {
    tf.write(storageTf('nfs_other', 'relative/dir', '  capacity_alarm_threshold = 100\n'));
    const plan = await tf.run(['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Invalid path');
    expect(plan.stderr).toContain('must be an absolute directory path for file storage');
    expect(plan.stderr).toMatch(/on main.tf line 14, in resource "obbackup_storage" "main":\s+14:\s+path = "relative\/dir"/);
    expect(plan.stderr).toContain('Error: Invalid capacity_alarm_threshold');
    expect(plan.stderr).toContain('must be 1-99 (percent)');
  }, 60_000);

  it('destroys', async () => {
    tf.write(storageTf('nfs_other', '/backup/b', '  capacity_alarm_threshold = 90\n'));
    const destroy = await tf.run(['destroy', '-auto-approve']);
    expect(destroy.stderr).toBe('');
    expect(destroy.code).toBe(0);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 1 destroyed.');
    expect(api.storages.size).toBe(0);
  }, 60_000);

  it('fails in seconds with a clear message when the daemon is down', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const plan = await tf.run(['apply', '-auto-approve'], { OBBACKUP_ENDPOINT: `http://127.0.0.1:${closedPort}` });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Cannot reach obbackupd');
    expect(plan.stderr).toContain('connection refused');
    expect(plan.ms).toBeLessThan(15_000);
  }, 60_000);

  it('Ctrl-C during a long apply stops the provider call cleanly', async () => {
    api.putDelayMs = 60_000;
    tf.write(storageTf('slow_one', '/backup/slow'));
    const { child, done } = tf.start(['apply', '-auto-approve']);
    const deadline = Date.now() + 30_000;
    while (!api.requests.includes('PUT /v1/storages/slow_one')) {
      if (Date.now() > deadline) throw new Error(`the apply never reached the daemon: ${api.requests.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const interrupted = performance.now();
    child.kill('SIGINT');
    const result = await done;
    api.putDelayMs = 0;
    expect(performance.now() - interrupted).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Interrupt received');
    expect(result.stderr).toContain('Error: Operation cancelled');
    expect(result.stderr).not.toMatch(/at .*\.(ts|cjs):\d+/);
    // no provider process left behind
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    expect(ps).not.toContain(join(tf.root, 'mirror'));
    expect(api.storages.has('slow_one')).toBe(false);
  }, 60_000);
});
