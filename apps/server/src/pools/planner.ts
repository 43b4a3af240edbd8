/**
 * Forecast-driven warm pools: at the start of every interval (`poolIntervalMs`, aligned to the
 * clock) the planner takes each local agent's pool counts for the interval that ended and stores
 * them, then, for each pool with `autoscale`, fits the create-rate forecast (forecast.ts) to the
 * pool's stored intervals, sizes the pool to the top of the 90 % prediction interval (within its
 * range) and records the forecast with the interval it is for. A pool with less than two seasons
 * of counts keeps its size. Each server replica plans the pools of the agents connected to it.
 *
 * The report (`GET /v1/pools`) is read here too: the agents' pools now, with each one's stored
 * intervals, the live counts of the interval under way, and how well the forecasts did.
 */
import { TartarusError, type AgentPoolStats, type Pool, type PoolInterval, type PoolList } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { IntervalRef, PoolIntervalRow } from '../store/pool-intervals.js';
import { HoltWinters, type Forecast } from './forecast.js';

/** Seasons of counts a forecast is fitted to, and kept. */
const HISTORY_SEASONS = 7;
/** Longest an agent's answer is waited for, ms. */
const CALL_TIMEOUT_MS = 10_000;

/** The size a forecast gives a pool: the top of its interval, rounded up, within the pool's range. */
export function sizeFor(forecast: Forecast, range: { min: number; max: number }): number {
  return Math.min(range.max, Math.max(range.min, Math.ceil(forecast.high - 1e-9)));
}

/** Each interval's creates from `fromMs` to `toMs` (excluded), zero where none were stored. */
export function denseCounts(rows: readonly PoolIntervalRow[], fromMs: number, toMs: number, intervalMs: number): number[] {
  const byStart = new Map(rows.map((r) => [r.startMs, r.demand]));
  const out: number[] = [];
  for (let t = fromMs; t < toMs; t += intervalMs) out.push(byStart.get(t) ?? 0);
  return out;
}

