/**
 * `/v1/secrets`: the tenant's named secrets for its integrations, webhooks and deployments. Setting
 * or removing one is for admins; a value is stored sealed and never shown again, nor audited.
 */
import { PutSecretRequestSchema, SecretListSchema, SecretParamsSchema, SecretSchema, type Secret } from '@tartarus/core';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { iso } from '../http/convert.js';
import type { SecretInfo } from '../secrets/vault.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['secrets'];

function secretDto(s: SecretInfo): Secret {
  return { name: s.name, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) };
}

/** Registers the secret routes. */
export const secretRoutes: RouteModule = (app, { ctx }) => {
  app.get('/v1/secrets', {
    config: { access: 'viewer' },
    schema: { tags, summary: "List the tenant's secrets (names only, never a value)", response: { 200: SecretListSchema, ...errorResponses } },
    handler: async (req) => ({ items: (await ctx.secrets.list(principalOf(req).tenantId)).map(secretDto) }),
  });

  app.put('/v1/secrets/:name', {
    config: { access: 'admin', audit: 'secret.put' },
    schema: {
      tags,
      summary: 'Store (or replace) a secret; its value is encrypted at rest and never returned',
      params: SecretParamsSchema,
      body: PutSecretRequestSchema,
      response: { 200: SecretSchema, ...errorResponses },
    },
    handler: async (req) => {
      const s = await ctx.secrets.put(principalOf(req).tenantId, req.params.name, req.body.value);
      req.auditTarget = s.name;
      return secretDto(s);
    },
  });

  app.delete('/v1/secrets/:name', {
    config: { access: 'admin', audit: 'secret.delete' },
    schema: { tags, summary: 'Remove a secret', params: SecretParamsSchema, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await ctx.secrets.delete(principalOf(req).tenantId, req.params.name);
      req.auditTarget = req.params.name;
      return reply.code(204).send(null);
    },
  });
};
