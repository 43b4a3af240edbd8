/**
 * Schemas of the event bus: every state change of the platform (a run queued, started or
 * finished; a sandbox created, started or ended; a template built; a node up or down; a webhook
 * disabled; what happens to a deployment) is an event, written in the same transaction as the change and numbered in commit
 * order per object. `GET /v1/events` lists them or streams them (SSE, resumable by id).
 */
import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { EVENT_TYPES } from '../event-types.js';

export { EVENT_TYPES };

/** An event's type. */
export const EventTypeSchema = z.enum(EVENT_TYPES);
/** An event's type. */
export type EventType = z.infer<typeof EventTypeSchema>;

/** One event. `id` is its position in the bus (decimal digits, increasing): resume after it. */
export const EventSchema = z
  .object({
    id: z.string(),
    type: EventTypeSchema,
    tenantId: z.string(),
    /** The run, sandbox, template (`tenant/name`), node, webhook or deployment (its id) it is about. */
    objectId: z.string(),
    at: TimestampSchema,
    /** What changed: the new state and what goes with it (exit code, reason, node…), per type. */
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });
/** One event. */
export type Event = z.infer<typeof EventSchema>;

/** An event id (a position in the bus). */
const EventIdSchema = z.string().regex(/^\d{1,18}$/, 'must be an event id (decimal digits)');

/**
 * GET /v1/events query: events after `after` (an event id; `Last-Event-ID` for a stream), of the
 * given `types` (comma-separated) and `object`; `tenant` for admins of the bootstrap tenant (they
 * see every tenant's otherwise). JSON pages of `limit`, or a stream with `Accept: text/event-stream`.
 */
export const EventsQuerySchema = z.strictObject({
  after: EventIdSchema.optional(),
  types: z
    .string()
    .optional()
    .refine(
      (s) => s === undefined || s.split(',').every((t) => (EVENT_TYPES as readonly string[]).includes(t.trim())),
      { message: `must be event types separated by commas, of ${EVENT_TYPES.join(', ')}` },
    ),
  object: z.string().min(1).max(300).optional(),
  tenant: IdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
/** GET /v1/events query. */
export type EventsQuery = z.input<typeof EventsQuerySchema>;

/** GET /v1/events answer: events in order; pass `nextAfter` back as `after` for the next page. */
export const EventPageSchema = z
  .object({ items: z.array(EventSchema), nextAfter: z.string().nullable() })
  .meta({ id: 'EventPage' });
/** A page of events. */
export type EventPage = z.infer<typeof EventPageSchema>;
