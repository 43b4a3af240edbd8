/** `/v1/runs`: submit (idempotent, optional wait), list, get, cancel, attempts. Logs: `run-logs.ts`. */
import {
  GetRunQuerySchema,
  IdParamsSchema,
  ListRunsQuerySchema,
  MAX_RUN_WAIT_MS,
  parseDurationMs,
  RunAttemptListSchema,
  RunPageSchema,
  RunSchema,
  SubmitRunHeadersSchema,
  SubmitRunQuerySchema,
  SubmitRunRequestSchema,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { attemptDto, runDto } from '../http/convert.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['runs'];

/** `?wait=` → milliseconds to wait (0: don't). */
function waitMsOf(wait: string | undefined): number {
  if (wait === undefined || wait === 'false') return 0;
  if (wait === 'true') return MAX_RUN_WAIT_MS;
  return Math.min(parseDurationMs(wait), MAX_RUN_WAIT_MS);
}

/** Registers the run routes. */
export const runRoutes: RouteModule = (app, { ctx, runs }) => {
  app.post('/v1/runs', {
    config: { access: 'member', audit: 'run.submit' },
    schema: {
      tags,
      summary: 'Submit a run (Idempotency-Key header; ?wait=30s answers once final)',
      body: SubmitRunRequestSchema,
      querystring: SubmitRunQuerySchema,
      headers: SubmitRunHeadersSchema,
      response: { 200: RunSchema, 201: RunSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const tenantId = principalOf(req).tenantId;
      // 1..256 characters, checked by SubmitRunHeadersSchema (Node joins a repeated header).
      const key = req.headers['idempotency-key'];
      const waitMs = waitMsOf(req.query.wait);
      const { run, created } = await runs.submit(tenantId, req.body, key);
      req.auditTarget = run.id;
      reply.code(created ? 201 : 200);
      if (waitMs === 0) return runDto(run);
      const ac = new AbortController();
      req.raw.on('close', () => ac.abort());
      const final = await runs.waitFinal(tenantId, run.id, waitMs, ac.signal, run);
      return runs.withOutput(tenantId, final);
    },
  });

  app.get('/v1/runs', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'List runs, newest first',
      querystring: ListRunsQuerySchema,
      response: { 200: RunPageSchema, ...errorResponses },
    },
    handler: async (req) => {
      const { state, limit, cursor } = req.query;
      const page = await ctx.store.runs.list(principalOf(req).tenantId, {
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(state === undefined ? {} : { state }),
      });
      return { items: page.items.map(runDto), nextCursor: page.nextCursor };
    },
  });

  app.get('/v1/runs/:id', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Get a run (?output=true adds stdout/stderr)',
      params: IdParamsSchema,
      querystring: GetRunQuerySchema,
      response: { 200: RunSchema, ...errorResponses },
    },
    handler: async (req) => {
      const tenantId = principalOf(req).tenantId;
      const run = await ctx.store.runs.get(tenantId, req.params.id);
      return req.query.output === true ? runs.withOutput(tenantId, run) : runDto(run);
    },
  });

  app.post('/v1/runs/:id/cancel', {
    config: { access: 'member', audit: 'run.cancel' },
    schema: {
      tags,
      summary: 'Cancel a run (a final run is returned unchanged)',
      params: IdParamsSchema,
      response: { 200: RunSchema, ...errorResponses },
    },
    handler: async (req) => runDto(await runs.cancel(principalOf(req).tenantId, req.params.id)),
  });

  app.get('/v1/runs/:id/attempts', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Attempts of a run',
      params: IdParamsSchema,
      response: { 200: RunAttemptListSchema, ...errorResponses },
    },
    handler: async (req) => ({
      items: (await ctx.store.runs.attempts(principalOf(req).tenantId, req.params.id)).map(
        attemptDto,
      ),
    }),
  });
};
