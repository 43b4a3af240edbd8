/**
 * `/v1/integrations`: the plugins a server runs, each tenant's config of them (validated by the
 * plugin's own schema), and the plugins' own routes under `/v1/integrations/<name>/…`. Those are
 * public — GitHub and Slack cannot send an API key — so every plugin authenticates its callers
 * itself (a provider's signature over the raw body, which these routes keep as bytes).
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { Plugin, PluginHost, PluginRoute } from '@tartarus/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { errorResponses } from '../routes/common.js';
import type { RouteModule, ZodApp } from '../routes/types.js';

const tags = ['integrations'];
const PluginParamsSchema = z.strictObject({ plugin: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'plugin must be a plugin name such as github') });
const ConfigSchema = z.record(z.string(), z.unknown()).meta({ id: 'IntegrationConfig', description: "The plugin's own config; see its documentation" });
const IntegrationListSchema = z
  .object({ items: z.array(z.object({ name: z.string(), description: z.string(), configured: z.boolean(), routes: z.array(z.string()), events: z.array(z.string()) })) })
  .meta({ id: 'IntegrationList' });

/** The message of the first problem zod found in a plugin config, with its field. */
function configProblem(plugin: string, error: z.ZodError): InvalidArgumentError {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || '(the config)';
  const message = issue?.code === 'unrecognized_keys' ? `remove unknown field(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
  return new InvalidArgumentError(`${plugin} config: ${field}: ${message}`, { context: { plugin, field } });
}

/** Registers the integration routes for `plugins`, whose hosts are `hosts` (by name). */
export function integrationRoutes(plugins: readonly Plugin<unknown>[], hosts: Map<string, PluginHost>): RouteModule {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const find = (name: string): Plugin<unknown> => {
    const p = byName.get(name);
    if (p === undefined) throw new NotFoundError(`no integration ${name}: GET /v1/integrations lists them`);
    return p;
  };
  return (app, { ctx }) => {
    const { store } = ctx;
    app.get('/v1/integrations', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'The integrations this server runs, and whether the tenant configured each', response: { 200: IntegrationListSchema, ...errorResponses } },
      handler: async (req) => {
        const tenantId = principalOf(req).tenantId;
        const items = await Promise.all(
          plugins.map(async (p) => ({
            name: p.name,
            description: p.description,
            configured: (await store.integrations.getConfig(tenantId, p.name)) !== null,
            routes: (p.routes ?? []).map((r) => `${r.method} /v1/integrations/${p.name}${r.path}`),
            events: [...(p.events?.types ?? [])],
          })),
        );
        return { items };
      },
    });
    app.get('/v1/integrations/:plugin/config', {
      config: { access: 'admin' },
      schema: { tags, summary: "The tenant's config of an integration", params: PluginParamsSchema, response: { 200: ConfigSchema, ...errorResponses } },
      handler: async (req) => {
        const p = find(req.params.plugin);
        const config = await store.integrations.getConfig(principalOf(req).tenantId, p.name);
        if (config === null) throw new NotFoundError(`the tenant has no ${p.name} config: PUT /v1/integrations/${p.name}/config`);
        return config as Record<string, unknown>;
      },
    });
    app.put('/v1/integrations/:plugin/config', {
      config: { access: 'admin', audit: 'integration.configure' },
      schema: { tags, summary: "Set the tenant's config of an integration (checked by the integration's schema)", params: PluginParamsSchema, body: ConfigSchema, response: { 200: ConfigSchema, ...errorResponses } },
      handler: async (req) => {
        const p = find(req.params.plugin);
        const parsed = p.configSchema.safeParse(req.body);
        if (!parsed.success) throw configProblem(p.name, parsed.error);
        await store.integrations.putConfig(principalOf(req).tenantId, p.name, req.body);
        req.auditTarget = p.name;
        return parsed.data as Record<string, unknown>;
      },
    });
    app.delete('/v1/integrations/:plugin/config', {
      config: { access: 'admin', audit: 'integration.remove' },
      schema: { tags, summary: "Remove the tenant's config of an integration (it stops acting for the tenant)", params: PluginParamsSchema, response: { 204: z.null(), ...errorResponses } },
      handler: async (req, reply) => {
        const p = find(req.params.plugin);
        if (!(await store.integrations.deleteConfig(principalOf(req).tenantId, p.name))) throw new ConflictError(`the tenant has no ${p.name} config`);
        req.auditTarget = p.name;
        return reply.code(204).send(null);
      },
    });
    for (const p of plugins) void app.register(async (child) => pluginRoutes(child as ZodApp, p, hosts.get(p.name) as PluginHost));
  };
}

/** A plugin's own routes, with the body kept as raw bytes (signatures are over them). */
async function pluginRoutes(app: ZodApp, plugin: Plugin<unknown>, host: PluginHost): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  for (const route of plugin.routes ?? []) {
    const url = `/v1/integrations/${plugin.name}${route.path}`;
    app.route({
      method: route.method,
      url,
      config: { access: 'public' },
      schema: { tags, summary: `${plugin.name}: ${route.method} ${route.path} (authenticated by the integration itself)`, querystring: z.record(z.string(), z.string()) },
      handler: (req, reply) => runRoute(route, host, req, reply),
    });
  }
}

async function runRoute(route: PluginRoute, host: PluginHost, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const out = await route.handler(
    { params: req.params as Record<string, string>, query: req.query as Record<string, string>, headers, rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) },
    host,
  );
  reply.code(out.status).headers(out.headers ?? {});
  if (out.body === undefined) return reply.send();
  return typeof out.body === 'string' ? reply.type(out.headers?.['content-type'] ?? 'text/plain; charset=utf-8').send(out.body) : reply.send(out.body);
}
