/** `GET /v1/pools`: the nodes' warm pools, their forecasts and their actual creates (pools/planner.ts). */
import { PoolListQuerySchema, PoolListSchema } from '@tartarus/core';
import type { PoolPlanner } from '../pools/planner.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

/** Registers the pool routes. */
export function poolRoutes(planner: PoolPlanner): RouteModule {
  return (app) => {
    app.get('/v1/pools', {
      config: { access: 'system' },
      schema: {
        tags: ['nodes'],
        summary: "The nodes' warm pools: size, the forecast of the interval under way and the creates of the intervals before it",
        querystring: PoolListQuerySchema,
        response: { 200: PoolListSchema, ...errorResponses },
      },
      handler: (req) => planner.report(req.query.intervals),
    });
  };
}
