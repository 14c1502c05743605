// Each example, copied outside the repository, through the whole user flow against a real obbackupd (engine
// on, SQLite) and simulated OceanBase clusters and OSS: `cdktf deploy`, the daemon holds exactly what the
// stack declares and the policies are applied to the clusters, `terraform plan` in the stack folder is
// empty, an edit of stack.ts redeploys as an in-place update, the plan is empty again, `cdktf destroy`
// leaves the daemon empty. One daemon and one osssim for the file; the examples run one after another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObSim, type ObSim } from '../../simulator/ob/index.js';
import { startOssSim, type OssSim } from '../../simulator/oss/index.js';
import { exampleProject, output, providerMirror, requireTerraform, type CommandResult, type ExampleProject, type ProviderMirror } from '../support/cdktf-deploy.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import type { ExampleName } from '../support/example-app.js';

const OB_PASSWORD = 'Sys-e2e-Pa55';
const OSS_ID = 'e2e-access-id';
const OSS_SECRET = 'e2e-access-secret';
const STEP_MS = 240_000;

let daemon: TestDaemon;
let oss: OssSim;
let mirror: ProviderMirror;
let scratch: string;
const timings: string[] = [];

beforeAll(async () => {
  requireTerraform();
  mirror = await providerMirror();
  scratch = mkdtempSync(join(tmpdir(), 'obbackup-cdktf-e2e-'));
  oss = await startOssSim({ accessKeyId: OSS_ID, accessKeySecret: OSS_SECRET, buckets: ['backup', 'backup-dr'] });
  // Engine on with the real clock: clusters are checked on PUT, policies applied to obsim in the background.
  daemon = await startTestDaemon('sqlite', { logLevel: 'warn', engine: { archiveWaitMs: 60_000, driver: { connectTimeoutMs: 5_000, queryTimeoutMs: 10_000 } } });
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  await oss?.stop();
  mirror?.remove();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (timings.length > 0) process.stdout.write(`cdktf e2e timings:\n  ${timings.join('\n  ')}\n`);
});

// ---------------------------------------------------------------------------------------------------------
// daemon views

type Item = Record<string, any>;

