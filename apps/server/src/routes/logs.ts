/**
 * `GET /v1/logs`: the log search over what the server keeps — runs' output and sandboxes'
 * lifecycle lines — by tenant, run or sandbox, time window and text, newest or oldest first, in
 * pages. For installations without Loki (with it, Loki gets the same lines and more: the
 * structured log).
 */
import { InvalidArgumentError, LogPageSchema, LogSearchQuerySchema, PermissionDeniedError, type LogLine } from '@tartarus/core';
import { BOOTSTRAP_TENANT_ID, principalOf, type Principal } from '../http/auth.js';
import { iso } from '../http/convert.js';
import type { FoundLogLine } from '../store/log-search.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

/** The tenant whose lines the caller sees: any (or the one named) for admins of the bootstrap tenant, else their own. */
function tenantScope(p: Principal, asked: string | undefined): string | undefined {
  if (p.role === 'admin' && p.tenantId === BOOTSTRAP_TENANT_ID) return asked;
  if (asked !== undefined && asked !== p.tenantId)
    throw new PermissionDeniedError(`only an admin of the bootstrap tenant "${BOOTSTRAP_TENANT_ID}" searches another tenant's logs: leave out tenant`);
  return p.tenantId;
}

/** The latest time a Date holds, ms: the default end of the window (a node's clock may run ahead of ours). */
const END_OF_TIME_MS = 8_640_000_000_000_000;

/** The window in epoch ms: `from` included (default: the beginning), `to` excluded (default: no end). */
function windowOf(from: string | undefined, to: string | undefined): { fromMs: number; toMs: number } {
  const fromMs = from === undefined ? 0 : Date.parse(from);
  const toMs = to === undefined ? END_OF_TIME_MS : Date.parse(to);
  if (fromMs >= toMs) throw new InvalidArgumentError(`from (${from ?? ''}) must be before to (${to ?? ''})`);
  return { fromMs, toMs };
}

/** A line as the API shows it. */
function lineDto(l: FoundLogLine): LogLine {
  return {
    at: iso(l.at),
    tenantId: l.tenantId,
    source: l.source,
    runId: l.source === 'run' ? l.objectId : null,
    sandboxId: l.source === 'sandbox' ? l.objectId : null,
    attempt: l.attempt,
    stream: l.stream,
    seq: l.seq,
    data: l.data,
  };
}

/** Registers the log search route. */
export const logRoutes: RouteModule = (app, { ctx }) => {
  app.get('/v1/logs', {
    config: { access: 'viewer' },
    schema: {
      tags: ['logs'],
      summary: "Search the logs kept: runs' output and sandboxes' lifecycle lines",
      description:
        "Lines by `run` or `sandbox` (not both), a window (`from` included, `to` excluded) and `query` (a case-insensitive substring), `newest` or `oldest` first, in pages of `limit` (pass `nextCursor` back as `cursor`). A run's line is a chunk of its output as stored; a sandbox's, its event's type and data. Admins of the bootstrap tenant search every tenant (or `tenant`); others their own.",
      querystring: LogSearchQuerySchema,
      response: { 200: LogPageSchema, ...errorResponses },
    },
    handler: async (req) => {
      const q = req.query;
      if (q.run !== undefined && q.sandbox !== undefined) throw new InvalidArgumentError('give run or sandbox, not both');
      const tenantId = tenantScope(principalOf(req), q.tenant);
      const page = await ctx.store.logs.search({
        tenantId,
        runId: q.run,
        sandboxId: q.sandbox,
        text: q.query,
        ...windowOf(q.from, q.to),
        order: q.order,
        cursor: q.cursor,
        limit: q.limit,
      });
      return { items: page.items.map(lineDto), nextCursor: page.nextCursor };
    },
  });
};
