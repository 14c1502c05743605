/**
 * The scheduling lease: several daemons may share one store (MySQL, or one SQLite file); one of them
 * schedules. Row `scheduler` of `leases` names the holder and until when it holds; the holder renews it
 * every renewMs, and another daemon takes it once it has expired — at once when the holder released it
 * (a clean stop) or is a process of this same machine that no longer exists (killed, then restarted).
 * Every daemon also keeps a presence row (`daemon:<holder>`), so the scheduling one can tell which run
 * owners are gone and take their runs over.
 *
 *   const lease = new SchedulingLease({ db, clock, tasks, log }, { ttlMs: 30_000, renewMs: 10_000 })
 *   lease.holder                               // this daemon's id: "host pid 1234 a1b2c3"
 *   await lease.start({ elected(term), tick() })
 *       // first attempt at once; then a TaskGroup task renews (or tries again) every renewMs.
 *       // elected(term): this daemon now schedules until `term` aborts (the lease was lost);
 *       // tick(): each renewal while holding (take over runs of daemons that are gone)
 *   lease.leading                              // holds the lease now
 *   await lease.alive()                        // holder ids of daemons whose presence row is current
 *   await lease.release()                      // clean stop: gives the lease and the presence row up
 *   insertLease(db, row)                       // a new leases row, false when the name is taken (also policy-work.ts, runs.ts)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { Kysely } from 'kysely';
import { toIso, type Clock } from '../engine/clock.js';
import { describe, isAbort, messageOf, type TaskGroup } from '../engine/tasks.js';
import type { Logger } from '../log.js';
import { classifyStoreError } from '../store/errors.js';
import type { Database, LeaseRow } from '../store/schema.js';

export interface LeaseOptions {
  /** how long a hold lasts without renewal (default 30 s) */
  ttlMs?: number;
  /** how often the holder renews and the others try (default ttlMs / 3) */
  renewMs?: number;
}

export interface LeaseDeps {
  db: Kysely<Database>;
  clock: Clock;
  tasks: TaskGroup;
  log: Logger;
}

export interface LeaseHooks {
  elected(term: AbortSignal): Promise<void>;
  tick(): Promise<void>;
}

const SCHEDULER = 'scheduler';
const PRESENCE = 'daemon:';

/**
 * Where this process runs: boot id and pid namespace (Linux). Two processes with the same value see the
 * same pids, so one can tell whether the other still exists. null elsewhere: expiry only.
 */
