/** `/v1/sandboxes`: create, list, get, kill, timeout, pause, resume. */
import {
  CreateSandboxRequestSchema,
  ListSandboxesQuerySchema,
  SandboxIdParamsSchema,
  SandboxPageSchema,
  SandboxSchema,
  SetSandboxEgressRequestSchema,
  SetSandboxTimeoutRequestSchema,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { sandboxDto } from '../http/convert.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['sandboxes'];

/** Registers the sandbox routes. */
export const sandboxRoutes: RouteModule = (app, { ctx, sandboxes }) => {
  app.post('/v1/sandboxes', {
    config: { access: 'member', audit: 'sandbox.create' },
    schema: {
      tags,
      summary: 'Create a sandbox; answers once it runs',
      body: CreateSandboxRequestSchema,
      response: { 201: SandboxSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const s = await sandboxes.create(principalOf(req).tenantId, req.body);
      req.auditTarget = s.id;
      return reply.code(201).send(s);
    },
  });

  app.get('/v1/sandboxes', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'List sandboxes, newest first',
      querystring: ListSandboxesQuerySchema,
      response: { 200: SandboxPageSchema, ...errorResponses },
    },
    handler: async (req) => {
      const { state, limit, cursor } = req.query;
      const page = await ctx.store.sandboxes.list(principalOf(req).tenantId, {
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(state === undefined ? {} : { state }),
      });
      return { items: page.items.map(sandboxDto), nextCursor: page.nextCursor };
    },
  });

  app.get('/v1/sandboxes/:id', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Get a sandbox',
      params: SandboxIdParamsSchema,
      response: { 200: SandboxSchema, ...errorResponses },
    },
    handler: async (req) =>
      sandboxDto(await ctx.store.sandboxes.get(principalOf(req).tenantId, req.params.id)),
  });

  app.delete('/v1/sandboxes/:id', {
    config: { access: 'member', audit: 'sandbox.kill' },
    schema: {
      tags,
      summary: 'Kill a sandbox',
      params: SandboxIdParamsSchema,
      response: { 200: SandboxSchema, ...errorResponses },
    },
    handler: async (req) => sandboxes.kill(principalOf(req).tenantId, req.params.id),
  });

  app.post('/v1/sandboxes/:id/timeout', {
    config: { access: 'member', audit: 'sandbox.timeout' },
    schema: {
      tags,
      summary: 'Set the timeout, counted from now',
      params: SandboxIdParamsSchema,
      body: SetSandboxTimeoutRequestSchema,
      response: { 200: SandboxSchema, ...errorResponses },
    },
    handler: async (req) =>
      sandboxes.extend(principalOf(req).tenantId, req.params.id, req.body.timeoutMs),
  });

  app.put('/v1/sandboxes/:id/egress', {
    config: { access: 'member', audit: 'sandbox.egress' },
    schema: {
      tags,
      summary: "Replace a running sandbox's egress policy (not one created with egress none)",
      params: SandboxIdParamsSchema,
      body: SetSandboxEgressRequestSchema,
      response: { 200: SandboxSchema, ...errorResponses },
    },
    handler: async (req) =>
      sandboxes.setEgress(principalOf(req).tenantId, req.params.id, req.body.egress),
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v1/sandboxes/:id/${action}`, {
      config: { access: 'member', audit: `sandbox.${action}` },
      schema: {
        tags,
        summary: `${action === 'pause' ? 'Freeze' : 'Thaw'} every process of the sandbox`,
        params: SandboxIdParamsSchema,
        response: { 200: SandboxSchema, ...errorResponses },
      },
      handler: async (req) => sandboxes.suspend(principalOf(req).tenantId, req.params.id, action),
    });
  }

  for (const action of ['hibernate', 'wake'] as const) {
    app.post(`/v1/sandboxes/:id/${action}`, {
      config: { access: 'member', audit: `sandbox.${action}` },
      schema: {
        tags,
        summary:
          action === 'hibernate'
            ? "Save the sandbox's memory and free it (microvm); the next exec, file call or proxied connection wakes it"
            : 'Start a hibernated sandbox again where it was',
        params: SandboxIdParamsSchema,
        response: { 200: SandboxSchema, ...errorResponses },
      },
      handler: async (req) => sandboxes.hibernation(principalOf(req).tenantId, req.params.id, action),
    });
  }
};
