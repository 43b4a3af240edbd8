/**
 * The replicas' link to Redis (distributed mode): two connections, one for commands and
 * publishing, one subscribed. ioredis (the maintained Node client: reconnects by itself, resubscribes
 * after a reconnect, runs Lua) is used rather than a hand-written RESP client.
 *
 * Commands fail at once while Redis is down (no offline queue): what needs Redis answers 503 then
 * (`RedisDownError`), never waits. Subscriptions are kept and made again when Redis is back; until
 * they are answered the link is not `listening` (a reply published to a replica that has not yet
 * subscribed again would be lost, and its caller would wait out the call's whole timeout).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { TartarusError } from '@tartarus/core';
import type { Logger } from '../context.js';

/** Redis cannot be reached: what needed it answers 503, with Retry-After. */
export class RedisDownError extends TartarusError {
  readonly retryAfterMs = 1000;
  constructor(what: string) {
    super('unavailable', `Redis cannot be reached, so ${what}; retry shortly`, { retryable: true });
  }
}

/** A message handler of one channel. */
type Handler = (message: string) => void;

/** The two connections, and whether Redis answers. */
export class RedisLink {
  readonly commands: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Handler>();
  private readonly readyFns: Array<() => void> = [];
  private readonly lostFns: Array<() => void> = [];
  private down = false;
  /** The subscriber connection has subscribed to every channel since it last connected. */
  private subscribed = false;

  constructor(
    readonly url: string,
    private readonly log: Logger,
  ) {
    const base = redisOptions(url);
    this.commands = new Redis({ ...base, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    // Subscriptions are made again here on each connect (not by ioredis), to know when they are answered.
    this.sub = new Redis({ ...base, enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: false });
    // One line per outage, not one per reconnect attempt.
    this.commands.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      this.log.warn({ err: err.message, redis: safeUrl(url) }, 'Redis cannot be reached: routing between replicas and shared rate limits are degraded until it is back');
    });
    this.commands.on('ready', () => {
      if (this.down) this.log.info({ redis: safeUrl(url) }, 'Redis is back');
      this.down = false;
      this.maybeListening();
    });
    this.sub.on('error', () => undefined);
    this.sub.on('message', (channel: string, message: string) => this.handlers.get(channel)?.(message));
    this.sub.on('ready', () => void this.resubscribe());
    this.sub.on('close', () => {
      if (!this.subscribed) return;
      this.subscribed = false;
      for (const fn of this.lostFns) fn();
    });
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.commands.status === 'ready';
  }

  /** Whether commands can be sent and every subscription is in place: what is published to this replica now reaches it. */
  get listening(): boolean {
    return this.ready && this.subscribed;
  }

  /** Calls `handler` with every message published on `channel` from when Redis answers (kept across reconnects; never waits for Redis). */
  subscribe(channel: string, handler: Handler): void {
    const fresh = !this.handlers.has(channel);
    this.handlers.set(channel, handler);
    if (fresh) this.subscribed = false;
    if (this.sub.status === 'ready') void this.resubscribe();
  }

  /** Subscribes the connection to every channel; `listening` once Redis has answered. */
  private async resubscribe(): Promise<void> {
    const channels = [...this.handlers.keys()];
    if (channels.length === 0) return;
    try {
      await this.sub.subscribe(...channels);
    } catch {
      return; // the connection dropped again: its next 'ready' tries again
    }
    // Closed meanwhile, or a channel added since: that one's own subscribe makes the link listening.
    if (this.sub.status !== 'ready' || [...this.handlers.keys()].some((c) => !channels.includes(c))) return;
    if (this.subscribed) return;
    this.subscribed = true;
    this.maybeListening();
  }

  private maybeListening(): void {
    if (this.listening) for (const fn of this.readyFns) fn();
  }

  /** Publishes `message` on `channel`: how many subscribers got it, or -1 when Redis is down (the message is dropped). */
  async publish(channel: string, message: string): Promise<number> {
    if (!this.ready) return -1;
    return this.commands.publish(channel, message).then(
      (n) => n,
      () => -1,
    );
  }

  /** Calls `fn` each time the link is `listening` again after it was not. */
  onListening(fn: () => void): void {
    this.readyFns.push(fn);
  }

  /** Calls `fn` each time the subscriber connection drops: what was published to this replica meanwhile is lost. */
  onDeaf(fn: () => void): void {
    this.lostFns.push(fn);
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    this.handlers.clear();
    this.readyFns.length = 0;
    this.lostFns.length = 0;
    this.commands.disconnect();
    this.sub.disconnect();
  }
}

/** ioredis options for `url`: `redis://[:password@]host[:port][/db]`, `rediss://…` (TLS), or `unix:///path/to/socket`. */
export function redisOptions(url: string): RedisOptions {
  const retryStrategy = (times: number): number => Math.min(100 * times, 1000);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TartarusError('invalid_argument', `--redis ${safeUrl(url)} is not a URL: give redis://host:port, rediss://host:port or unix:///path/to/socket`);
  }
  const auth = { ...(u.username ? { username: decodeURIComponent(u.username) } : {}), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
  if (u.protocol === 'unix:') return { path: u.pathname, retryStrategy, ...auth };
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TartarusError('invalid_argument', `--redis ${safeUrl(url)} has scheme ${u.protocol}: use redis://, rediss:// or unix://`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TartarusError('invalid_argument', `--redis ${safeUrl(url)}: the path must be a database number, as in redis://host:6379/0`);
  return { host: u.hostname, port: u.port ? Number(u.port) : 6379, db, retryStrategy, ...(u.protocol === 'rediss:' ? { tls: {} } : {}), ...auth };
}

/** `url` without its password, for logs and messages. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
