/**
 * TaskGroup: the engine's background work (scheduler loop, running backups, applies). Every task sleeps
 * through `sleep()` here, so the group knows when all its work is only waiting on the clock — tests with
 * a ManualClock call `settled()` before moving time on, and the daemon's stop() aborts every sleep.
 *
 *   tasks.spawn(name, fn: (signal) => Promise<void>)   // runs fn in the background; errors are logged
 *   tasks.sleep(ms, signal?)                           // a clock sleep that counts as idle
 *   tasks.settled(timeoutMs?)                          // resolves when every task sleeps or is done
 *   tasks.stop()                                       // aborts sleeps, waits for tasks to end
 */
import type { Logger } from '../log.js';
import type { Clock } from './clock.js';

export class TaskGroup {
  private readonly running = new Set<Promise<void>>();
  private sleeping = 0;
  private readonly controller = new AbortController();

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  get size(): number {
    return this.running.size;
  }

  spawn(name: string, fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const task = (async () => {
      try {
        await fn(this.controller.signal);
      } catch (err) {
        if (!isAbort(err)) this.log.error({ err: describe(err), task: name }, `background task ${name} failed`);
      }
    })();
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
    return task;
  }

  /** Sleeps on the clock; aborted (AbortError) when the group stops or `signal` aborts. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    // Not AbortSignal.any(): on Node 20 every combined signal stays referenced by its sources until they
    // abort, so a loop sleeping on a long-lived signal leaks (and slows down) without end.
    let combined = this.controller.signal;
    let detach = () => {};
    if (signal) {
      const both = new AbortController();
      const abort = () => both.abort();
      if (signal.aborted || this.controller.signal.aborted) both.abort();
      signal.addEventListener('abort', abort, { once: true });
      this.controller.signal.addEventListener('abort', abort, { once: true });
      detach = () => {
        signal.removeEventListener('abort', abort);
        this.controller.signal.removeEventListener('abort', abort);
      };
      combined = both.signal;
    }
    this.sleeping++;
    try {
      await this.clock.sleep(ms, combined);
    } finally {
      this.sleeping--;
      detach();
    }
  }

  /** Resolves once every task is asleep or finished (polls in real time; for tests on simulated time). */
  async settled(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let calm = 0;
    // Two calm looks in a row: a task between two awaits is not mistaken for asleep.
    while (calm < 3) {
      if (this.running.size <= this.sleeping) calm++;
      else calm = 0;
      if (Date.now() > deadline) throw new Error(`engine tasks did not settle within ${timeoutMs} ms (${this.running.size} running, ${this.sleeping} asleep)`);
      await new Promise((r) => setTimeout(r, calm > 0 ? 1 : 2));
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled([...this.running]);
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** An error for a log line: message and kind, never a stack or a statement with secrets. */
export function describe(err: unknown): Record<string, unknown> {
  if (err && typeof err === 'object' && 'toJSON' in err && typeof (err as { toJSON: unknown }).toJSON === 'function') {
    return (err as { toJSON(): Record<string, unknown> }).toJSON();
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
