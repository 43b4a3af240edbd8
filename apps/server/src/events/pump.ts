/**
 * The event bus's moving part in a server: the sequencer loop. After every local transaction that
 * wrote events commits (the store calls back), and every second for events other replicas wrote,
 * it numbers the committed events (`store.events.sequence`) and then wakes this process's readers
 * (SSE streams, webhook deliveries, plugins) with `ctx.bus` event `events`. Readers on other
 * replicas find the numbers on their next look (they also look every second).
 */
import type { ServerContext } from '../context.js';
import { StoreOutageLog } from '../store/outage-log.js';

/** Events numbered per sequencer transaction. */
const BATCH = 500;
/** How often the sequencer looks for events of other replicas, ms. */
const POLL_MS = 1000;

/** The sequencer loop of one server. */
export class EventPump {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** A local transaction wrote events since the last pass (on SQLite they are numbered already). */
  private news = false;
  private readonly outage: StoreOutageLog;

  constructor(private readonly ctx: ServerContext) {
    this.outage = new StoreOutageLog(ctx.log, 'event sequencer');
  }

  /** Starts numbering: now, after each local commit that wrote events, and every second. */
  start(): void {
    this.unsubscribe = this.ctx.store.events.onAppended(() => {
      this.news = true;
      this.kick();
    });
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops the loop; resolves once a pass in flight ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  /** Runs a pass now, or right after the one in flight. */
  kick(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      let n = 0;
      try {
        n = await this.ctx.store.events.sequence(BATCH);
        this.outage.succeeded();
      } catch (err) {
        // The store is away (PostgreSQL restarting): the next poll tries again.
        if (!this.outage.failed(err)) this.ctx.log.warn({ err }, 'event sequencer failed');
        return;
      }
      if (n > 0 || this.news) {
        this.news = false;
        this.ctx.bus.emit('events');
      }
      if (n === BATCH) this.again = true;
    } while (this.again);
  }
}
