/**
 * The request hooks every route shares: authentication + rate limit + authorization before the
 * handler (fail closed: a `/v1` route without an `access` needs admin), and metrics + the audit
 * entry of every mutating call after the response.
 */
import type { FastifyRequest } from 'fastify';
import { agentAuthenticator } from '../agents/agent-auth.js';
import type { ServerContext } from '../context.js';
import type { ZodApp } from '../routes/types.js';
import { authenticate, authorizationOf, authorize, type Access } from './auth.js';
import { RateLimiter } from './rate-limit.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function accessOf(req: FastifyRequest): Access {
  return req.routeOptions.config.access ?? (req.url.startsWith('/v1/') ? 'admin' : 'public');
}

/** Authenticates, rate-limits and authorizes each request by its route's `access`. */
export function installAuthHook(app: ZodApp, ctx: ServerContext): void {
  const { config, store } = ctx;
  const limiter = ctx.limiter ?? new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
  const authenticateAgent = agentAuthenticator(config.agentTokens, store);
  app.addHook('onRequest', async (req) => {
    if (req.is404) return;
    const access = accessOf(req);
    if (access === 'public') return;
    if (access === 'agent') {
      req.agentAuth = await authenticateAgent(req.headers.authorization);
      return;
    }
    const p = await authenticate(store, authorizationOf(req));
    req.principal = p;
    await limiter.take(p.keyId);
    authorize(p, access);
  });
}

/** Records metrics for every response and an audit entry for every mutating call. */
export function installAuditHook(app: ZodApp, ctx: ServerContext): void {
  const { store, metrics } = ctx;
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
}
