// obbackup_backup ("backup now") and the data sources with the real terraform binary against a real
// obbackupd with its engine and obsim (OceanBase 4.2.1). Simulated time is advanced while terraform waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitApplied } from '../support/engine.js';
import type { Harness } from '../support/engine.js';
import { createTerraformWorkspace, providerBlock } from '../support/terraform.js';
import type { TerraformResult, TerraformWorkspace } from '../support/terraform.js';

let h: Harness;
let tf: TerraformWorkspace;

const backupTf = (body: string, extra = '') => `${providerBlock}provider "obbackup" {}

resource "obbackup_backup" "now" {
  cluster = "c1"
${body}}
${extra}`;

/** Runs terraform while moving simulated time, so runs it waits for make progress. */
async function runAdvancing(args: string[]): Promise<TerraformResult> {
  const { done } = tf.start(args);
  let finished = false;
  const result = done.finally(() => (finished = true));
  while (!finished) {
    await h.advance(2_000);
    await new Promise((r) => setTimeout(r, 30));
  }
  return result;
}

async function stateOf(address: string): Promise<Record<string, unknown>> {
  const show = await tf.run(['show', '-json']);
  const resources = JSON.parse(show.stdout).values.root_module.resources as { address: string; values: Record<string, unknown> }[];
  return resources.find((r) => r.address === address)!.values;
}

beforeAll(async () => {
  h = await startHarness({ obVersion: '4.2.1', tenants: ['app'] });
  await h.setup();
  await waitApplied(h);
  tf = await createTerraformWorkspace({ OBBACKUP_ENDPOINT: h.d.url, OBBACKUP_TOKEN: h.d.token, OBBACKUP_WAIT_POLL_MS: '100' });
  tf.write(backupTf('  type = "full"\n  wait = true\n'));
  expect((await tf.run(['init'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  tf?.cleanup();
  await h?.close();
});

describe('obbackup_backup', () => {
  let firstRun: string;

  it('runs a full backup and waits for it to succeed', async () => {
    const apply = await runAdvancing(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    const state = await stateOf('obbackup_backup.now');
    expect(state).toMatchObject({ cluster: 'c1', type: 'full', wait: true, state: 'succeeded' });
    expect(state.backup_set_id).toMatch(/^\d+$/);
    firstRun = state.id as string;
    const run = await h.run(Number(firstRun));
    expect(run).toMatchObject({ kind: 'backup', type: 'full', trigger: 'immediate', state: 'succeeded' });
    expect((await tf.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  }, 120_000);

  it('reads the cluster status and backup sets through the data sources', async () => {
    tf.write(
      backupTf(
        '  type = "full"\n  wait = true\n',
        `
data "obbackup_cluster_status" "c1" {
  cluster = "c1"
}

data "obbackup_backup_sets" "c1" {
  cluster = "c1"
}

output "schedule_status" {
  value = data.obbackup_cluster_status.c1.schedule_status
}

output "last_backup" {
  value = data.obbackup_cluster_status.c1.last_data_backup_at
}

output "next_run_types" {
  value = [for r in data.obbackup_cluster_status.c1.next_runs : r.type]
}

output "sets" {
  value = data.obbackup_backup_sets.c1.backup_sets
}
`,
      ),
    );
    const apply = await tf.run(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    const outputs = JSON.parse((await tf.run(['output', '-json'])).stdout);
    expect(outputs.schedule_status.value).toMatch(/^(NORMAL|WAITING)$/);
    expect(outputs.last_backup.value).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(outputs.next_run_types.value).toHaveLength(5);
    expect(outputs.sets.value).toEqual([expect.objectContaining({ run_id: firstRun, type: 'full', backup_set_id: expect.stringMatching(/^\d+$/) })]);
  }, 120_000);

  it('a change of triggers starts a new backup', async () => {
    tf.write(backupTf('  type = "incremental"\n  triggers = { release = "2" }\n'));
    const plan = await tf.run(['plan']);
    expect(plan.stdout).toContain('# obbackup_backup.now must be replaced');
    expect(plan.stdout).toMatch(/\+ "release" = "2"/);
    const apply = await runAdvancing(['apply', '-auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('1 added, 0 changed, 1 destroyed');
    const state = await stateOf('obbackup_backup.now');
    expect(state.id).not.toBe(firstRun);
    expect(state.type).toBe('incremental');
    expect((await h.run(Number(state.id))).type).toBe('incremental');
  }, 120_000);

  it('imports a run by its ID, then plans no changes', async () => {
    expect((await tf.run(['state', 'rm', 'obbackup_backup.now'])).code).toBe(0);
    tf.write(backupTf('  type = "full"\n  wait = true\n'));
    const imported = await tf.run(['import', 'obbackup_backup.now', firstRun]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain('Import successful!');
    // wait is a client-side setting: importing leaves it unset, so the plan sets it in place
    const plan = await tf.run(['plan']);
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect(plan.stdout).toMatch(/\+ wait\s+= true/);
    expect((await tf.run(['apply', '-auto-approve'])).code).toBe(0);
    expect((await tf.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  }, 120_000);

  it('a failed pre-check arrives as a diagnostic with the daemon message', async () => {
    await h.sim.faults.interruptArchive('app');
    tf.write(backupTf('  type = "full"\n  triggers = { attempt = "3" }\n'));
    const apply = await runAdvancing(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('Error: Cannot back up cluster "c1"');
    expect(apply.stderr).toContain('log archive is not DOING (tenant app INTERRUPTED)');
    expect(apply.stderr).not.toMatch(/at .*\.ts:\d+/);
  }, 120_000);
});
