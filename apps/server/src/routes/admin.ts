/** Nodes (and their tokens), API keys, tenants and the audit log. */
import {
  ApiKeyListSchema,
  ApiKeySchema,
  AuditPageSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  CreateTenantRequestSchema,
  IdParamsSchema,
  NodeListSchema,
  PageQuerySchema,
  PatchTenantRequestSchema,
  TenantListSchema,
  TenantSchema,
} from '@tartarus/core';
import { authorize, principalOf } from '../http/auth.js';
import { apiKeyDto, auditDto, nodeDto, tenantDto } from '../http/convert.js';
import { errorResponses } from './common.js';
import { nodeTokenRoutes } from './node-tokens.js';
import { nodeSchedulingRoutes } from './node-scheduling.js';
import type { RouteModule } from './types.js';

/** Nodes and the audit log. */
const nodeAndAuditRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  app.get('/v1/nodes', {
    config: { access: 'viewer' },
    schema: {
      tags: ['nodes'],
      summary: 'List nodes',
      response: { 200: NodeListSchema, ...errorResponses },
    },
    handler: async () => ({ items: (await store.nodes.list()).map(nodeDto) }),
  });

  app.get('/v1/audit', {
    config: { access: 'admin' },
    schema: {
      tags: ['audit'],
      summary: "The tenant's audit log, newest first",
      querystring: PageQuerySchema,
      response: { 200: AuditPageSchema, ...errorResponses },
    },
    handler: async (req) => {
      const { limit, cursor } = req.query;
      const page = await store.audit.list(principalOf(req).tenantId, {
        limit,
        ...(cursor === undefined ? {} : { cursor }),
      });
      return { items: page.items.map(auditDto), nextCursor: page.nextCursor };
    },
  });
};

/** API keys of the caller's tenant (admins of the bootstrap tenant: of any tenant). */
const apiKeyRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  app.get('/v1/api-keys', {
    config: { access: 'admin' },
    schema: {
      tags: ['api-keys'],
      summary: "List the tenant's keys",
      response: { 200: ApiKeyListSchema, ...errorResponses },
    },
    handler: async (req) => ({
      items: (await store.apiKeys.list(principalOf(req).tenantId, { limit: 500 })).items.map(
        apiKeyDto,
      ),
    }),
  });

  app.post('/v1/api-keys', {
    config: { access: 'admin', audit: 'key.create' },
    schema: {
      tags: ['api-keys'],
      summary: 'Create a key; the secret is returned this once',
      body: CreateApiKeyRequestSchema,
      response: { 201: CreatedApiKeySchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const p = principalOf(req);
      const tenantId = req.body.tenantId ?? p.tenantId;
      if (tenantId !== p.tenantId) authorize(p, 'system');
      const { key, secret } = await store.apiKeys.create(tenantId, {
        name: req.body.name,
        role: req.body.role,
      });
      req.auditTarget = key.id;
      return reply.code(201).send({ ...apiKeyDto(key), secret });
    },
  });

  app.delete('/v1/api-keys/:id', {
    config: { access: 'admin', audit: 'key.revoke' },
    schema: {
      tags: ['api-keys'],
      summary: 'Revoke a key',
      params: IdParamsSchema,
      response: { 200: ApiKeySchema, ...errorResponses },
    },
    handler: async (req) =>
      apiKeyDto(await store.apiKeys.revoke(principalOf(req).tenantId, req.params.id)),
  });
};

/** Tenants (admins of the bootstrap tenant only). */
const tenantRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  app.get('/v1/tenants', {
    config: { access: 'system' },
    schema: {
      tags: ['tenants'],
      summary: 'List tenants',
      response: { 200: TenantListSchema, ...errorResponses },
    },
    handler: async () => ({
      items: (await store.tenants.list({ limit: 500 })).items.map(tenantDto),
    }),
  });

  app.post('/v1/tenants', {
    config: { access: 'system', audit: 'tenant.create' },
    schema: {
      tags: ['tenants'],
      summary: 'Create a tenant',
      body: CreateTenantRequestSchema,
      response: { 201: TenantSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const t = await store.tenants.create(req.body);
      req.auditTarget = t.id;
      return reply.code(201).send(tenantDto(t));
    },
  });

  app.get('/v1/tenants/:id', {
    config: { access: 'system' },
    schema: {
      tags: ['tenants'],
      summary: 'Get a tenant',
      params: IdParamsSchema,
      response: { 200: TenantSchema, ...errorResponses },
    },
    handler: async (req) => tenantDto(await store.tenants.get(req.params.id)),
  });

  app.patch('/v1/tenants/:id', {
    config: { access: 'system', audit: 'tenant.update' },
    schema: {
      tags: ['tenants'],
      summary: 'Change a tenant',
      params: IdParamsSchema,
      body: PatchTenantRequestSchema,
      response: { 200: TenantSchema, ...errorResponses },
    },
    handler: async (req) => tenantDto(await store.tenants.update(req.params.id, req.body)),
  });
};

/** Registers nodes and their tokens, API keys, tenants and the audit log. */
export const adminRoutes: RouteModule = (app, deps) => {
  nodeAndAuditRoutes(app, deps);
  nodeTokenRoutes(app, deps);
  nodeSchedulingRoutes(app, deps);
  apiKeyRoutes(app, deps);
  tenantRoutes(app, deps);
};
