/**
 * `GET /v1/events`: the event bus, as JSON pages or as a server-sent event stream that resumes
 * after `Last-Event-ID`. A stream re-reads the store when this server numbered new events and
 * every second regardless (events another replica numbered).
 */
import { EventPageSchema, EventsQuerySchema, InvalidArgumentError, PermissionDeniedError, type Event } from '@tartarus/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { BOOTSTRAP_TENANT_ID, principalOf, type Principal } from '../http/auth.js';
import { iso } from '../http/convert.js';
import { openSse, wantsEventStream } from '../http/sse.js';
import type { EventFilter, StoredEvent } from '../store/events.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

/** How long a stream waits for news before it looks at the store anyway, ms. */
const STREAM_POLL_MS = 1000;

/** The event as the API shows it. */
export function eventDto(e: StoredEvent): Event {
  return { id: String(e.seq), type: e.type, tenantId: e.tenantId, objectId: e.objectId, at: iso(e.at), data: e.data };
}

/** The tenant whose events the caller sees: any (or the one named) for admins of the bootstrap tenant, else their own. */
function tenantScope(p: Principal, asked: string | undefined): string | undefined {
  if (p.role === 'admin' && p.tenantId === BOOTSTRAP_TENANT_ID) return asked;
  if (asked !== undefined && asked !== p.tenantId)
    throw new PermissionDeniedError(`only an admin of the bootstrap tenant "${BOOTSTRAP_TENANT_ID}" sees another tenant's events: leave out tenant`);
  return p.tenantId;
}

/** Where a stream starts: after `Last-Event-ID` (a reconnect), else `after`, else now. */
export function streamStart(req: FastifyRequest, after: string | undefined): number | 'now' {
  const header = req.headers['last-event-id'];
  const last = Array.isArray(header) ? header[0] : header;
  if (last !== undefined && last !== '') {
    if (!/^\d{1,18}$/.test(last)) throw new InvalidArgumentError(`Last-Event-ID "${last}" is not an event id (decimal digits)`);
    return Number(last);
  }
  return after === undefined ? 'now' : Number(after);
}

/** Registers the events route. */
export const eventRoutes: RouteModule = (app, { ctx }) => {
  app.get('/v1/events', {
    config: { access: 'viewer' },
    schema: {
      tags: ['events'],
      summary: 'The event bus: state changes in order, as pages or a resumable stream (SSE)',
      description:
        'Events after `after` (or `Last-Event-ID`), filtered by `types` and `object`. With `Accept: text/event-stream` a stream: first a `ready` event whose id is where it starts (now, unless told where), then each event as `id`, `event` (its type) and `data` (the event); reconnecting with `Last-Event-ID` misses nothing that is still kept (`eventRetentionMs`).',
      querystring: EventsQuerySchema,
      response: { 200: EventPageSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const q = req.query;
      const filter: Omit<EventFilter, 'after'> = {
        tenantId: tenantScope(principalOf(req), q.tenant),
        types: q.types?.split(',').map((t) => t.trim()),
        objectId: q.object,
        limit: q.limit,
      };
      if (!wantsEventStream(req)) {
        const items = await ctx.store.events.list({ ...filter, after: q.after === undefined ? 0 : Number(q.after) });
        return { items: items.map(eventDto), nextAfter: items.length === q.limit ? String(items.at(-1)?.seq) : null };
      }
      return streamEvents(ctx, req, reply, filter, streamStart(req, q.after));
    },
  });
};

/**
 * Streams the events matching `filter` from `start` on (SSE) until the client leaves: first a
 * `ready` event whose id is where it starts, then each event with its id. Checks nothing: the
 * caller has (a stream cannot answer with an error status once open).
 */
export async function streamEvents(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, filter: Omit<EventFilter, 'after'>, start: number | 'now'): Promise<FastifyReply> {
  let after = start === 'now' ? await ctx.store.events.lastSeq() : start;
  const stream = openSse(req, reply);
  // Where the stream starts, as an id: a client that reconnects before any event resumes here.
  stream.send('ready', { after: String(after) }, String(after));
  while (!stream.signal.aborted) {
    // Listen first, then read: news numbered during the read is not missed.
    const news = ctx.bus.watch('events', STREAM_POLL_MS, stream.signal);
    const items = await ctx.store.events.list({ ...filter, after }).catch(() => []);
    for (const e of items) stream.send(e.type, eventDto(e), String(e.seq));
    after = items.at(-1)?.seq ?? after;
    if (items.length === filter.limit) news.cancel();
    else await news.changed;
  }
  stream.end();
  return reply;
}