async function list(kind: 'clusters' | 'storages' | 'policies'): Promise<Item[]> {
  const res = await daemon.api('GET', `/v1/${kind}`);
  expect(res.status, res.text).toBe(200);
  return (res.body.items as Item[]).sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

async function names(): Promise<Record<string, string[]>> {
  return {
    clusters: (await list('clusters')).map((i) => i.name),
    storages: (await list('storages')).map((i) => i.name),
    policies: (await list('policies')).map((i) => i.name),
  };
}

async function byName(kind: 'clusters' | 'storages' | 'policies'): Promise<Record<string, Item>> {
  return Object.fromEntries((await list(kind)).map((i) => [i.name, i]));
}

/** Waits until the engine applied the policy's current version to its cluster without a note. */
async function waitApplied(policy: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const engine = daemon.daemon.engine!;
  for (;;) {
    const [state, spec] = await Promise.all([engine.policyStates.get(policy), daemon.api('GET', `/v1/policies/${policy}`)]);
    if (state?.apply_state === 'applied' && !state.apply_error && state.applied_version === spec.body?.version) return;
    if (Date.now() > deadline) throw new Error(`policy ${policy} was not applied within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function param(sim: ObSim, sql: string): Promise<string[]> {
  const rows = await sim.query(sql);
  return rows.map((r) => String(r.VALUE ?? r.value)).sort();
}

// ---------------------------------------------------------------------------------------------------------
// the flow, shared by the examples

function record(example: ExampleName, step: string, r: CommandResult) {
  timings.push(`${example} ${step}: ${(r.ms / 1000).toFixed(1)} s`);
}

async function deploy(p: ExampleProject, step: string) {
  const r = await p.deploy();
  record(p.name, step, r);
  expect(r.code, output(r)).toBe(0);
  return r;
}

async function expectEmptyPlan(p: ExampleProject, step: string) {
  const r = await p.plan();
  record(p.name, step, r);
  expect(r.code, `terraform plan in ${p.stackDir} is not empty after apply:\n${output(r)}`).toBe(0);
  expect(r.stdout).toContain('No changes.');
}

async function destroy(p: ExampleProject) {
  const r = await p.destroy();
  record(p.name, 'destroy', r);
  expect(r.code, output(r)).toBe(0);
  expect(await names()).toEqual({ clusters: [], storages: [], policies: [] });
}

// ---------------------------------------------------------------------------------------------------------

describe('quickstart: one 4.x cluster with two tenants, file storage', () => {
  let sim: ObSim;
  let p: ExampleProject;
  let backupDir: string;

  beforeAll(async () => {
    sim = await startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['sales', 'crm'] });
    backupDir = mkdtempSync(join(scratch, 'quickstart-backup-'));
    p = exampleProject('quickstart', mirror.dir, {
      OBBACKUP_ENDPOINT: daemon.url,
      OBBACKUP_TOKEN: daemon.token,
      OB_HOST: sim.host,
      OB_PORT: String(sim.port),
      OB_TENANTS: 'sales,crm',
      BACKUP_DIR: backupDir,
      TF_VAR_ob_password: OB_PASSWORD,
    });
  });
  afterAll(async () => {
    p?.remove();
    await sim?.stop();
  });

  it('deploys exactly the declared objects and applies the policy to the cluster', async () => {
    const r = await deploy(p, 'deploy');
    expect(r.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    expect(await names()).toEqual({ clusters: ['quickstart-ob4'], storages: ['quickstart_nfs'], policies: ['quickstart'] });

    const cluster = (await byName('clusters'))['quickstart-ob4']!;
    expect(cluster).toMatchObject({ host: sim.host, port: sim.port, user: 'root@sys', tenants: ['sales', 'crm'], version: 1 });
    expect(cluster).not.toHaveProperty('password');
    const storage = (await byName('storages'))['quickstart_nfs']!;
    expect(storage).toMatchObject({ type: 'file', path: backupDir, capacity_alarm_threshold: 85, version: 1 });
    const policy = (await byName('policies'))['quickstart']!;
    expect(policy).toMatchObject({
      cluster: 'quickstart-ob4',
      storage: 'quickstart_nfs',
      mode: 'physical',
      schedule: {
        period: 'weekly',
        time: '02:00',
        timezone: 'UTC',
        days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: day === 1 ? 'full' : 'incremental' })),
      },
      log_archive: { enabled: true },
      cleanup: { enabled: true, retention_days: 14, time: '04:00' },
      alarms: { data_backup_timeout_minutes: 240, log_backup_delay_seconds: 900, no_successful_backup_days: 2 },
      version: 1,
    });

    await waitApplied('quickstart');
    expect(await param(sim, "SELECT value FROM oceanbase.CDB_OB_ARCHIVE_DEST WHERE name = 'path'")).toEqual([
      `file://${backupDir}/quickstart-ob4/crm/archive`,
      `file://${backupDir}/quickstart-ob4/sales/archive`,
    ]);
    expect(await param(sim, 'SELECT status AS value FROM oceanbase.CDB_OB_ARCHIVELOG')).toEqual(['DOING', 'DOING']);
  }, STEP_MS);

  it('plans no changes after the deploy', async () => {
    await expectEmptyPlan(p, 'plan');
  }, STEP_MS);

  it('redeploys an edit of the schedule time and retention in place', async () => {
    p.edit("time: '02:00'", "time: '03:30'");
    p.edit('days: 14', 'days: 21');
    const r = await deploy(p, 'redeploy');
    expect(r.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    const policy = (await byName('policies'))['quickstart']!;
    expect(policy).toMatchObject({ schedule: { time: '03:30' }, cleanup: { retention_days: 21 }, version: 2 });
    expect((await byName('clusters'))['quickstart-ob4']!.version).toBe(1);
    await waitApplied('quickstart');
    await expectEmptyPlan(p, 'plan after redeploy');
  }, STEP_MS);

  it('destroys everything it deployed', async () => {
    await destroy(p);
  }, STEP_MS);
});
