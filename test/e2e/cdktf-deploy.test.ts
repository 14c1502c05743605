// Each example, copied outside the repository, through the whole user flow against a real obbackupd (engine
// on, SQLite) and simulated OceanBase clusters and OSS: `cdktf deploy`, the daemon holds exactly what the
// stack declares and the policies are applied to the clusters, `terraform plan` in the stack folder is
// empty, an edit of stack.ts redeploys as an in-place update that reaches the clusters, the plan is empty
// again, `cdktf destroy` leaves the daemon empty and the clusters no longer archiving. One daemon and one
// osssim for the file; the examples run one after another.
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
// A new archive round reaches DOING in 1.5 s instead of 7 s: the engine's apply waits for it.
const FAST_ARCHIVE = { archivePrepareMs: 500, archiveBeginMs: 1_000 };

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

/** One column (named or aliased `value`) of an obsim query, sorted. */
async function values(sim: ObSim, sql: string): Promise<string[]> {
  const rows = await sim.query(sql);
  return rows.map((r) => String(r.VALUE ?? r.value)).sort();
}

/** The daemon's warnings so far, for an assertion message. */
const warnings = () =>
  daemon.logs
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((l) => l.level >= 40)
    .map((l) => l.msg)
    .join('\n');

/**
 * Polls until `probe` returns `expected`: the engine undoes a deleted policy on its cluster in the
 * background, so the cluster settles a little after `cdktf destroy` returns.
 */
async function eventually<T>(what: string, probe: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  expect(last, `${what}; obbackupd warnings:\n${warnings()}`).toEqual(expected);
}

const ARCHIVE_DESTS_4X = "SELECT value FROM oceanbase.CDB_OB_ARCHIVE_DEST WHERE name = 'path'";
const ARCHIVE_STATES_4X = 'SELECT status AS value FROM oceanbase.CDB_OB_ARCHIVELOG';
const LOG_MODES_4X = "SELECT log_mode AS value FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'";
const RECOVERY_WINDOWS_4X = 'SELECT recovery_window AS value FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY';

/** What a 4.x cluster shows of the policies applied to it: log mode per user tenant, delete policies. */
const archiving4x = async (sim: ObSim) => ({ log_modes: await values(sim, LOG_MODES_4X), recovery_windows: await values(sim, RECOVERY_WINDOWS_4X) });
/** After a policy is removed: archive off everywhere, no delete policy left. */
const released4x = (tenants: number) => ({ log_modes: Array<string>(tenants).fill('NOARCHIVELOG'), recovery_windows: [] as string[] });

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
    sim = await startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['sales', 'crm'], tunables: FAST_ARCHIVE });
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
    expect(await values(sim, ARCHIVE_DESTS_4X)).toEqual([
      `file://${backupDir}/quickstart-ob4/crm/archive`,
      `file://${backupDir}/quickstart-ob4/sales/archive`,
    ]);
    expect(await values(sim, ARCHIVE_STATES_4X)).toEqual(['DOING', 'DOING']);
    expect(await archiving4x(sim)).toEqual({ log_modes: ['ARCHIVELOG', 'ARCHIVELOG'], recovery_windows: ['14d', '14d'] });
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
    expect(await values(sim, RECOVERY_WINDOWS_4X)).toEqual(['21d', '21d']);
    await expectEmptyPlan(p, 'plan after redeploy');
  }, STEP_MS);

  it('destroys everything it deployed and the cluster stops archiving', async () => {
    await destroy(p);
    await eventually('the cluster after destroy', () => archiving4x(sim), released4x(2));
  }, STEP_MS);
});

