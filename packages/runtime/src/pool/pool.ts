/**
 * Warm pools: per template, runtime and limits, a configured number of sandboxes created and
 * booted ahead of need (their init and agent run; no process yet), kept topped up in the
 * background, and handed out by `Runtime.createSandbox` when a caller's template, runtime and
 * limits match a pool. The caller's spec (process, env, user, cwd, timeout, output handling) is
 * given to the sandbox then (`SandboxHandle.assign`). Limits are part of the key because the
 * writable layer's size is fixed at boot; a caller whose limits match no pool gets a cold start.
 *
 * A pooled sandbox is used once: handed out, it leaves the pool, which boots a replacement;
 * nothing is ever returned to it. Idle pool sandboxes are the pool's alone: `Runtime.list()`
 * does not report them (an agent never offers them to its server), and after a crash of the
 * process they are ordinary orphans, removed by the next `cleanupOrphans`.
 */
import type { Egress } from '@tartarus/core';
import type { ResourceLimits, RuntimeName, SandboxHandle, SandboxSpec } from '../driver.js';

/** One pool: `size` booted sandboxes of `template` on `runtime` with `limits` (default limits when unset). */
export interface PoolConfig {
  template: string;
  runtime: RuntimeName;
  /** Sandboxes kept booted. */
  size: number;
  limits?: Partial<ResourceLimits> | undefined;
  /** Whether its sandboxes have a network (the caller's egress is applied when one is handed out). Default false. */
  network?: boolean | undefined;
  /**
   * The egress a networked pool's sandboxes boot with (default `none`: they reach nothing while
   * idle; only their init runs). A caller asking for this same policy is handed one without a
   * change of rules; any other policy replaces it before a process of the caller's runs.
   */
  egress?: Egress | undefined;
  /**
   * Set when the pool is forecast-driven: its control plane resizes it (`WarmPools.resize`)
   * between `min` and `max` from the forecast of its creates; `size` is where it starts.
   */
  autoscale?: { min: number; max: number } | undefined;
}

/** Makes and boots one sandbox of a pool (the Runtime's cold path plus `boot()`); `own` gets its id once created. */
export type PoolFactory = (config: PoolConfig, own: (id: string) => void) => Promise<SandboxHandle>;

/** Delay before a failed top-up is tried again, ms. */
const RETRY_MS = 5000;
/**
 * Delay between handing a sandbox out and booting its replacement, ms. A boot is work on the
 * caller's path if it starts at once: its files, its namespace and its runtime process are made
 * in this process (a spawn blocks it for milliseconds) and its container boots on the same CPUs
 * while the caller's first command starts. After this delay the handed-out sandbox is the
 * caller's and its first command is usually running.
 */
const REFILL_AFTER_TAKE_MS = 100;

/** The pool key of a resolved spec: what cannot change after boot. */
export function poolKey(runtime: RuntimeName, template: string, limits: ResourceLimits, network: boolean): string {
  return [runtime, template, limits.cpu, limits.memoryMiB, limits.pids, limits.diskMiB, network ? 'net' : 'lo'].join('/');
}

interface Pool {
  config: PoolConfig;
  idle: SandboxHandle[];
  booting: number;
  retry?: NodeJS.Timeout | undefined;
  /** The top-up after a hand-out, pending. */
  refill?: NodeJS.Timeout | undefined;
  lastError?: string | undefined;
  /** Creates that matched the pool, and those it served, since the counts were last taken. */
  demand: number;
  hits: number;
}

/** What `stats()` reports per pool. */
export interface PoolStats {
  key: string;
  template: string;
  runtime: RuntimeName;
  size: number;
  idle: number;
  booting: number;
  lastError?: string | undefined;
  config: PoolConfig;
  /** Creates that matched the pool since the counts were last taken (`stats({ take: true })`), and those it served. */
  demand: number;
  hits: number;
}

/** See the file header. */
export class WarmPools {
  private readonly pools = new Map<string, Pool>();
  /** Ids of sandboxes still booting for a pool. */
  private readonly booting = new Set<string>();
  /** Ids of sandboxes taken but not yet claimed by their caller (see `handedOver`). */
  private readonly handing = new Set<string>();
  private running = false;
  /** Destroys of sandboxes the pools dropped, pending (`stop` waits for them). */
  private readonly retiring = new Set<Promise<void>>();

  /** `make` creates and boots one sandbox of a pool. */
  constructor(private readonly make: PoolFactory) {}

  /** Replaces the pools (each with its `poolKey`; one no longer configured is drained) and starts topping them up. */
  async configure(configs: { key: string; config: PoolConfig }[]): Promise<void> {
    const wanted = new Map(configs.map((c) => [c.key, c.config]));
    for (const [key, pool] of this.pools) {
      if (wanted.has(key)) continue;
      this.pools.delete(key);
      clearTimeout(pool.retry);
      clearTimeout(pool.refill);
      await Promise.all(pool.idle.splice(0).map((h) => h.destroy().catch(() => undefined)));
    }
    for (const [key, config] of wanted) {
      const pool = this.pools.get(key);
      if (pool) pool.config = config;
      else this.pools.set(key, { config, idle: [], booting: 0, demand: 0, hits: 0 });
    }
    this.running = true;
    for (const pool of this.pools.values()) this.topUp(pool);
  }

