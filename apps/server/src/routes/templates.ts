/**
 * `/v1/templates`: list and get (built-ins and the tenant's own), create from an image or a
 * Dockerfile, rebuild, delete, and build a built-in. Creates, rebuilds and builds stream
 * progress with `Accept: text/event-stream` (`progress` events, then `done` with the Template
 * or `error`); otherwise they answer with the Template once done. A request's own mistakes are
 * answered before any stream opens, with their 4xx.
 */
import {
  CreateTemplateRequestSchema,
  MAX_TEMPLATE_CONTEXT_BYTES,
  TemplateListSchema,
  TemplateNameParamsSchema,
  TemplateSchema,
  type Template,
  type TemplateProgress,
} from '@tartarus/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { principalOf } from '../http/auth.js';
import { toErrorReply } from '../http/errors.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import { builtinDto, type TemplateJob } from '../services/templates.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['templates'];

/** Body limit of a create: a 32 MiB context as base64 (4/3 of it) plus the rest of the JSON. */
const CREATE_BODY_LIMIT_BYTES = Math.ceil(MAX_TEMPLATE_CONTEXT_BYTES / 3) * 4 + 1024 * 1024;

/** Runs `job`, answering with its Template (`status`) or streaming its progress as SSE. */
async function respond(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  job: TemplateJob,
  status: number,
): Promise<FastifyReply> {
  if (!wantsEventStream(req)) return reply.code(status).send(await job());
  const sse = openSse(req, reply);
  try {
    sse.send('done', await job((p) => sse.send('progress', p)));
  } catch (err) {
    const r = toErrorReply(err, ctx.config.bodyLimitBytes);
    if (r.status >= 500) ctx.log.error({ err }, 'template pull or build failed');
    sse.send('error', r.body.error);
  } finally {
    sse.end();
  }
  return reply;
}

/** Registers the template routes. */
export const templateRoutes: RouteModule = (app, { hub, ctx, templates }) => {
  app.get('/v1/templates', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: "List templates: the built-ins and the tenant's own",
      response: { 200: TemplateListSchema, ...errorResponses },
    },
    handler: async (req) => ({ items: await templates.list(principalOf(req).tenantId) }),
  });

  app.get('/v1/templates/:name', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Get a template',
      params: TemplateNameParamsSchema,
      response: { 200: TemplateSchema, ...errorResponses },
    },
    handler: async (req) => templates.get(principalOf(req).tenantId, req.params.name),
  });

  app.post('/v1/templates', {
    config: { access: 'member', audit: 'template.create' },
    bodyLimit: Math.max(ctx.config.bodyLimitBytes, CREATE_BODY_LIMIT_BYTES),
    schema: {
      tags,
      summary:
        'Create a template from an image or a Dockerfile (SSE progress with Accept: text/event-stream)',
      body: CreateTemplateRequestSchema,
      response: { 201: TemplateSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      req.auditTarget = req.body.name;
      const job = await templates.beginCreate(principalOf(req).tenantId, req.body);
      return respond(ctx, req, reply, job, 201);
    },
  });

  app.post('/v1/templates/:name/rebuild', {
    config: { access: 'member', audit: 'template.rebuild' },
    schema: {
      tags,
      summary:
        'Pull a template’s image again, or build it again from its stored context (SSE progress)',
      params: TemplateNameParamsSchema,
      response: { 200: TemplateSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const job = await templates.beginRebuild(principalOf(req).tenantId, req.params.name);
      return respond(ctx, req, reply, job, 200);
    },
  });

  app.delete('/v1/templates/:name', {
    config: { access: 'member', audit: 'template.delete' },
    schema: {
      tags,
      summary:
        "Delete one of the tenant's templates (work already accepted keeps its pinned image)",
      params: TemplateNameParamsSchema,
      response: { 200: TemplateSchema, ...errorResponses },
    },
    handler: async (req) => templates.delete(principalOf(req).tenantId, req.params.name),
  });

  app.post('/v1/templates/:name/build', {
    config: { access: 'member', audit: 'template.build' },
    schema: {
      tags,
      summary: 'Build a template (SSE progress with Accept: text/event-stream)',
      params: TemplateNameParamsSchema,
      response: { 200: TemplateSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { tenantId } = principalOf(req);
      const { name } = req.params;
      // The tenant's own template: the same as a rebuild.
      if (await templates.owns(tenantId, name))
        return respond(ctx, req, reply, await templates.beginRebuild(tenantId, name), 200);
      const conn = await hub.any();
      const job: TemplateJob = async (
        onProgress?: (p: TemplateProgress) => void,
      ): Promise<Template> =>
        builtinDto(
          await conn.call(
            'buildTemplate',
            { name },
            { timeoutMs: 3_600_000, ...(onProgress ? { onEvent: (e) => onProgress(e.data) } : {}) },
          ),
        );
      return respond(ctx, req, reply, job, 200);
    },
  });
};
