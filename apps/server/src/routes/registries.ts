/**
 * `/v1/registries`: the tenant's logins to private registries, used for its templates' pulls and
 * builds and for starting work on them. Setting or removing one is for admins (it is a secret of
 * the whole tenant); the password is stored and never shown again, nor written to the audit log.
 */
import {
  PutRegistryCredentialsRequestSchema,
  RegistryCredentialListSchema,
  RegistryCredentialSchema,
  RegistryParamsSchema,
  type RegistryCredential as RegistryCredentialDto,
} from '@tartarus/core';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { iso } from '../http/convert.js';
import type { RegistryCredential } from '../store/index.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['registries'];

function credentialDto(c: RegistryCredential): RegistryCredentialDto {
  return {
    registry: c.registry,
    username: c.username,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** Registers the registry-credential routes. */
export const registryRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  app.get('/v1/registries', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'List the registries the tenant stored credentials for (never a password)',
      response: { 200: RegistryCredentialListSchema, ...errorResponses },
    },
    handler: async (req) => ({
      items: (await store.registryCredentials.list(principalOf(req).tenantId)).map(credentialDto),
    }),
  });

  app.put('/v1/registries/:registry/credentials', {
    config: { access: 'admin', audit: 'registry.login' },
    schema: {
      tags,
      summary: 'Store (or replace) the credentials for a registry',
      params: RegistryParamsSchema,
      body: PutRegistryCredentialsRequestSchema,
      response: { 200: RegistryCredentialSchema, ...errorResponses },
    },
    handler: async (req) => {
      const c = await store.registryCredentials.put(
        principalOf(req).tenantId,
        req.params.registry,
        req.body,
      );
      req.auditTarget = c.registry;
      return credentialDto(c);
    },
  });

  app.delete('/v1/registries/:registry/credentials', {
    config: { access: 'admin', audit: 'registry.logout' },
    schema: {
      tags,
      summary: 'Remove the credentials for a registry',
      params: RegistryParamsSchema,
      response: { 204: z.null(), ...errorResponses },
    },
    handler: async (req, reply) => {
      await store.registryCredentials.delete(principalOf(req).tenantId, req.params.registry);
      req.auditTarget = req.params.registry;
      return reply.code(204).send(null);
    },
  });
};