describe('oss-secondary: a 4.x cluster on one OSS bucket with a secondary on another', () => {
  let sim: ObSim;
  let p: ExampleProject;

  beforeAll(async () => {
    sim = await startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['app'], tunables: FAST_ARCHIVE });
    p = exampleProject('oss-secondary', mirror.dir, {
      OBBACKUP_ENDPOINT: daemon.url,
      OBBACKUP_TOKEN: daemon.token,
      OB_HOST: sim.host,
      OB_PORT: String(sim.port),
      OSS_ENDPOINT: oss.endpoint,
      OSS_ACCESS_KEY_ID: OSS_ID,
      OSS_PRIMARY_BUCKET: 'backup',
      OSS_SECONDARY_BUCKET: 'backup-dr',
      TF_VAR_ob_password: OB_PASSWORD,
      TF_VAR_oss_access_key_secret: OSS_SECRET,
    });
  });
  afterAll(async () => {
    p?.remove();
    await sim?.stop();
  });

  it('deploys exactly the declared objects and applies the policy to the cluster', async () => {
    const r = await deploy(p, 'deploy');
    expect(r.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    expect(await names()).toEqual({ clusters: ['oss-ob4'], storages: ['oss_dr', 'oss_primary'], policies: ['oss-ob4'] });

    const storages = await byName('storages');
    for (const [name, bucket] of [['oss_primary', 'backup'], ['oss_dr', 'backup-dr']] as const) {
      expect(storages[name]).toMatchObject({ type: 'oss', path: `${bucket}/oss-ob4`, endpoint: oss.endpoint, access_key_id: OSS_ID, version: 1 });
      expect(storages[name]).not.toHaveProperty('access_key_secret');
      expect(storages[name]!.access_key_secret_fingerprint).toEqual(expect.any(String));
    }
    const policy = (await byName('policies'))['oss-ob4']!;
    expect(policy).toMatchObject({
      cluster: 'oss-ob4',
      storage: 'oss_primary',
      schedule: { period: 'weekly', time: '01:30', timezone: 'Asia/Shanghai' },
      log_archive: { enabled: true, piece_switch_interval: '1d' },
      cleanup: { enabled: true, retention_days: 30 },
      secondary: {
        enabled: true,
        storage: 'oss_dr',
        retention_days: 14,
        schedule: {
          period: 'weekly',
          time: '05:00',
          timezone: 'Asia/Shanghai',
          days: [
            { day: 3, type: 'incremental' },
            { day: 7, type: 'full' },
          ],
        },
      },
      version: 1,
    });
    // The storage test ran against the buckets and left no probe object behind.
    expect(oss.listObjects('backup-dr')).toEqual([]);

    await waitApplied('oss-ob4');
    const dests = await values(sim, ARCHIVE_DESTS_4X);
    expect(dests).toHaveLength(1);
    expect(dests[0]).toMatch(/^oss:\/\/backup\/oss-ob4\/.*app.*\?host=/);
    expect(await values(sim, ARCHIVE_STATES_4X)).toEqual(['DOING']);
    expect(await archiving4x(sim)).toEqual({ log_modes: ['ARCHIVELOG'], recovery_windows: ['30d'] });
  }, STEP_MS);

  it('plans no changes after the deploy', async () => {
    await expectEmptyPlan(p, 'plan');
  }, STEP_MS);

  it('redeploys an edit of the secondary schedule and retention in place', async () => {
    p.edit("time: '05:00'", "time: '06:15'");
    p.edit('retentionDays: 14', 'retentionDays: 21');
    const r = await deploy(p, 'redeploy');
    expect(r.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    const policy = (await byName('policies'))['oss-ob4']!;
    expect(policy).toMatchObject({ secondary: { retention_days: 21, schedule: { time: '06:15' } }, version: 2 });
    expect(Object.values(await byName('storages')).map((s) => s.version)).toEqual([1, 1]);
    await waitApplied('oss-ob4');
    await expectEmptyPlan(p, 'plan after redeploy');
  }, STEP_MS);

  it('destroys everything it deployed and the cluster stops archiving', async () => {
    await destroy(p);
    await eventually('the cluster after destroy', () => archiving4x(sim), released4x(1));
  }, STEP_MS);
});

