/**
 * Clock — the one source of time for everything time-based in the daemon (scheduler, engine, alarms,
 * cleanup). Tests pass a ManualClock and move time by hand; production uses systemClock.
 *
 *   interface Clock {
 *     now(): Date;                                   // current time
 *     sleep(ms: number, signal?: AbortSignal): Promise<void>;
 *         // resolves once now() has moved `ms` forward (ManualClock: when advance()/set() reach it);
 *         // rejects with an AbortError when `signal` aborts. Callers re-read now() after waking.
 *   }
 *   systemClock: Clock                                // wall clock, real setTimeout
 *   new ManualClock(start: Date | number)            // frozen until told:
 *     .advance(ms): Promise<void>                     //   moves forward, wakes due sleepers in time order,
 *                                                     //   letting each one's continuation run before the next
 *     .set(at: Date | number): Promise<void>          //   jumps to an absolute time (never backwards)
 *     .pendingSleeps: number                          //   how many sleeps are waiting (tests wait for > 0)
 *     .onAdvance(fn: (now: Date) => void | Promise<void>)  // e.g. keep obsim's clock in step
 *     .setQuiesce(fn: () => Promise<void>)             // awaited after each wake-up (engine.settled)
 *   isoAt(clock) / toIso(date)                        // fixed-width ISO 8601 UTC text as stored
 */

export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortError(): Error {
  const err = new Error('the wait was aborted');
  err.name = 'AbortError';
  return err;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface Sleeper {
  wakeAt: number;
  seq: number;
  resolve: () => void;
}

/** Simulated time: stands still until a test advances it; sleeps wake in order of their wake time. */
export class ManualClock implements Clock {
  private nowMs: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private listeners: Array<(now: Date) => void | Promise<void>> = [];
  private quiesce: () => Promise<void> = settle;

  constructor(start: Date | number = Date.UTC(2025, 0, 1)) {
    this.nowMs = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  onAdvance(fn: (now: Date) => void | Promise<void>): void {
    this.listeners.push(fn);
  }

  /** What to wait for after waking a sleeper before time moves on (default: a few event-loop turns). */
  setQuiesce(fn: () => Promise<void>): void {
    this.quiesce = async () => {
      await settle();
      await fn();
    };
  }

  /** When the next sleeper wakes, if any. */
  get nextWakeAt(): Date | undefined {
    const next = this.nextSleeper(Number.POSITIVE_INFINITY);
    return next ? new Date(next.wakeAt) : undefined;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: this.nowMs + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms`, stopping at each sleeper's wake time so work happens at the right instant. */
  async advance(ms: number): Promise<void> {
    await this.set(this.nowMs + ms);
  }

  async set(at: Date | number): Promise<void> {
    const target = typeof at === 'number' ? at : at.getTime();
    if (target < this.nowMs) throw new Error('a ManualClock never goes backwards');
    for (;;) {
      const next = this.nextSleeper(target);
      if (!next) break;
      this.nowMs = Math.max(this.nowMs, next.wakeAt);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      await this.notify();
      next.resolve();
      await this.quiesce();
    }
    this.nowMs = target;
    await this.notify();
    await this.quiesce();
  }

  private nextSleeper(limit: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (s.wakeAt > limit) continue;
      if (!best || s.wakeAt < best.wakeAt || (s.wakeAt === best.wakeAt && s.seq < best.seq)) best = s;
    }
    return best;
  }

  private async notify(): Promise<void> {
    for (const fn of this.listeners) await fn(this.now());
  }
}

/** Lets promise continuations (and a few I/O callbacks) run before time moves on. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Fixed-width ISO 8601 UTC with milliseconds: text order is time order on both stores. */
export function toIso(at: Date | number): string {
  return new Date(at).toISOString();
}

export function isoAt(clock: Clock): string {
  return clock.now().toISOString();
}
