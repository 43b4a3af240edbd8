/**
 * The HTTP front: fastify with zod validation (the same schemas produce `/openapi.json`), the
 * reference page at `/docs`, the auth + rate-limit hook, the audit + metrics hook, the one
 * error handler, and the web dashboard at `/` (web.ts). Routes are registered by their modules.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { WS_PROTOCOL } from '@tartarus/core';
import { z } from 'zod';
import type { ServerConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import type { ZodApp } from '../routes/types.js';
import { installAuditHook, installAuthHook } from './hooks.js';
import { installBodyParsers } from './parsers.js';
import { toErrorReply } from './errors.js';
import { StoreOutageLog } from '../store/outage-log.js';
import { installDashboard, isDashboardPage } from './web.js';

const NO_QUERY = z.strictObject({});

/** Creates the fastify app with every cross-cutting concern; the caller registers routes. */
export async function createApp(ctx: ServerContext): Promise<ZodApp> {
  const { config } = ctx;
  // While the database is down every request fails the same way: one warning, not one a request.
  const outage = new StoreOutageLog(ctx.log, 'requests');
  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const r = toErrorReply(err, req.routeOptions.bodyLimit ?? config.bodyLimitBytes);
    if (r.status >= 500 && !outage.failed(err)) ctx.log.error({ err }, 'request failed');
    return reply.code(r.status).headers(r.headers).send(r.body);
  };
  // Requests go to the server's own structured log when it has one (logging.ts), with their ids.
  const pinoLog = 'child' in ctx.log ? (ctx.log as unknown as FastifyBaseLogger) : undefined;
  const app = Fastify({
    ...(pinoLog ? { loggerInstance: pinoLog, logController: new LogController({ disableRequestLogging: !config.logRequests }) } : { logger: config.logRequests }),
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    // Log followers and waited submits hold connections open; shutting down must not wait on them.
    forceCloseConnections: true,
    // A URL the router rejects (bad %-escape, over-long path segment) gets our error body too.
    frameworkErrors: sendError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  installBodyParsers(app, config);
  // Unknown query parameters are rejected on every /v1 route, also on those that take none:
  // `GET /v1/api-keys?limit=5` must not answer every key as if the limit applied.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/') || route.websocket === true) return;
    if (route.schema?.querystring === undefined)
      route.schema = { ...route.schema, querystring: NO_QUERY };
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tartarus API',
        version: '1.0.0',
        description: 'Run untrusted code in isolated sandboxes. See docs/api.md.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Agent replies carry whole files as base64 (4/3 of fileLimitBytes) plus framing. Of the
  // subprotocols a client offers only `tartarus` is ever selected: never echo `tartarus.bearer.<key>`.
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: agentMaxMessageBytes(config),
      handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  });

  installAuthHook(app, ctx);
  installAuditHook(app, ctx);

  // The dashboard's files, and its pages from the not-found handler (a GET for HTML no route serves).
  const dashboard = await installDashboard(app);
  app.setErrorHandler(async (err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler(async (req, reply) =>
    isDashboardPage(req) ? dashboard.sendPage(reply) : reply.code(404).send({
      error: {
        code: 'not_found',
        message: `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json for the routes`,
      },
    }),
  );
  return app;
}

/** The largest message an agent may send (told to it at reconcile): whole files as base64 (4/3 of fileLimitBytes) plus framing. */
export function agentMaxMessageBytes(config: ServerConfig): number {
  return Math.ceil(config.fileLimitBytes * 1.4) + 1_048_576;
}
