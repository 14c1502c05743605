// Deleting a policy undoes on the cluster what applying it started (log archive, delete policy), also
// when the cluster is deleted right after (as `cdktf destroy` does) and when the policy's first apply is
// still running. obsim 4.2.1 with two tenants, simulated time.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, waitApplied, writesIn, type Harness } from '../support/engine.js';

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
