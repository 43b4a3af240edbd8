/**
 * Forecast-driven warm pools in the store: per node and pool, each interval's creates (those that
 * matched the pool, and those it served) and the forecast and size it was given. Counts are added
 * (an interval's counts may arrive in parts), a forecast is set once per interval.
 */
import type { StoreContext } from './context.js';

/** One stored interval of a pool. */
export interface PoolIntervalRow {
  startMs: number;
  demand: number;
  hits: number;
  forecast: { mean: number; low: number; high: number } | null;
  size: number | null;
}

/** One interval: its start (epoch ms) and length. */
export interface IntervalRef {
  startMs: number;
  intervalMs: number;
}

/** The pool intervals. */
export interface PoolIntervalStore {
  /** Adds creates to the pool's interval `at` (its start and length). */
  addCounts(nodeId: string, poolKey: string, at: IntervalRef, counts: { demand: number; hits: number }): Promise<void>;
  /** Records the forecast and the size the pool was given for interval `at`. */
  setForecast(nodeId: string, poolKey: string, at: IntervalRef, forecast: { mean: number; low: number; high: number }, size: number): Promise<void>;
  /** The pool's intervals of length `intervalMs` from `fromMs` (included), oldest first. */
  history(nodeId: string, poolKey: string, intervalMs: number, fromMs: number): Promise<PoolIntervalRow[]>;
  /** Deletes every interval that began before `beforeMs`; returns how many. */
  prune(beforeMs: number): Promise<number>;
}

/** Builds the pool-interval part of the store. */
export function createPoolIntervalStore(ctx: StoreContext): PoolIntervalStore {
  const { db } = ctx;
  const blank = { demand: 0, hits: 0, forecast_mean: null, forecast_low: null, forecast_high: null, size: null };
  return {
    async addCounts(nodeId, poolKey, at, { demand, hits }) {
      await db
        .insertInto('pool_intervals')
        .values({ ...blank, node_id: nodeId, pool_key: poolKey, start_ms: at.startMs, interval_ms: at.intervalMs, demand, hits })
        .onConflict((oc) =>
          oc.columns(['node_id', 'pool_key', 'interval_ms', 'start_ms']).doUpdateSet((eb) => ({
            demand: eb('pool_intervals.demand', '+', demand),
            hits: eb('pool_intervals.hits', '+', hits),
          })),
        )
        .execute();
    },
    async setForecast(nodeId, poolKey, at, f, size) {
      const set = { forecast_mean: f.mean, forecast_low: f.low, forecast_high: f.high, size };
      await db
        .insertInto('pool_intervals')
        .values({ ...blank, ...set, node_id: nodeId, pool_key: poolKey, start_ms: at.startMs, interval_ms: at.intervalMs })
        .onConflict((oc) => oc.columns(['node_id', 'pool_key', 'interval_ms', 'start_ms']).doUpdateSet(set))
        .execute();
    },
    async history(nodeId, poolKey, intervalMs, fromMs) {
      const rows = await db
        .selectFrom('pool_intervals')
        .selectAll()
        .where('node_id', '=', nodeId)
        .where('pool_key', '=', poolKey)
        .where('interval_ms', '=', intervalMs)
        .where('start_ms', '>=', fromMs)
        .orderBy('start_ms')
        .execute();
      return rows.map((r) => ({
        startMs: Number(r.start_ms),
        demand: Number(r.demand),
        hits: Number(r.hits),
        forecast:
          r.forecast_mean === null
            ? null
            : { mean: Number(r.forecast_mean), low: Number(r.forecast_low), high: Number(r.forecast_high) },
        size: r.size === null ? null : Number(r.size),
      }));
    },
    async prune(beforeMs) {
      const r = await db.deleteFrom('pool_intervals').where('start_ms', '<', beforeMs).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