function machineId(): string | null {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNs = fs.readlinkSync('/proc/self/ns/pid');
    return `${boot} ${pidNs}`.slice(0, 128);
  } catch {
    return null;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Inserts a row of `leases`; false when a row of that name exists already (another holder got there first). */
export async function insertLease(db: Kysely<Database>, row: LeaseRow): Promise<boolean> {
  try {
    await db.insertInto('leases').values(row).execute();
    return true;
  } catch (err) {
    if (classifyStoreError(err) !== 'unique') throw err;
    return false;
  }
}

export class SchedulingLease {
  readonly holder: string;
  private readonly machine = machineId();
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private term: AbortController | null = null;
  /** when this daemon's hold runs out by its own clock (it steps down then if it cannot renew) */
  private heldUntil = 0;
  private prunedAt = 0;

  constructor(
    private readonly deps: LeaseDeps,
    options: LeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.renewMs = options.renewMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.holder = `${os.hostname().slice(0, 64)} pid ${process.pid} ${randomBytes(4).toString('hex')}`;
  }

  get leading(): boolean {
    return this.term !== null;
  }

  async start(hooks: LeaseHooks): Promise<void> {
    await this.round(hooks);
    void this.deps.tasks.spawn('scheduling lease', async (signal) => {
      for (;;) {
        await this.deps.tasks.sleep(this.renewMs, signal);
        await this.round(hooks);
      }
    });
  }

  /** One renewal (or attempt) and, while holding, the tick. */
  private async round(hooks: LeaseHooks): Promise<void> {
    const { log, clock } = this.deps;
    try {
      await this.hold(PRESENCE + this.holder);
      if (this.term) {
        if (await this.renew(SCHEDULER)) await hooks.tick();
        else this.stepDown('another daemon holds the scheduling lease now');
      } else if (await this.hold(SCHEDULER)) {
        const term = new AbortController();
        this.term = term;
        log.info({ holder: this.holder }, 'this daemon holds the scheduling lease: it schedules runs and follows those in flight');
        try {
          await hooks.elected(term.signal);
        } catch (err) {
          // still the holder: the next round starts over
          if (!isAbort(err)) this.stepDown(`starting to schedule failed: ${messageOf(err)}`);
          throw err;
        }
      }
      await this.prunePresence();
    } catch (err) {
      if (isAbort(err)) throw err;
      log.warn({ err: describe(err) }, `scheduling lease: ${messageOf(err)}`);
      if (this.term && clock.now().getTime() >= this.heldUntil) this.stepDown('the scheduling lease could not be renewed before it ran out');
    }
  }

  private stepDown(why: string): void {
    this.deps.log.warn({ holder: this.holder }, `this daemon stops scheduling: ${why}`);
    this.term?.abort();
    this.term = null;
  }

  /** Takes `name` when free, expired, ours, or held by a process of this machine that is gone. */
  private async hold(name: string): Promise<boolean> {
    if (await this.renew(name, true)) return true;
    const { db, clock } = this.deps;
    const row = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) {
      const now = clock.now();
      const inserted = await insertLease(db, { name, holder: this.holder, machine: this.machine, pid: process.pid, expires_at: this.expiry(now), epoch: 1, acquired_at: toIso(now), updated_at: toIso(now) });
      if (inserted) this.heldUntil = now.getTime() + this.ttlMs;
      return inserted;
    }
    if (!this.isGone(row)) return false;
    // the holder is gone: take over, unless someone else did meanwhile (the epoch moved)
    const now = clock.now();
    const result = await db
      .updateTable('leases')
      .set({ holder: this.holder, machine: this.machine, pid: process.pid, expires_at: this.expiry(now), epoch: Number(row.epoch) + 1, acquired_at: toIso(now), updated_at: toIso(now) })
      .where('name', '=', name)
      .where('epoch', '=', row.epoch)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    this.heldUntil = now.getTime() + this.ttlMs;
    return true;
  }

  /** Extends our hold on `name` (or, with `orExpired`, takes it when it has expired). */
  private async renew(name: string, orExpired = false): Promise<boolean> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const result = await db
      .updateTable('leases')
      .set((eb) => ({
        holder: this.holder,
        machine: this.machine,
        pid: process.pid,
        expires_at: this.expiry(now),
        epoch: eb('epoch', '+', 1),
        updated_at: toIso(now),
      }))
      .where('name', '=', name)
      .where((eb) => (orExpired ? eb.or([eb('holder', '=', this.holder), eb('expires_at', '<', toIso(now))]) : eb('holder', '=', this.holder)))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    this.heldUntil = now.getTime() + this.ttlMs;
    return true;
  }

  private expiry(now: Date): string {
    return toIso(now.getTime() + this.ttlMs);
  }

  /** Expired, or held by a process of this machine that no longer exists. */
  private isGone(row: LeaseRow): boolean {
    if (row.expires_at < toIso(this.deps.clock.now())) return true;
    return row.machine !== null && row.machine === this.machine && row.pid !== null && Number(row.pid) !== process.pid && !processExists(Number(row.pid));
  }

  /** Presence rows of daemons gone for a day are of no use any more. */
  private async prunePresence(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    if (!this.term || now - this.prunedAt < 3_600_000) return;
    this.prunedAt = now;
    const limit = toIso(now - 86_400_000);
    await this.deps.db.deleteFrom('leases').where('name', 'like', `${PRESENCE}%`).where('expires_at', '<', limit).execute();
  }

  /** Holder ids of the daemons present now (this one included). */
  async alive(): Promise<Set<string>> {
    const rows = await this.deps.db.selectFrom('leases').selectAll().where('name', 'like', `${PRESENCE}%`).execute();
    return new Set(rows.filter((r) => !this.isGone(r)).map((r) => r.name.slice(PRESENCE.length)));
  }

  /** Gives the lease and the presence row up (a clean stop): another daemon takes over at its next try. */
  async release(): Promise<void> {
    this.term?.abort();
    this.term = null;
    await this.deps.db
      .deleteFrom('leases')
      .where('name', 'in', [SCHEDULER, PRESENCE + this.holder])
      .where('holder', '=', this.holder)
      .execute();
  }
}
