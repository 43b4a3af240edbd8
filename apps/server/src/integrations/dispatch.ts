/**
 * Plugins' event subscriptions (looked at every second): each plugin with `events` consumes the bus through a cursor of its
 * own in the store (`event_cursors`, consumer `plugin:<name>`), leased so that of several server
 * replicas one at a time delivers. Events go to the plugin one at a time, in bus order, only for
 * tenants that configured it; a handler that throws is retried with backoff before any later
 * event (at least once, in order). The cursor moves after each event handled, so a restart resumes
 * where the last server stopped. A new consumer starts at the bus's end (not its history).
 */
import { randomUUID } from 'node:crypto';
import type { Plugin, PluginHost } from '@tartarus/plugin-sdk';
import type { ServerContext } from '../context.js';
import { eventDto } from '../routes/events.js';
import { StoreOutageLog } from '../store/outage-log.js';

/** How long a replica holds a consumer's cursor without renewing it, ms. */
const LEASE_MS = 30_000;
/** Events read per pass. */
const BATCH = 100;
/** How often consumers look at the bus without being woken, ms. */
const POLL_MS = 1000;
/** Longest wait before a failed event is tried again, ms. */
const MAX_BACKOFF_MS = 30_000;

interface Consumer {
  plugin: Plugin<unknown>;
  host: PluginHost;
  failures: number;
  retryAt: number;
  running: boolean;
  /** Its cursor exists (made at the bus's end by the first pass, whether or not a tenant uses it yet). */
  cursorMade: boolean;
}

/** Delivers the bus to plugins. */
export class PluginDispatcher {
  private readonly owner = randomUUID();
  private readonly consumers: Consumer[];
  private timer: NodeJS.Timeout | undefined;
  private readonly wake = (): void => this.kick();
  private passes = new Set<Promise<void>>();
  private readonly outage: StoreOutageLog;

  constructor(
    private readonly ctx: ServerContext,
    plugins: readonly Plugin<unknown>[],
    hosts: Map<string, PluginHost>,
  ) {
    this.outage = new StoreOutageLog(ctx.log, 'plugin events');
    this.consumers = plugins
      .filter((p) => p.events !== undefined)
      .map((plugin) => ({ plugin, host: hosts.get(plugin.name) as PluginHost, failures: 0, retryAt: 0, running: false, cursorMade: false }));
  }

  /**
   * Starts consuming: now and every second. Not on every event this server numbers: that would
   * put a cursor transaction on the run path of every run (a second of delay is fine for a
   * commit status or a Slack message).
   */
  start(): void {
    if (this.consumers.length === 0) return;
    this.timer = setInterval(this.wake, POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops; waits for passes in flight and lets go of the cursors. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.passes);
    for (const c of this.consumers) await this.ctx.store.integrations.releaseCursor(consumerId(c), this.owner).catch(() => undefined);
  }

  private kick(): void {
    const now = Date.now();
    for (const c of this.consumers) {
      if (c.running || now < c.retryAt) continue;
      c.running = true;
      const pass = this.pass(c)
        .then(
          () => this.outage.succeeded(),
          (err: unknown) => {
            if (!this.outage.failed(err)) this.ctx.log.warn({ err, plugin: c.plugin.name }, 'plugin event pass failed');
          },
        )
        .finally(() => {
          c.running = false;
          this.passes.delete(pass);
        });
      this.passes.add(pass);
    }
  }

  /** Delivers the events after the cursor, until none is left or one fails. */
  private async pass(c: Consumer): Promise<void> {
    const { store } = this.ctx;
    const id = consumerId(c);
    // No tenant uses the plugin: nothing to deliver (a read, not a cursor transaction, each second).
    if (c.cursorMade && (await store.integrations.tenantsWith(c.plugin.name)).length === 0) return;
    const start = await store.integrations.claimCursor(id, this.owner, LEASE_MS, await store.events.lastSeq());
    c.cursorMade = true;
    if (start === null) return; // another replica delivers
    let after = start;
    const configured = new Map<string, boolean>();
    for (;;) {
      const events = await store.events.list({ after, types: c.plugin.events?.types, limit: BATCH });
      for (const e of events) {
        if (!configured.has(e.tenantId)) configured.set(e.tenantId, (await store.integrations.getConfig(e.tenantId, c.plugin.name)) !== null);
        if (configured.get(e.tenantId) === true && !(await this.deliver(c, e))) return;
        after = e.seq;
        if (!(await store.integrations.advanceCursor(id, this.owner, after, LEASE_MS))) return;
      }
      if (events.length < BATCH) return;
    }
  }

  /** Hands one event to the plugin; false (and a backoff) when it threw. */
  private async deliver(c: Consumer, e: Parameters<typeof eventDto>[0]): Promise<boolean> {
    try {
      await c.plugin.events?.handle(eventDto(e), c.host);
      c.failures = 0;
      return true;
    } catch (err) {
      c.failures++;
      const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (c.failures - 1));
      c.retryAt = Date.now() + wait;
      this.ctx.log.warn({ err, plugin: c.plugin.name, event: e.seq, type: e.type, retryInMs: wait }, 'plugin event handler failed; retrying');
      return false;
    }
  }
}

function consumerId(c: Consumer): string {
  return `plugin:${c.plugin.name}`;
}
