/**
 * Work on a policy — applying it, or undoing a deleted one — across the daemons sharing one store.
 *
 * One daemon at a time: row `policy:<name>` of `leases` names the daemon doing the work. A daemon that
 * wants the work while another holds it bumps the row's epoch (a request) and leaves it; the holder, on
 * giving the work up, sees the epoch moved and goes again. So the last change made through any daemon is
 * what ends up on the cluster, and a deleted policy is undone once, by whichever daemon holds its work.
 * A row whose daemon is gone (no current presence row) is taken over.
 *
 *   const locks = new PolicyLocks(db, clock, holder, alive)
 *   await locks.take(policy)        // true: this daemon holds the work; false: another does and was asked to go again
 *   await locks.give(policy)        // false: asked again meanwhile (still held: go again, then give)
 *   await locks.drop(policy)        // gives the work up whatever was asked (a stopping daemon)
 *   await locks.heldElsewhere(policy)   // another present daemon holds it
 *   await locks.unattended()        // policies whose work nobody does: deleted ones not undone yet, applies left
 *                                   // pending or half-done, without a present holder
 *
 * PolicyWatch: the applies in flight on this daemon; while there are any, one query per interval (in
 * batches) compares their versions with the store and stops those whose policy was deleted or replaced.
 */
import type { Kysely } from 'kysely';
import { toIso, type Clock } from './clock.js';
import { insertLease } from '../scheduler/lease.js';
import type { Database } from '../store/schema.js';

const PREFIX = 'policy:';
const BATCH = 500;

export class PolicyLocks {
  /** policy → epoch of the row this daemon holds */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly holder: string,
    /** holder ids of the daemons present now */
    private readonly alive: () => Promise<Set<string>>,
  ) {}

  async take(policy: string): Promise<boolean> {
    const name = PREFIX + policy;
    for (let attempt = 0; attempt < 10; attempt++) {
      const row = await this.db.selectFrom('leases').select(['holder', 'epoch']).where('name', '=', name).executeTakeFirst();
      const now = toIso(this.clock.now());
      if (!row) {
        // held while its daemon is present: expires_at is not what counts
        if (!(await insertLease(this.db, { name, holder: this.holder, machine: null, pid: null, expires_at: now, epoch: 1, acquired_at: now, updated_at: now }))) continue;
        this.held.set(policy, 1);
        return true;
      }
      const epoch = Number(row.epoch);
      if (row.holder === this.holder) {
        this.held.set(policy, epoch);
        return true;
      }
      const gone = !(await this.alive()).has(row.holder);
      const result = await this.db
        .updateTable('leases')
        .set(gone ? { holder: this.holder, epoch: epoch + 1, acquired_at: now, updated_at: now } : { epoch: epoch + 1, updated_at: now })
        .where('name', '=', name)
        .where('epoch', '=', epoch)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) continue;
      if (!gone) return false;
      this.held.set(policy, epoch + 1);
      return true;
    }
    throw new Error(`policy ${policy}: could not settle which daemon works on it (the store row keeps changing)`);
  }

  async give(policy: string): Promise<boolean> {
    const epoch = this.held.get(policy);
    if (epoch === undefined) return true;
    const name = PREFIX + policy;
    const result = await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', this.holder).where('epoch', '=', epoch).executeTakeFirst();
    if (Number(result.numDeletedRows) > 0) {
      this.held.delete(policy);
      return true;
    }
    const row = await this.db.selectFrom('leases').select(['holder', 'epoch']).where('name', '=', name).executeTakeFirst();
    if (!row || row.holder !== this.holder) {
      // taken over meanwhile (this daemon was thought gone): the new holder does what was asked
      this.held.delete(policy);
      return true;
    }
    this.held.set(policy, Number(row.epoch));
    return false;
  }

  async drop(policy: string): Promise<void> {
    this.held.delete(policy);
    await this.db.deleteFrom('leases').where('name', '=', PREFIX + policy).where('holder', '=', this.holder).execute();
  }

  async heldElsewhere(policy: string): Promise<boolean> {
    const row = await this.db.selectFrom('leases').select('holder').where('name', '=', PREFIX + policy).executeTakeFirst();
    return row !== undefined && row.holder !== this.holder && (await this.alive()).has(row.holder);
  }

  /**
   * Policies whose work nobody does: a state row without its policy (deleted, not undone yet) or with an
   * apply pending or half-done, and no present daemon holding the work. Three queries whatever the count.
   */
  async unattended(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('policy_states as s')
      .leftJoin('policies as p', 'p.name', 's.policy')
      .select('s.policy')
      .where((eb) => eb.or([eb('p.name', 'is', null), eb('s.apply_state', 'in', ['pending', 'applying'])]))
      .execute();
    if (rows.length === 0) return [];
    const alive = await this.alive();
    const attended = new Set<string>();
    const names = rows.map((r) => PREFIX + r.policy);
    for (let i = 0; i < names.length; i += BATCH) {
      const locks = await this.db.selectFrom('leases').select(['name', 'holder']).where('name', 'in', names.slice(i, i + BATCH)).execute();
      for (const lock of locks) if (alive.has(lock.holder)) attended.add(lock.name.slice(PREFIX.length));
    }
    return rows.map((r) => r.policy).filter((p) => !attended.has(p));
  }
}

/** An apply to stop when the store no longer has its policy at `version`. */
export interface Watched {
  policy: string;
  version: number;
  stale(): void;
}

export class PolicyWatch {
  private readonly watched = new Set<Watched>();
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly intervalMs: number,
    /** runs the checking loop in the background; `sleep` counts as idle */
    private readonly spawn: (work: () => Promise<void>) => void,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Follows `w` until the returned function is called. */
  add(w: Watched): () => void {
    this.watched.add(w);
    if (!this.running) {
      this.running = true;
      this.spawn(() => this.loop());
    }
    return () => this.watched.delete(w);
  }

  /** The stored version of the policy, undefined when it no longer exists. */
  async version(policy: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('policies').select('version').where('name', '=', policy).executeTakeFirst();
    return row ? Number(row.version) : undefined;
  }

  private async loop(): Promise<void> {
    try {
      while (this.watched.size > 0) {
        await this.sleep(this.intervalMs);
        const list = [...this.watched];
        const names = [...new Set(list.map((w) => w.policy))];
        const versions = new Map<string, number>();
        try {
          for (let i = 0; i < names.length; i += BATCH) {
            const rows = await this.db.selectFrom('policies').select(['name', 'version']).where('name', 'in', names.slice(i, i + BATCH)).execute();
            for (const r of rows) versions.set(r.name, Number(r.version));
          }
        } catch {
          // the store did not answer: the applies go on; the next look tries again
          continue;
        }
        for (const w of list) if (this.watched.has(w) && versions.get(w.policy) !== w.version) w.stale();
      }
    } finally {
      this.running = false;
    }
  }
}
