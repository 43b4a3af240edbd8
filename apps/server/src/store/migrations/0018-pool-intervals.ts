/**
 * Migration 0018, pool intervals: per node and warm pool, each interval's creates that matched the
 * pool and those it served, and the forecast it was sized by (forecast-driven warm pools,
 * `pools/planner.ts`; `GET /v1/pools`).
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const poolIntervals: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pool_intervals')
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('pool_key', 'text', (c) => c.notNull())
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      /** The interval's length: counts of another length (the setting changed) are not mixed in. */
      .addColumn('interval_ms', 'integer', (c) => c.notNull())
      .addColumn('demand', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('hits', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('forecast_mean', 'double precision')
      .addColumn('forecast_low', 'double precision')
      .addColumn('forecast_high', 'double precision')
      .addColumn('size', 'integer')
      .addPrimaryKeyConstraint('pool_intervals_pk', ['node_id', 'pool_key', 'interval_ms', 'start_ms'])
      .execute();
  },
};