describe('fleet: two 4.x clusters and a 3.x cluster sharing a file and an OSS storage', () => {
  let orders: ObSim;
  let billing: ObSim;
  let archive: ObSim;
  let p: ExampleProject;
  let nfsDir: string;

  const archive3x = async () => {
    const options = (await values(archive, "SHOW PARAMETERS LIKE 'backup_dest_option'"))[0] ?? '';
    return {
      dest: await values(archive, "SHOW PARAMETERS LIKE 'backup_dest'"),
      recovery_window: /recovery_window=(\w+)/.exec(options)?.[1] ?? null,
      state: await values(archive, 'SELECT status AS value FROM oceanbase.CDB_OB_BACKUP_ARCHIVELOG WHERE tenant_id = 1'),
    };
  };

  beforeAll(async () => {
    [orders, billing, archive] = await Promise.all([
      startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['orders', 'reports'], tunables: FAST_ARCHIVE }),
      startObSim({ obVersion: '4.2.1', password: OB_PASSWORD, tenants: ['billing'], tunables: FAST_ARCHIVE }),
      startObSim({ obVersion: '3.2.4', password: OB_PASSWORD, tunables: FAST_ARCHIVE }),
    ]);
    nfsDir = mkdtempSync(join(scratch, 'fleet-nfs-'));
    p = exampleProject('fleet', mirror.dir, {
      OBBACKUP_ENDPOINT: daemon.url,
      OBBACKUP_TOKEN: daemon.token,
      OB_HOST: '127.0.0.1',
      OB_PORT_ORDERS_OB4: String(orders.port),
      OB_PORT_BILLING_OB4: String(billing.port),
      OB_PORT_ARCHIVE_OB3: String(archive.port),
      BACKUP_DIR: nfsDir,
      OSS_ENDPOINT: oss.endpoint,
      OSS_ACCESS_KEY_ID: OSS_ID,
      OSS_BUCKET: 'backup',
      TF_VAR_ob_password: OB_PASSWORD,
      TF_VAR_oss_access_key_secret: OSS_SECRET,
    });
  });
  afterAll(async () => {
    p?.remove();
    await Promise.all([orders?.stop(), billing?.stop(), archive?.stop()]);
  });

  it('deploys exactly the declared objects and applies each policy to its cluster', async () => {
    const r = await deploy(p, 'deploy');
    expect(r.stdout).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');
    expect(await names()).toEqual({
      clusters: ['archive-ob3', 'billing-ob4', 'orders-ob4'],
      storages: ['fleet_nfs', 'fleet_oss'],
      policies: ['archive-ob3', 'billing-ob4', 'orders-ob4'],
    });
    const clusters = await byName('clusters');
    expect(clusters['orders-ob4']).toMatchObject({ port: orders.port, tenants: ['orders'] });
    expect(clusters['billing-ob4']).toMatchObject({ port: billing.port });
    expect(clusters['billing-ob4']).not.toHaveProperty('tenants');
    expect(clusters['archive-ob3']).toMatchObject({ port: archive.port });
    const storages = await byName('storages');
    expect(storages.fleet_nfs).toMatchObject({ type: 'file', path: nfsDir });
    expect(storages.fleet_oss).toMatchObject({ type: 'oss', path: 'backup/fleet', endpoint: oss.endpoint, access_key_id: OSS_ID });
    const policies = await byName('policies');
    expect(policies['orders-ob4']).toMatchObject({
      cluster: 'orders-ob4',
      storage: 'fleet_nfs',
      schedule: { period: 'weekly', time: '01:00', days: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, type: day === 1 || day === 4 ? 'full' : 'incremental' })) },
      cleanup: { retention_days: 30 },
    });
    expect(policies['billing-ob4']).toMatchObject({ cluster: 'billing-ob4', storage: 'fleet_oss', schedule: { period: 'weekly', time: '03:00' } });
    expect(policies['archive-ob3']).toMatchObject({
      cluster: 'archive-ob3',
      storage: 'fleet_nfs',
      schedule: {
        period: 'monthly',
        time: '02:30',
        days: [
          { day: 1, type: 'full' },
          { day: 8, type: 'incremental' },
          { day: 15, type: 'full' },
          { day: 22, type: 'incremental' },
        ],
      },
    });

    await Promise.all(['orders-ob4', 'billing-ob4', 'archive-ob3'].map((name) => waitApplied(name)));
    // Only the scoped tenant of orders-ob4 archives; billing-ob4 archives to OSS; 3.x at cluster level.
    expect(await values(orders, ARCHIVE_DESTS_4X)).toEqual([`file://${nfsDir}/orders-ob4/orders/archive`]);
    expect(await values(billing, ARCHIVE_DESTS_4X)).toEqual([expect.stringMatching(/^oss:\/\/backup\/fleet\/.*billing.*\?host=/)]);
    expect(await archive3x()).toEqual({ dest: [`file://${nfsDir}/archive-ob3`], recovery_window: '30d', state: ['DOING'] });
    expect(await archiving4x(orders)).toEqual({ log_modes: ['ARCHIVELOG', 'NOARCHIVELOG'], recovery_windows: ['30d'] });
    expect(await archiving4x(billing)).toEqual({ log_modes: ['ARCHIVELOG'], recovery_windows: ['30d'] });
  }, STEP_MS);

  it('plans no changes after the deploy', async () => {
    await expectEmptyPlan(p, 'plan');
  }, STEP_MS);

  it('redeploys an edit of the shared retention and the 3.x schedule in place', async () => {
    p.edit("time: '02:30'", "time: '03:45'");
    p.edit('days: 30', 'days: 45');
    const r = await deploy(p, 'redeploy');
    expect(r.stdout).toContain('Apply complete! Resources: 0 added, 3 changed, 0 destroyed.');
    const policies = await byName('policies');
    for (const name of ['orders-ob4', 'billing-ob4', 'archive-ob3']) expect(policies[name]).toMatchObject({ cleanup: { retention_days: 45 }, version: 2 });
    expect(policies['archive-ob3']!.schedule.time).toBe('03:45');
    expect(policies['orders-ob4']!.schedule.time).toBe('01:00');
    await Promise.all(['orders-ob4', 'billing-ob4', 'archive-ob3'].map((name) => waitApplied(name)));
    expect(await values(orders, RECOVERY_WINDOWS_4X)).toEqual(['45d']);
    expect(await values(billing, RECOVERY_WINDOWS_4X)).toEqual(['45d']);
    expect((await archive3x()).recovery_window).toBe('45d');
    await expectEmptyPlan(p, 'plan after redeploy');
  }, STEP_MS);

  it('destroys everything it deployed and the clusters stop archiving', async () => {
    await destroy(p);
    const clusters = async () => ({
      'orders-ob4': await archiving4x(orders),
      'billing-ob4': await archiving4x(billing),
      'archive-ob3': await archive3x(),
    });
    await eventually('each cluster after destroy', clusters, {
      'orders-ob4': released4x(2),
      'billing-ob4': released4x(1),
      'archive-ob3': { dest: [`file://${nfsDir}/archive-ob3`], recovery_window: '0', state: ['STOP'] },
    });
  }, STEP_MS);
});
