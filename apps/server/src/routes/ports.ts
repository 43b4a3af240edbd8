/** `/v1/sandboxes/:id/urls/:port` and `/v1/sandboxes/:id/access-tokens`: how to reach a sandbox's ports through the proxy (proxy/). */
import {
  AccessTokenSchema,
  CreateAccessTokenRequestSchema,
  PortUrlSchema,
  SandboxIdParamsSchema,
  SandboxPortParamsSchema,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { portUrls } from '../proxy/routing.js';
import { DEFAULT_TOKEN_TTL_MS, type AccessTokens } from '../proxy/tokens.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['sandboxes'];

/** The base URL clients reach this server at, from the request (the Host they used). */
function baseOf(req: { protocol: string; headers: { host?: string | undefined } }): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/** Registers the port routes; `tokens` signs access tokens (shared with the proxy). */
export function portRoutes(tokens: AccessTokens): RouteModule {
  return (app, { ctx }) => {
    app.get('/v1/sandboxes/:id/urls/:port', {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: "The URLs of a sandbox's port through the proxy",
        params: SandboxPortParamsSchema,
        response: { 200: PortUrlSchema, ...errorResponses },
      },
      handler: async (req) => {
        const s = await ctx.store.sandboxes.get(principalOf(req).tenantId, req.params.id);
        return { sandboxId: s.id, port: req.params.port, ...portUrls(baseOf(req), ctx.config.proxyDomain, s.id, req.params.port), public: s.spec.public };
      },
    });

    app.post('/v1/sandboxes/:id/access-tokens', {
      config: { access: 'member', audit: 'sandbox.access_token' },
      schema: {
        tags,
        summary: "Mint a token that reaches this sandbox's ports through the proxy until it expires",
        params: SandboxIdParamsSchema,
        body: CreateAccessTokenRequestSchema,
        response: { 201: AccessTokenSchema, ...errorResponses },
      },
      handler: async (req, reply) => {
        const s = await ctx.store.sandboxes.get(principalOf(req).tenantId, req.params.id);
        const expiresAtMs = Date.now() + (req.body.ttlMs ?? DEFAULT_TOKEN_TTL_MS);
        return reply.code(201).send({ sandboxId: s.id, token: tokens.mint(s.id, expiresAtMs), expiresAt: new Date(expiresAtMs).toISOString() });
      },
    });
  };
}
