// Deleting a policy undoes on the cluster what applying it started (log archive, delete policy), also
// when the cluster is deleted right after (as `cdktf destroy` does) and when the policy's first apply is
// still running. obsim 4.2.1 with two tenants, simulated time.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, sysExec, waitApplied, writesIn, type Harness } from '../support/engine.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LOG_MODES = "SELECT log_mode AS value FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'";
const DELETE_POLICIES = 'SELECT tenant_id AS value FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY';

async function values(harness: Harness, query: string): Promise<string[]> {
  return (await harness.sim.query(query)).map((r) => String(r.VALUE ?? r.value)).sort();
}

/** What the cluster shows of a policy: log mode per user tenant and its delete policies. */
async function clusterState(harness: Harness) {
  return { log_modes: await values(harness, LOG_MODES), delete_policies: (await values(harness, DELETE_POLICIES)).length };
}

/** A policy with a retention, so applying it adds a delete policy per tenant. */
const POLICY = { cleanup: { enabled: true, retention_days: 7, time: '04:00' } };

const released = { log_modes: ['NOARCHIVELOG', 'NOARCHIVELOG'], delete_policies: 0 };

/** Advances simulated time a little at a time until the engine has nothing left to do but sleep. */
async function drain(harness: Harness, steps = 5): Promise<void> {
  for (let i = 0; i < steps; i++) await harness.advance(1_000);
}

describe('deleting a policy, then its cluster at once (cdktf destroy)', () => {
  it('undoes the policy on the cluster before the cluster connection is closed', async () => {
    h = await startHarness({ obVersion: '4.2.1', tenants: ['app', 'crm'] });
    await h.setup(POLICY);
    await waitApplied(h);
    expect(await clusterState(h)).toEqual({ log_modes: ['ARCHIVELOG', 'ARCHIVELOG'], delete_policies: 2 });

    // No wait between the two: Terraform deletes the cluster as soon as the policy's DELETE answered.
    const policy = await h.api('DELETE', '/v1/policies/p1');
    expect(policy.status, policy.text).toBe(204);
    const cluster = await h.api('DELETE', '/v1/clusters/c1');
    expect(cluster.status, cluster.text).toBe(204);
    await drain(h);

    expect(await clusterState(h)).toEqual(released);
    expect(h.d.logs.filter((l) => /undoing its settings/.test(l))).toEqual([]);
  });
});

describe('deleting a policy while its first apply still runs', () => {
  it('stops the apply and undoes what it had already started', async () => {
    h = await startHarness({ obVersion: '4.2.1', tenants: ['app', 'crm'] });
    await h.setup(POLICY);
    // obsim's time stands still: the archive stays short of DOING and the apply waits for it.
    const state = await h.d.daemon.engine!.policyStates.get('p1');
    expect(state?.apply_state).toBe('applying');
    expect(await clusterState(h)).toEqual({ log_modes: ['ARCHIVELOG', 'ARCHIVELOG'], delete_policies: 2 });

    const from = h.statements.length;
    const res = await h.api('DELETE', '/v1/policies/p1');
    expect(res.status, res.text).toBe(204);
    // Long enough for the apply's archive wait (10 min here) to have ended had it not been stopped.
    for (let i = 0; i < 15; i++) await h.advance(60_000);

    expect(await clusterState(h)).toEqual(released);
    const writes = writesIn(h.statements.slice(from));
    expect(writes).toEqual(expect.arrayContaining(['ALTER SYSTEM NOARCHIVELOG TENANT = app', 'ALTER SYSTEM NOARCHIVELOG TENANT = crm']));
    // Nothing of the apply after the undo: the archive is not turned on again.
    expect(writes.filter((w) => /^ALTER SYSTEM ARCHIVELOG/.test(w))).toEqual([]);
    expect(await h.d.daemon.engine!.policyStates.get('p1')).toBeUndefined();
  });

  it('stopped half-way, undoes only what it had reached', async () => {
    h = await startHarness({ obVersion: '4.2.1', tenants: ['app', 'crm'] });
    // crm archives elsewhere with a delete policy of its own, set by an operator: the apply must first
    // stop that archive (and waits for it: obsim's time stands still), so it is stopped before crm's
    // retention is touched.
    await sysExec(h.sim, `ALTER SYSTEM SET LOG_ARCHIVE_DEST = 'LOCATION=file://${h.storageDir}/operator/crm' TENANT = crm`);
    await sysExec(h.sim, 'ALTER SYSTEM ARCHIVELOG TENANT = crm');
    await sysExec(h.sim, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '3d' TENANT = crm");
    const operator = h.statements.length;
    await h.setup(POLICY);
    await expect(h.d.daemon.engine!.policyStates.get('p1')).resolves.toMatchObject({ apply_state: 'applying' });
    const applied = writesIn(h.statements.slice(operator));
    expect(applied).toContain('ALTER SYSTEM NOARCHIVELOG TENANT = crm');
    expect(applied.filter((w) => /DELETE BACKUP POLICY .* TENANT = crm/.test(w))).toEqual([]);

    const res = await h.api('DELETE', '/v1/policies/p1');
    expect(res.status, res.text).toBe(204);
    for (let i = 0; i < 15; i++) await h.advance(60_000);

    // app: archive off, the delete policy the apply added dropped; crm: the operator's delete policy kept.
    const tenants = await h.sim.query("SELECT tenant_id AS id, tenant_name AS t, log_mode AS m FROM oceanbase.DBA_OB_TENANTS WHERE tenant_type = 'USER'");
    expect(tenants.map((r) => `${r.T ?? r.t}=${r.M ?? r.m}`).sort()).toEqual(['app=NOARCHIVELOG', 'crm=NOARCHIVELOG']);
    const nameOf = new Map(tenants.map((r) => [String(r.ID ?? r.id), String(r.T ?? r.t)]));
    const windows = await h.sim.query('SELECT tenant_id AS id, recovery_window AS w FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY');
    expect(windows.map((r) => `${nameOf.get(String(r.ID ?? r.id))}=${r.W ?? r.w}`)).toEqual(['crm=3d']);
  });
});
