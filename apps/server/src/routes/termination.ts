/** `POST /v1/sandboxes/:id/terminate` (now or after a delay, with a grace and a reason) and `DELETE …/terminate` (cancel). */
import { SandboxIdParamsSchema, SandboxSchema, TerminateSandboxRequestSchema } from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { Terminations } from '../services/termination.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['sandboxes'];

/** Registers the termination routes. */
export const terminationRoutes: RouteModule = (app, { ctx, hub }) => {
  const terminations = new Terminations(ctx, hub);
  app.post('/v1/sandboxes/:id/terminate', {
    config: { access: 'member', audit: 'sandbox.terminate' },
    schema: {
      tags,
      summary:
        'End a sandbox now or after delayMs: SIGTERM to its workload, SIGKILL graceMs later; the reason goes in its exit. 202 while a delayed one is pending',
      params: SandboxIdParamsSchema,
      body: TerminateSandboxRequestSchema,
      response: { 200: SandboxSchema, 202: SandboxSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { sandbox, pending } = await terminations.terminate(principalOf(req).tenantId, req.params.id, req.body);
      return reply.code(pending ? 202 : 200).send(sandbox);
    },
  });

  app.delete('/v1/sandboxes/:id/terminate', {
    config: { access: 'member', audit: 'sandbox.terminate.cancel' },
    schema: {
      tags,
      summary: "Cancel a sandbox's pending termination (409 when none is pending)",
      params: SandboxIdParamsSchema,
      response: { 200: SandboxSchema, ...errorResponses },
    },
    handler: (req) => terminations.cancel(principalOf(req).tenantId, req.params.id),
  });
};
