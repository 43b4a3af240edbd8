/**
 * Warm pools as nodes keep them and the control plane sizes them: what an agent reports of its
 * pools (`poolStats`), and `GET /v1/pools` — each pool's size, the forecast of its creates for
 * the interval under way with the 90 % prediction interval, and the actual creates of the
 * intervals before it.
 */
import { z } from 'zod';
import { EgressSchema } from '../network.js';
import { TimestampSchema } from './common.js';

/** The range a forecast-driven pool is sized in. */
export const PoolAutoscaleSchema = z.object({ min: z.number().int().min(0), max: z.number().int().min(0) });

/** One pool as its agent reports it (the `poolStats` call). */
export const AgentPoolStatsSchema = z.object({
  /** Runtime, template, limits and network: what a create must match to be served. */
  key: z.string(),
  template: z.string(),
  runtime: z.string(),
  network: z.boolean(),
  egress: EgressSchema.optional(),
  /** Sandboxes it keeps booted now. */
  size: z.number().int(),
  idle: z.number().int(),
  booting: z.number().int(),
  lastError: z.string().optional(),
  autoscale: PoolAutoscaleSchema.optional(),
  /** Creates that matched it since the counts were last taken, and those it served. */
  demand: z.number().int(),
  hits: z.number().int(),
});
/** One pool as its agent reports it. */
export type AgentPoolStats = z.infer<typeof AgentPoolStatsSchema>;

/** A forecast of one interval's creates: the expected count and its 90 % prediction interval. */
export const PoolForecastSchema = z.object({ mean: z.number(), low: z.number(), high: z.number() }).meta({ id: 'PoolForecast' });

/** One interval of a pool: its creates, those the pool served, and the forecast made for it (null: none was made). */
export const PoolIntervalSchema = z
  .object({
    startAt: TimestampSchema,
    demand: z.number().int(),
    hits: z.number().int(),
    forecast: PoolForecastSchema.nullable(),
    /** The size the pool was given for it; null when it was not resized. */
    size: z.number().int().nullable(),
  })
  .meta({ id: 'PoolInterval' });
/** One interval of a pool. */
export type PoolInterval = z.infer<typeof PoolIntervalSchema>;

/** One warm pool of one node. */
export const PoolSchema = AgentPoolStatsSchema.omit({ demand: true, hits: true })
  .extend({
    nodeId: z.string(),
    /** Null for a pool of a fixed size. */
    autoscale: PoolAutoscaleSchema.nullable(),
    /** The interval under way: creates so far and the forecast it was sized by. */
    current: PoolIntervalSchema,
    /** Earlier intervals, newest first (`?intervals=N`, default 12). */
    history: z.array(PoolIntervalSchema),
    /** Over the stored intervals that had a forecast: the share whose creates fell in its interval, and their count. */
    coverage: z.number().nullable(),
    forecastIntervals: z.number().int(),
    /** Over the stored intervals: the share of creates the pool served; null without creates. */
    hitRate: z.number().nullable(),
  })
  .meta({ id: 'Pool' });
/** One warm pool of one node. */
export type Pool = z.infer<typeof PoolSchema>;

/** GET /v1/pools response; `unreachable` lists nodes that are up but did not answer. */
export const PoolListSchema = z
  .object({ items: z.array(PoolSchema), intervalMs: z.number().int(), seasonIntervals: z.number().int(), unreachable: z.array(z.string()) })
  .meta({ id: 'PoolList' });
/** GET /v1/pools response. */
export type PoolList = z.infer<typeof PoolListSchema>;

/** GET /v1/pools query. */
export const PoolListQuerySchema = z.strictObject({
  intervals: z.coerce.number().int().min(0).max(2016).default(12),
});
