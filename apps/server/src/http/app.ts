/**
 * The HTTP front: fastify with zod validation (the same schemas produce `/openapi.json`), the
 * reference page at `/docs`, the auth + rate-limit hook, the audit + metrics hook and the one
 * error handler. Routes are registered by their modules.
 */
import { timingSafeEqual } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import { InvalidArgumentError, UnauthenticatedError } from '@tartarus/core';
import Fastify, { type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ServerConfig } from '../config.js';
import type { ServerContext } from '../context.js';
import type { ZodApp } from '../routes/types.js';
import { authenticate, authorize, type Access } from './auth.js';
import { toErrorReply } from './errors.js';
import { RateLimiter } from './rate-limit.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function accessOf(req: FastifyRequest): Access {
  return req.routeOptions.config.access ?? (req.url.startsWith('/v1/') ? 'admin' : 'public');
}

function agentTokenOk(config: ServerConfig, header: string | undefined): boolean {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (token === undefined) return false;
  const t = Buffer.from(token);
  return config.agentTokens.some((a) => {
    const b = Buffer.from(a);
    return b.length === t.length && timingSafeEqual(b, t);
  });
}

/** Creates the fastify app with every cross-cutting concern; the caller registers routes. */
export async function createApp(ctx: ServerContext): Promise<ZodApp> {
  const { config, store, metrics } = ctx;
  const app = Fastify({
    logger: config.logRequests,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Our own JSON parser: an empty body is "no body" (POST /pause needs none), and bad JSON gets a message that says so.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        new InvalidArgumentError(
          `the body is not valid JSON (${(err as Error).message}); send a JSON object`,
        ),
        undefined,
      );
    }
  });
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: config.fileLimitBytes },
    (_req, body, done) => done(null, body),
  );

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
  // Agent replies carry whole files as base64 (4/3 of fileLimitBytes) plus framing.
  await app.register(fastifyWebsocket, {
    options: { maxPayload: Math.ceil(config.fileLimitBytes * 1.4) + 1_048_576 },
  });

  const limiter = new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
  app.addHook('onRequest', async (req) => {
    if (req.is404) return;
    const access = accessOf(req);
    if (access === 'public') return;
    if (access === 'agent') {
      if (!agentTokenOk(config, req.headers.authorization))
        throw new UnauthenticatedError('agent token not valid');
      return;
    }
    const p = await authenticate(store, req.headers.authorization);
    req.principal = p;
    limiter.take(p.keyId);
    authorize(p, access);
  });

  // A POST without a body means "all defaults" (`curl -X POST /v1/sandboxes`): validate `{}` instead.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.routeOptions.schema?.body !== undefined) req.body = {};
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const action = req.routeOptions.config.audit;
    const p = req.principal;
    if (!action || !p || !(MUTATING.has(req.method) || req.ws)) return;
    const params = (req.params ?? {}) as Record<string, string>;
    await store.audit
      .append({
        tenantId: p.tenantId,
        keyId: p.keyId,
        action,
        target: req.auditTarget ?? params['id'] ?? params['name'] ?? null,
        details: {
          method: req.method,
          path: req.url.split('?')[0] ?? '',
          status: reply.statusCode,
        },
      })
      .catch((err: unknown) => ctx.log.error({ err }, 'audit append failed'));
  });

  app.setErrorHandler(async (err, req, reply) => {
    const r = toErrorReply(err, req.routeOptions.bodyLimit ?? config.bodyLimitBytes);
    if (r.status >= 500) ctx.log.error({ err }, 'request failed');
    return reply.code(r.status).headers(r.headers).send(r.body);
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply
      .code(404)
      .send({
        error: {
          code: 'not_found',
          message: `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json for the routes`,
        },
      }),
  );
  return app;
}
