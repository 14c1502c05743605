/**
 * PolicyStates: per policy, when its schedule took effect (the scheduler's reference for "missed") and how
 * far applying it to the cluster got. Table `policy_states` (migrations/0003_engine_state.ts).
 *
 *   states.ensure(policy, cluster, schedule): Promise<Date>   // effective_from; reset when the schedule changes
 *   states.get(policy) / states.all()
 *   states.setApply(policy, patch)                           // apply_state: pending|applying|applied|failed|refused
 *   states.remove(policy)
 */
import type { Kysely } from 'kysely';
import type { Schedule } from '../../model/index.js';
import { classifyStoreError } from '../store/errors.js';
import type { Database, PolicyStateRow } from '../store/schema.js';
import type { AppliedConfig } from './apply.js';
import { toIso, type Clock } from './clock.js';

export type ApplyState = 'pending' | 'applying' | 'applied' | 'failed' | 'refused';

export interface PolicyState {
  policy: string;
  cluster: string;
  effective_from: string;
  schedule_key: string;
  apply_state: ApplyState;
  apply_error: string | null;
  applied_version: number | null;
  applied: AppliedConfig | null;
  applied_at: string | null;
  updated_at: string;
}

function fromRow(r: PolicyStateRow): PolicyState {
  return {
    policy: r.policy,
    cluster: r.cluster,
    effective_from: r.effective_from,
    schedule_key: r.schedule_key,
    apply_state: r.apply_state as ApplyState,
    apply_error: r.apply_error,
    applied_version: r.applied_version === null ? null : Number(r.applied_version),
    applied: r.applied ? (JSON.parse(r.applied) as AppliedConfig) : null,
    applied_at: r.applied_at,
    updated_at: r.updated_at,
  };
}

function newRow(policy: string, cluster: string, key: string, now: string): PolicyStateRow {
  return {
    policy,
    cluster,
    effective_from: now,
    schedule_key: key,
    apply_state: 'pending',
    apply_error: null,
    applied_version: null,
    applied: null,
    applied_at: null,
    updated_at: now,
  };
}

export const scheduleKey = (s: Schedule) => JSON.stringify([s.period, s.time, s.timezone, [...s.days].sort((a, b) => a.day - b.day)]);

export class PolicyStates {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** The time the policy's current schedule took effect: now for a new policy or a changed schedule. */
  async ensure(policy: string, cluster: string, schedule: Schedule): Promise<Date> {
    const key = scheduleKey(schedule);
    const now = toIso(this.clock.now());
    const row = await this.db.selectFrom('policy_states').selectAll().where('policy', '=', policy).executeTakeFirst();
    if (row) {
      if (row.schedule_key === key && row.cluster === cluster) return new Date(row.effective_from);
      await this.db
        .updateTable('policy_states')
        .set({ schedule_key: key, cluster, effective_from: now, updated_at: now })
        .where('policy', '=', policy)
        .execute();
      return new Date(now);
    }
    try {
      await this.db.insertInto('policy_states').values(newRow(policy, cluster, key, now)).execute();
      return new Date(now);
    } catch (err) {
      if (classifyStoreError(err) !== 'unique') throw err;
      return this.ensure(policy, cluster, schedule);
    }
  }

  /**
   * ensure() for many policies at once (start-up with thousands): one read, inserts in batches; returns
   * each policy's effective_from.
   */
  async ensureMany(items: Array<{ policy: string; cluster: string; schedule: Schedule }>): Promise<Map<string, Date>> {
    const known = new Map((await this.all()).map((s) => [s.policy, s]));
    const now = toIso(this.clock.now());
    const out = new Map<string, Date>();
    const missing: PolicyStateRow[] = [];
    for (const item of items) {
      const state = known.get(item.policy);
      const key = scheduleKey(item.schedule);
      if (state && state.schedule_key === key && state.cluster === item.cluster) {
        out.set(item.policy, new Date(state.effective_from));
      } else if (state) {
        out.set(item.policy, await this.ensure(item.policy, item.cluster, item.schedule));
      } else {
        missing.push(newRow(item.policy, item.cluster, key, now));
        out.set(item.policy, new Date(now));
      }
    }
    for (let i = 0; i < missing.length; i += 200) {
      const batch = missing.slice(i, i + 200);
      try {
        await this.db.insertInto('policy_states').values(batch).execute();
      } catch (err) {
        if (classifyStoreError(err) !== 'unique') throw err;
        // another writer got there first: fall back to one at a time
        for (const row of batch) out.set(row.policy, await this.ensure(row.policy, row.cluster, items.find((x) => x.policy === row.policy)!.schedule));
      }
    }
    return out;
  }

  async get(policy: string): Promise<PolicyState | undefined> {
    const row = await this.db.selectFrom('policy_states').selectAll().where('policy', '=', policy).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async all(): Promise<PolicyState[]> {
    return (await this.db.selectFrom('policy_states').selectAll().execute()).map(fromRow);
  }

  async setApply(
    policy: string,
    patch: { state: ApplyState; error?: string | null; version?: number; applied?: AppliedConfig | null },
  ): Promise<void> {
    const now = toIso(this.clock.now());
    const set: Partial<PolicyStateRow> = { apply_state: patch.state, updated_at: now };
    if (patch.error !== undefined) set.apply_error = patch.error;
    if (patch.version !== undefined) set.applied_version = patch.version;
    if (patch.applied !== undefined) set.applied = patch.applied === null ? null : JSON.stringify(patch.applied);
    if (patch.state === 'applied') set.applied_at = now;
    await this.db.updateTable('policy_states').set(set).where('policy', '=', policy).execute();
  }

  async remove(policy: string): Promise<void> {
    await this.db.deleteFrom('policy_states').where('policy', '=', policy).execute();
  }
}
