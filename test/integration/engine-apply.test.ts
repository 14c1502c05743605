// Applying a policy when the cluster refuses at first: the failure is recorded on the policy's state, and a
// backup requested meanwhile applies the policy itself before its pre-checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../daemon/engine/index.js';
import { startHarness, writesIn, type Harness } from '../support/engine.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ obVersion: '4.2.1', tenants: ['app'] });
});

afterAll(async () => {
  await h?.close();
});

describe('a failed apply', () => {
  it('is recorded with the database error, and the next backup applies the policy first', async () => {
    h.sim.faults.addStatementFault({ kind: 'error', match: 'DATA_BACKUP_DEST', code: 9070, message: 'can not connect to backup destination', times: 1 });
    await h.setup();
    const state = await h.d.daemon.engine!.policyStates.get('p1');
    expect(state?.apply_state).toBe('failed');
    expect(state?.apply_error).toMatch(/cannot reach the backup destination \(OceanBase error 9070/);

    const before = h.statements.length;
    const res = await h.api('POST', '/v1/clusters/c1/backups', { type: 'full' });
    expect(res.status, res.text).toBe(202);
    const run = await h.waitRun(res.body.id, (r: Run) => !['pending', 'running'].includes(r.state), { stepMs: 2_000 });
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
    const writes = writesIn(h.statements.slice(before));
    expect(writes.findIndex((w) => /DATA_BACKUP_DEST/.test(w))).toBeLessThan(writes.findIndex((w) => /^ALTER SYSTEM BACKUP/.test(w)));
    expect((await h.d.daemon.engine!.policyStates.get('p1'))?.apply_state).toBe('applied');
  });
});