/** See the file header. */
export class PoolPlanner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  private get intervalMs(): number {
    return this.ctx.config.poolIntervalMs;
  }

  private get season(): number {
    return this.ctx.config.poolSeasonIntervals;
  }

  /** Plans at every interval's start from now on. */
  start(): void {
    this.stopped = false;
    this.arm();
  }

  /** Stops planning; waits for a plan under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    const now = Date.now();
    const next = (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
    this.timer = setTimeout(() => {
      this.running = this.tick(next).finally(() => {
        this.running = undefined;
        this.arm();
      });
    }, next - now);
    this.timer.unref();
  }

  /** One interval's planning, for the interval that starts at `startMs`. */
  async tick(startMs: number): Promise<void> {
    const ended = { startMs: startMs - this.intervalMs, intervalMs: this.intervalMs };
    // Every node's counts first, together: a create is booked to the interval it came in, give or take a call.
    const taken = await Promise.all(
      this.hub.list().map(async (conn) => {
        try {
          return { nodeId: conn.nodeId, pools: (await conn.call('poolStats', { take: true }, { timeoutMs: CALL_TIMEOUT_MS })).pools };
        } catch (err) {
          this.ctx.log.warn({ nodeId: conn.nodeId, err: (err as Error).message }, 'warm pool counts not taken');
          return { nodeId: conn.nodeId, pools: [] };
        }
      }),
    );
    for (const { nodeId, pools } of taken) {
      for (const pool of pools) {
        await this.planPool(nodeId, pool, ended).catch((err: Error) => this.ctx.log.warn({ nodeId, pool: pool.key, err: err.message }, 'warm pool not planned'));
      }
    }
    await this.ctx.store.poolIntervals.prune(startMs - (HISTORY_SEASONS + 1) * this.season * this.intervalMs);
  }

  private async planPool(nodeId: string, pool: AgentPoolStats, ended: IntervalRef): Promise<void> {
    const { store } = this.ctx;
    if (pool.demand > 0 || pool.hits > 0) await store.poolIntervals.addCounts(nodeId, pool.key, ended, pool);
    if (!pool.autoscale) return;
    const next = { startMs: ended.startMs + this.intervalMs, intervalMs: this.intervalMs };
    const forecast = await this.forecast(nodeId, pool.key, next.startMs);
    if (!forecast) return;
    const size = sizeFor(forecast, pool.autoscale);
    await store.poolIntervals.setForecast(nodeId, pool.key, next, forecast, size);
    if (size !== pool.size) {
      await this.hub.call(nodeId, 'setPoolSize', { key: pool.key, size }, { timeoutMs: CALL_TIMEOUT_MS });
      this.ctx.log.info({ nodeId, pool: pool.key, size, forecast }, 'warm pool resized');
    }
  }

  /** The forecast of the pool's creates in the interval starting at `startMs`; undefined below two seasons of counts. */
  private async forecast(nodeId: string, key: string, startMs: number): Promise<Forecast | undefined> {
    const from = startMs - HISTORY_SEASONS * this.season * this.intervalMs;
    const rows = (await this.ctx.store.poolIntervals.history(nodeId, key, this.intervalMs, from)).filter((r) => r.startMs < startMs);
    const first = rows[0];
    if (!first) return undefined;
    const counts = denseCounts(rows, first.startMs, startMs, this.intervalMs);
    if (counts.length < 2 * this.season) return undefined;
    return HoltWinters.fit(counts, this.season).forecast();
  }

  /**
   * `GET /v1/pools`: every up node's pools (asked together), with the last `intervals` intervals
   * of each. Right after an interval's start, until the planner has taken the counts, the
   * interval under way shows the creates of the one before it.
   */
  async report(intervals: number): Promise<PoolList> {
    const startMs = Math.floor(Date.now() / this.intervalMs) * this.intervalMs;
    const nodes = await this.ctx.store.nodes.list({ status: 'up' });
    const answers = await Promise.all(
      nodes.map(async (node) => {
        try {
          return { nodeId: node.id, pools: (await this.hub.call(node.id, 'poolStats', { take: false }, { timeoutMs: CALL_TIMEOUT_MS })).pools };
        } catch (err) {
          if (!(err instanceof TartarusError)) throw err;
          return { nodeId: node.id, pools: undefined };
        }
      }),
    );
    const items: Pool[] = [];
    for (const { nodeId, pools } of answers) for (const pool of pools ?? []) items.push(await this.poolReport(nodeId, pool, startMs, intervals));
    const unreachable = answers.filter((a) => a.pools === undefined).map((a) => a.nodeId);
    return { items, intervalMs: this.intervalMs, seasonIntervals: this.season, unreachable };
  }

  private async poolReport(nodeId: string, pool: AgentPoolStats, startMs: number, intervals: number): Promise<Pool> {
    const rows = await this.ctx.store.poolIntervals.history(nodeId, pool.key, this.intervalMs, 0);
    const ended = rows.filter((r) => r.startMs < startMs);
    const now = rows.find((r) => r.startMs === startMs);
    const forecasted = ended.filter((r) => r.forecast !== null);
    const within = forecasted.filter((r) => r.forecast !== null && r.demand >= r.forecast.low && r.demand <= r.forecast.high).length;
    const demand = ended.reduce((n, r) => n + r.demand, 0);
    const hits = ended.reduce((n, r) => n + r.hits, 0);
    // The last `intervals` intervals, those without a stored row (no create, no forecast) as zero.
    const byStart = new Map(ended.map((r) => [r.startMs, r]));
    const history: PoolIntervalRow[] = [];
    for (let i = 1; i <= intervals; i++) {
      const at = startMs - i * this.intervalMs;
      history.push(byStart.get(at) ?? { startMs: at, demand: 0, hits: 0, forecast: null, size: null });
    }
    const { demand: liveDemand, hits: liveHits, autoscale, ...rest } = pool;
    return {
      ...rest,
      nodeId,
      autoscale: autoscale ?? null,
      current: interval({ startMs, demand: (now?.demand ?? 0) + liveDemand, hits: (now?.hits ?? 0) + liveHits, forecast: now?.forecast ?? null, size: now?.size ?? null }),
      history: history.map(interval),
      coverage: forecasted.length === 0 ? null : within / forecasted.length,
      forecastIntervals: forecasted.length,
      hitRate: demand === 0 ? null : hits / demand,
    };
  }
}

function interval(r: PoolIntervalRow): PoolInterval {
  return { startAt: new Date(r.startMs).toISOString(), demand: r.demand, hits: r.hits, forecast: r.forecast, size: r.size };
}