  /**
   * Sets how many sandboxes pool `key` keeps: idle ones past it are destroyed, missing ones boot
   * in the background. Undefined when no such pool is configured.
   */
  resize(key: string, size: number): PoolStats | undefined {
    const pool = this.pools.get(key);
    if (!pool) return undefined;
    pool.config = { ...pool.config, size };
    for (const h of pool.idle.splice(size)) this.retire(h);
    this.topUp(pool);
    return this.statsOf(key, pool);
  }

  /** Whether a pool with `key` is configured. */
  has(key: string): boolean {
    return this.pools.has(key);
  }

  /** Takes a booted sandbox of pool `key` for `spec` (given to it), or undefined when none is ready. */
  async take(key: string, spec: SandboxSpec, options: { idleMain?: boolean } = {}): Promise<SandboxHandle | undefined> {
    const pool = this.pools.get(key);
    if (!pool) return undefined;
    const h = await this.handOut(pool, spec, options);
    // A create is counted once its answer is known, its hit with it: counts taken meanwhile never split the two.
    pool.demand++;
    if (h) pool.hits++;
    return h;
  }

  private async handOut(pool: Pool, spec: SandboxSpec, options: { idleMain?: boolean }): Promise<SandboxHandle | undefined> {
    for (let h = pool.idle.shift(); h; h = pool.idle.shift()) {
      if (!h.assign || h.state() !== 'created') {
        this.refillSoon(pool);
        this.retire(h);
        continue;
      }
      try {
        await h.assign(spec, options);
        // Still the pool's (unlisted) until the Runtime has recorded whose it is.
        this.handing.add(h.id);
        return h;
      } catch {
        // It died while idle: try the next one.
        this.retire(h);
      } finally {
        // The replacement boots once this one is handed out and started: its boot does not slow them.
        this.refillSoon(pool);
      }
    }
    return undefined;
  }

  /** Host ids of the idle sandboxes. */
  idleIds(): Set<string> {
    return new Set([...this.pools.values()].flatMap((p) => p.idle.map((h) => h.id)));
  }

  /** Host ids of every sandbox the pools hold, booting, idle or being handed out (not reported by `Runtime.list()`). */
  ownedIds(): Set<string> {
    return new Set([...this.idleIds(), ...this.booting, ...this.handing]);
  }

  /** A taken sandbox is its caller's now (its claim is written, or it needs none). */
  handedOver(id: string): void {
    this.handing.delete(id);
  }

  /** Each pool's state and counts; `take` starts the counts again from zero (whoever takes them keeps them). */
  stats(options: { take?: boolean } = {}): PoolStats[] {
    return [...this.pools].map(([key, p]) => {
      const s = this.statsOf(key, p);
      if (options.take) p.demand = p.hits = 0;
      return s;
    });
  }

  private statsOf(key: string, p: Pool): PoolStats {
    return {
      key,
      template: p.config.template,
      runtime: p.config.runtime,
      size: p.config.size,
      idle: p.idle.length,
      booting: p.booting,
      ...(p.lastError ? { lastError: p.lastError } : {}),
      config: p.config,
      demand: p.demand,
      hits: p.hits,
    };
  }

  /** Stops topping up and destroys every idle sandbox. */
  async stop(): Promise<void> {
    this.running = false;
    const all = [...this.pools.values()].flatMap((p) => {
      clearTimeout(p.retry);
      clearTimeout(p.refill);
      return p.idle.splice(0);
    });
    this.pools.clear();
    await Promise.all([...all.map((h) => h.destroy().catch(() => undefined)), ...this.retiring]);
  }

  private retire(h: SandboxHandle): void {
    const p = h.destroy().catch(() => undefined);
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
  }

  private refillSoon(pool: Pool): void {
    if (pool.refill) return;
    pool.refill = setTimeout(() => {
      pool.refill = undefined;
      // Not for a pool replaced or removed meanwhile.
      if ([...this.pools.values()].includes(pool)) this.topUp(pool);
    }, REFILL_AFTER_TAKE_MS);
    pool.refill.unref();
  }

  // Boots what the pool lacks, one at a time per pool (a boot competes with real work for CPU).
  private topUp(pool: Pool): void {
    if (!this.running || pool.booting > 0 || pool.retry || pool.idle.length >= pool.config.size) return;
    pool.booting++;
    let id: string | undefined;
    this.make(pool.config, (created) => {
      id = created;
      this.booting.add(created);
    }).then(
      (h) => {
        pool.booting--;
        if (id) this.booting.delete(id);
        pool.lastError = undefined;
        // Not for a pool replaced or removed meanwhile, nor past a size made smaller while it booted.
        if (!this.running || this.pools.get(keyOfPool(this.pools, pool)) !== pool || pool.idle.length >= pool.config.size) return this.retire(h);
        pool.idle.push(h);
        this.topUp(pool);
      },
      (err: Error) => {
        pool.booting--;
        if (id) this.booting.delete(id);
        pool.lastError = err.message;
        pool.retry = setTimeout(() => {
          pool.retry = undefined;
          this.topUp(pool);
        }, RETRY_MS);
        pool.retry.unref();
      },
    );
  }
}

function keyOfPool(pools: Map<string, Pool>, pool: Pool): string {
  for (const [k, p] of pools) if (p === pool) return k;
  return '';
}
