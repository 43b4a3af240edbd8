/**
 * The webhook dispatcher of one server process: claims due subscriptions from the store
 * (`store.webhookQueue`, leased to this process so replicas never deliver one at once) and
 * delivers each one's events in bus order, one attempt at a time, recording each attempt in the
 * transaction that moves its cursor. Woken when this server numbers new events (`ctx.bus`
 * `events`), when a retry falls due, and every second (events and retries of other replicas).
 *
 * Stopping aborts the attempts in flight (their results are not recorded: the deliveries stay
 * pending and are attempted again, with the same delivery id, after the next start) and gives the
 * leases back, so the next start or another replica continues at once.
 */
import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../context.js';
import { StoreOutageLog } from '../store/outage-log.js';
import type { RetryPolicy } from '../store/webhook-queue.js';
import { attemptDelivery, eventBody } from './deliver.js';

/** Subscriptions delivered at once by one server process. */
const WORKERS = 8;
/** How often the dispatcher looks for due subscriptions regardless of news, ms. */
const POLL_MS = 1000;
/**
 * Delay between news of events and the look it causes, ms: a change writes its events in bursts
 * (a create two or three), so one look follows a burst, after the request that wrote them is answered.
 */
const NEWS_DELAY_MS = 20;
/** Events one subscription delivers per claim before others get their turn. */
const EVENTS_PER_CLAIM = 100;

/** The dispatcher loop of one server. */
export class WebhookDispatcher {
  /** This process's name on the leases it takes. */
  readonly owner = `dispatcher-${randomUUID()}`;
  private readonly workers = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  private passing: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private newsTimer: NodeJS.Timeout | undefined;
  private readonly onEvents = () => {
    if (this.newsTimer !== undefined) return;
    this.newsTimer = setTimeout(() => {
      this.newsTimer = undefined;
      this.kick();
    }, NEWS_DELAY_MS);
    this.newsTimer.unref();
  };
  private readonly outage: StoreOutageLog;

  constructor(private readonly ctx: ServerContext) {
    this.outage = new StoreOutageLog(ctx.log, 'webhook dispatcher');
  }

  private get policy(): RetryPolicy {
    const c = this.ctx.config;
    return { retryBaseMs: c.webhookRetryBaseMs, retryMaxMs: c.webhookRetryMaxMs, disableAfterMs: c.webhookDisableAfterMs };
  }

  /** A lease outlives an attempt (`webhookTimeoutMs`) and the writes around it. */
  private get leaseMs(): number {
    return 2 * this.ctx.config.webhookTimeoutMs + 5000;
  }

  /** Starts delivering: now, on news, when a retry falls due, and every second. */
  start(): void {
    this.ctx.bus.on('events', this.onEvents);
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops: aborts attempts in flight, waits for the workers, which give their leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ctx.bus.off('events', this.onEvents);
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.newsTimer);
    this.abort.abort();
    await this.passing;
    await Promise.all([...this.workers]);
  }

  /** Looks for due subscriptions now, or right after the look in flight. */
  kick(): void {
    if (this.stopped) return;
    if (this.passing !== undefined) {
      this.again = true;
      return;
    }
    this.passing = this.pass().finally(() => (this.passing = undefined));
  }

  private async pass(): Promise<void> {
    do {
      this.again = false;
      let ids: string[];
      try {
        ids = await this.ctx.store.webhookQueue.claim(this.owner, this.leaseMs, WORKERS - this.workers.size);
        this.outage.succeeded();
      } catch (err) {
        // The store is away (PostgreSQL restarting): the next poll tries again.
        if (!this.outage.failed(err)) this.ctx.log.warn({ err }, 'webhook claim failed');
        return;
      }
      for (const id of ids) {
        const w: Promise<void> = this.deliver(id).finally(() => {
          this.workers.delete(w);
          this.kick();
        });
        this.workers.add(w);
      }
    } while (this.again && !this.stopped);
  }

  /** Delivers subscription `id`'s due events in order until none is due, an attempt fails, or its turn ends. */
  private async deliver(id: string): Promise<void> {
    const queue = this.ctx.store.webhookQueue;
    try {
      for (let n = 0; n < EVENTS_PER_CLAIM && !this.stopped; n++) {
        const due = await queue.head(id, this.owner, this.leaseMs);
        if (due === null || due === 'lost') return;
        const r = await attemptDelivery(this.ctx, due.webhook, due.delivery, eventBody(due.event), this.abort.signal);
        if (this.stopped) return;
        const recorded = await queue.record(id, this.owner, due.delivery.id, r, this.policy);
        if (recorded.outcome === 'succeeded') continue;
        if (recorded.outcome === 'retrying') this.wakeAt(recorded.nextAttemptAt);
        if (recorded.outcome === 'disabled') this.ctx.log.warn({ webhookId: id, tenantId: due.webhook.tenantId, reason: recorded.reason }, 'webhook disabled');
        return;
      }
    } catch (err) {
      // Unrecorded, the delivery stays pending and is attempted again (same id) once its lease ends.
      if (!this.outage.failed(err)) this.ctx.log.error({ err, webhookId: id }, 'webhook delivery failed');
    } finally {
      await queue.release(id, this.owner).catch(() => undefined);
    }
  }

  /** Kicks at `at` (epoch ms) unless an earlier wake-up is set. */
  private wakeAt(at: number): void {
    if (at >= this.retryAt && this.retryTimer !== undefined) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      this.kick();
    }, Math.max(0, at - Date.now()));
    this.retryTimer.unref();
  }
}
