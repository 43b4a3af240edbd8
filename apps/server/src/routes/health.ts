/** `/healthz` (the process answers), `/readyz` (store reachable, an agent connected), `/metrics`, `/openapi.json`. */
import { TartarusError } from '@tartarus/core';
import { z } from 'zod';
import type { RouteModule } from './types.js';

/** Registers the operational routes (no key needed). */
export const healthRoutes: RouteModule = (app, { ctx, hub }) => {
  const hide = { hide: true } as const;
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { ...hide, response: { 200: z.object({ ok: z.boolean() }) } },
    },
    async () => ({ ok: true }),
  );

  app.get('/readyz', { config: { access: 'public' }, schema: hide }, async () => {
    await ctx.store.nodes.list();
    // A replica of several is ready once it reaches the store (agents may be connected to the
    // others, and connect through the load balancer only to a ready replica); one alone needs an agent.
    if (!(await hub.reachesAgents()) && !hub.clustered)
      throw new TartarusError('unavailable', 'no agent connected yet', { retryable: true });
    return { ok: true };
  });

  app.get('/metrics', { config: { access: 'public' }, schema: hide }, async (_req, reply) => {
    const { registry, more } = ctx.metrics;
    const texts = await Promise.all([registry, ...more].map((r) => r.metrics()));
    return reply.type(registry.contentType).send(texts.join('\n'));
  });

  app.get('/openapi.json', { config: { access: 'public' }, schema: hide }, async () =>
    app.swagger(),
  );
};
