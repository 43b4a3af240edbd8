/**
 * What the parts of a running server share, passed as one constructor argument (no DI
 * container): the resolved config, the store, the agent hub, the event bus, metrics, a logger.
 */
import type { SecretVault } from './secrets/vault.js';
import { EventEmitter } from 'node:events';
import type { ServerConfig } from './config.js';
import type { ServerMetrics } from './http/metrics.js';
import type { RequestLimiter } from './http/rate-limit.js';
import type { LogShipper } from './logs/shipper.js';
import type { Store } from './store/index.js';

/** Minimal structured logger (fastify's pino instance fits). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (tests, quiet embedded mode). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * In-process notifications: `run:<id>` when a run's logs or state changed, `sandbox:<id>` when a
 * sandbox's state changed, `schedule` when work or capacity appeared. Listeners re-read the store:
 * the event says "look again", it never carries the truth.
 */
export class EventBus extends EventEmitter {
  /** Where events go to the other server replicas too (distributed mode: cluster/bus-relay.ts). */
  private relay: ((event: string, args: unknown[]) => void) | undefined;

  constructor() {
    super();
    // Many log followers may wait on one run.
    this.setMaxListeners(0);
  }

  /** Sends every event emitted here on to `relay` as well (undefined: this process only). */
  relayTo(relay: ((event: string, args: unknown[]) => void) | undefined): void {
    this.relay = relay;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const heard = super.emit(event, ...args);
    if (this.relay !== undefined && typeof event === 'string') this.relay(event, args);
    return heard;
  }

  /** Emits an event that came from another replica (not relayed again). */
  received(event: string, args: unknown[]): void {
    super.emit(event, ...args);
  }
  /** Announces that run `id` changed. */
  run(id: string): void {
    this.emit(`run:${id}`);
  }
  /** Announces that sandbox `id` changed. */
  sandbox(id: string): void {
    this.emit(`sandbox:${id}`);
  }
  /** Wakes the scheduler. */
  schedule(): void {
    this.emit('schedule');
  }
  /** Announces that a node was cordoned, drained or opened again (the scheduler reads them again, the deployments look). */
  nodes(): void {
    this.emit('nodes');
  }
  /** Resolves when `event` is emitted, after `timeoutMs`, or when `signal` aborts, whichever is first. */
  waitFor(event: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.watch(event, timeoutMs, signal).changed;
  }

  /**
   * Starts listening for `event` now: `changed` resolves as `waitFor` does, `cancel()` stops
   * early. Listen before reading the store, then wait: an event emitted while the read was in
   * flight is not missed (which would cost the full timeout).
   */
  watch(event: string, timeoutMs: number, signal?: AbortSignal): { changed: Promise<void>; cancel(): void } {
    let done!: () => void;
    const changed = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(t);
        this.off(event, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
    });
    const t = setTimeout(done, timeoutMs);
    this.on(event, done);
    signal?.addEventListener('abort', done);
    return { changed, cancel: done };
  }
}

/** Shared parts of one server instance. */
export interface ServerContext {
  config: ServerConfig;
  store: Store;
  bus: EventBus;
  metrics: ServerMetrics;
  log: Logger;
  /** Where run output, sandbox lines and the log go besides the store and stderr: Loki, or nowhere (`logs/`). */
  logShipper: LogShipper;
  /** Tenants' secrets (`secrets/vault.ts`). */
  secrets: SecretVault;
  /** The API's per-key rate limit when it is not this process's own (distributed mode: shared through Redis). */
  limiter?: RequestLimiter;
}
