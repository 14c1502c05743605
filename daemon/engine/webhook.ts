// Alarm events to an optional webhook: POST of JSON, retried with exponential backoff on network errors
// and 5xx/429 answers. Sending happens in the background, one event after the other in order of
// occurrence; evaluation only stores the events and never waits for the network.
import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import type { AlarmEvent } from './alarms.js';

export const WEBHOOK_ENV = 'OBBACKUP_WEBHOOK_URL';

export interface WebhookOptions {
  url: string;
  log: Logger;
  /** attempts per event, the first included (default 6) */
  attempts?: number;
  /** wait before the 2nd attempt; doubles each time (default 1 s, at most 5 min) */
  baseDelayMs?: number;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** events kept waiting at most; the oldest are dropped beyond it (default 1000) */
  maxQueue?: number;
}

/** The webhook URL with any user:password removed, fit for logs. */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

export function checkWebhookUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `the webhook URL must be http:// or https://, got ${u.protocol}`;
    return undefined;
  } catch {
    return 'the webhook URL is not a valid URL';
  }
}

/** What became of an event: delivered, refused (a 4xx), gave_up (attempts spent), dropped (queue full). */
type Outcome = 'delivered' | 'refused' | 'gave_up' | 'dropped';

/**
 * Alarm events go through the store (`webhook_outbox`) before they are sent: an event is written when
 * its alarm changes and marked once delivered or given up, so events a stopped or killed daemon had not
 * sent yet are sent when alarms are evaluated again, by it or by the daemon that took over. Delivery is
 * at least once: an event whose POST was under way when the daemon died is sent again.
 */
export class WebhookNotifier {
  private db: Kysely<Database> | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly wake = new Set<() => void>();
  private lastHousekeeping = 0;
  /** delivered / given up by this process, for metrics */
  delivered = 0;
  failed = 0;
  /** events waiting in the store, as last counted */
  pending = 0;

  constructor(private readonly options: WebhookOptions) {}

  /** The store that holds the events waiting (the operations engine attaches its own). */
  attach(db: Kysely<Database>): void {
    this.db = db;
  }

  private get store(): Kysely<Database> {
    if (!this.db) throw new Error('the alarm webhook has no store attached');
    return this.db;
  }

  /**
   * Stores the events, then makes sure a sender is at work; with no events it only starts sending what
   * is waiting (events a stopped daemon left). Resolves once the events are stored, not sent.
   */
  async enqueue(events: AlarmEvent[]): Promise<void> {
    if (this.closed) return;
    const now = new Date().toISOString();
    if (events.length > 0) {
      await this.store
        .insertInto('webhook_outbox')
        .values(events.map((e) => ({ body: JSON.stringify({ source: 'obbackupd', ...e }), alarm_id: e.alarm.id, event: e.event, created_at: now, attempts: 0, done_at: null, outcome: null, error: null })))
        .execute();
      await this.limitQueue(now);
    }
    await this.housekeeping();
    // one sender at a time; it keeps going until nothing waits, events added meanwhile included
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Resolves once everything waiting was delivered or given up (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /** Stops sending: what still waits stays in the store for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.wake) fn();
    await this.flush();
  }

  private async waiting(): Promise<number> {
    const row = await this.store.selectFrom('webhook_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('done_at', 'is', null).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Beyond maxQueue events waiting, the oldest are dropped (a webhook down for days must not grow the store). */
  private async limitQueue(now: string): Promise<void> {
    this.pending = await this.waiting();
    const excess = this.pending - (this.options.maxQueue ?? 1000);
    if (excess <= 0) return;
    const oldest = await this.store.selectFrom('webhook_outbox').select('id').where('done_at', 'is', null).orderBy('id').limit(excess).execute();
    await this.finish(oldest.map((r) => r.id), now, 'dropped', 'the queue of waiting events was full');
    this.failed += oldest.length;
    this.pending -= oldest.length;
    this.options.log.warn({ dropped: oldest.length }, 'alarm webhook queue full: dropped the oldest events');
  }

  /** Events delivered or given up more than a week ago are forgotten, at most once an hour. */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeeping < 3_600_000) return;
    this.lastHousekeeping = Date.now();
    await this.store.deleteFrom('webhook_outbox').where('done_at', '<', new Date(Date.now() - 7 * 86_400_000).toISOString()).execute();
  }

  private async finish(ids: number[], at: string, outcome: Outcome, error: string | null, attempts?: number): Promise<void> {
    if (ids.length === 0) return;
    await this.store
      .updateTable('webhook_outbox')
      .set({ done_at: at, outcome, error: error?.slice(0, 500) ?? null, ...(attempts === undefined ? {} : { attempts }) })
      .where('id', 'in', ids)
      .execute();
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      const row = await this.store.selectFrom('webhook_outbox').selectAll().where('done_at', 'is', null).orderBy('id').limit(1).executeTakeFirst();
      if (!row) {
        this.pending = 0;
        return;
      }
      const result = await this.deliver(row.body, row.alarm_id, row.event);
      if (result.outcome === 'interrupted') {
        // stopped while retrying: the event stays waiting for the next start
        await this.store.updateTable('webhook_outbox').set({ attempts: row.attempts + result.attempts, error: result.error }).where('id', '=', row.id).execute();
        return;
      }
      await this.finish([row.id], new Date().toISOString(), result.outcome, result.error, row.attempts + result.attempts);
      if (result.outcome === 'delivered') this.delivered += 1;
      else this.failed += 1;
      this.pending = await this.waiting();
    }
  }

  private async deliver(body: string, alarmId: number, event: string): Promise<{ outcome: Outcome | 'interrupted'; error: string | null; attempts: number }> {
    const attempts = this.options.attempts ?? 6;
    const base = this.options.baseDelayMs ?? 1000;
    const where = redactWebhookUrl(this.options.url);
    let problem: string | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.closed) return { outcome: 'interrupted', error: problem, attempts: attempt - 1 };
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'obbackupd' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return { outcome: 'delivered', error: null, attempts: attempt };
        problem = `HTTP ${response.status}`;
        // a 4xx other than 408/429 will not get better by asking again
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          this.options.log.warn({ webhook: where, alarm: alarmId }, `alarm webhook refused the ${event} event of alarm ${alarmId}: ${problem}`);
          return { outcome: 'refused', error: problem, attempts: attempt };
        }
      } catch (err) {
        problem = (err as Error).name === 'TimeoutError' ? 'no answer in time' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      }
      if (attempt === attempts) {
        this.options.log.warn({ webhook: where, alarm: alarmId }, `alarm webhook: gave up on the ${event} event of alarm ${alarmId} after ${attempts} attempts (${problem})`);
        return { outcome: 'gave_up', error: problem, attempts: attempt };
      }
      await this.pause(Math.min(base * 2 ** (attempt - 1), 300_000));
    }
    return { outcome: 'interrupted', error: problem, attempts };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake.add(done);
    });
  }
}
