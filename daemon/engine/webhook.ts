// Alarm events to an optional webhook: POST of JSON, retried with exponential backoff on network errors
// and 5xx/429 answers. Sending happens in the background, one event after the other in order of
// occurrence; evaluation only enqueues and never waits for the network.
import type { Logger } from '../log.js';
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

export class WebhookNotifier {
  private readonly queue: AlarmEvent[] = [];
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly wake = new Set<() => void>();
  /** delivered / given up, for metrics */
  delivered = 0;
  failed = 0;

  constructor(private readonly options: WebhookOptions) {}

  get pending(): number {
    return this.queue.length;
  }

  enqueue(events: AlarmEvent[]): void {
    if (this.closed || events.length === 0) return;
    this.queue.push(...events);
    const max = this.options.maxQueue ?? 1000;
    if (this.queue.length > max) {
      const dropped = this.queue.splice(0, this.queue.length - max);
      this.failed += dropped.length;
      this.options.log.warn({ dropped: dropped.length }, 'alarm webhook queue full: dropped the oldest events');
    }
    // one sender at a time; it keeps going until the queue is empty, events added meanwhile included
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Resolves once everything queued was delivered or given up (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /** Stops retrying: what is still queued is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.wake) fn();
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const event = this.queue[0]!;
      const ok = await this.deliver(event);
      this.queue.shift();
      if (ok) this.delivered += 1;
      else this.failed += 1;
    }
  }

  private async deliver(event: AlarmEvent): Promise<boolean> {
    const attempts = this.options.attempts ?? 6;
    const base = this.options.baseDelayMs ?? 1000;
    const where = redactWebhookUrl(this.options.url);
    const body = JSON.stringify({ source: 'obbackupd', ...event });
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      let problem: string;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'obbackupd' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return true;
        problem = `HTTP ${response.status}`;
        // a 4xx other than 408/429 will not get better by asking again
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          this.options.log.warn({ webhook: where, alarm: event.alarm.id }, `alarm webhook refused the ${event.event} event of alarm ${event.alarm.id}: ${problem}`);
          return false;
        }
      } catch (err) {
        problem = (err as Error).name === 'TimeoutError' ? 'no answer in time' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      }
      if (attempt === attempts) {
        this.options.log.warn({ webhook: where, alarm: event.alarm.id }, `alarm webhook: gave up on the ${event.event} event of alarm ${event.alarm.id} after ${attempts} attempts (${problem})`);
        return false;
      }
      await this.pause(Math.min(base * 2 ** (attempt - 1), 300_000));
    }
    return false;
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
