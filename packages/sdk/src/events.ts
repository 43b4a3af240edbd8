/**
 * The event bus: state changes of the platform in order (`run.finished`, `sandbox.ended`, …), as
 * pages or as a live stream that reconnects by itself and resumes after the last event it gave.
 */
import type { Transport } from './http.js';
import { readSse } from './sse.js';
import { UnavailableError } from './errors.js';
import type { Event, EventPage, EventType } from './types.js';

/** What to list or stream. */
export interface EventOptions {
  /** After this event id (a stream without it starts now; a listing from the oldest kept). */
  after?: string | undefined;
  /** Only these types. */
  types?: readonly EventType[] | undefined;
  /** Only events about this run, sandbox, node or template. */
  object?: string | undefined;
  /** One tenant (admins of the bootstrap tenant; they see every tenant's otherwise). */
  tenant?: string | undefined;
}

/** Events API. */
export class Events {
  constructor(private readonly transport: Transport) {}

  /** One page of events in order; pass `nextAfter` back as `after` for the next (null: none yet). */
  async list(options: EventOptions & { limit?: number } = {}): Promise<EventPage> {
    return this.transport.json('GET', '/v1/events', { query: query(options, options.limit) });
  }

  /**
   * Events as they happen, until `signal` aborts. A dropped connection is reopened (after a
   * short pause) after the last event given, so nothing still kept is missed or given twice.
   */
  stream(options: EventOptions & { signal?: AbortSignal } = {}): AsyncGenerator<Event> {
    return followEvents(this.transport, '/v1/events', query({ ...options, after: undefined }), options.after, options.signal);
  }
}

/**
 * The events of an SSE event route (`path` with `q`) after `after` (none: from now), until
 * `signal` aborts; a dropped connection is reopened after a short pause with `Last-Event-ID`.
 */
export async function* followEvents(transport: Transport, path: string, q: Record<string, string | number | undefined>, after: string | undefined, signal: AbortSignal | undefined): AsyncGenerator<Event> {
  let last = after;
  while (!signal?.aborted) {
    try {
      const res = await transport.send('GET', path, {
        query: q,
        headers: { accept: 'text/event-stream', ...(last === undefined ? {} : { 'last-event-id': last }) },
        signal,
      });
      if (!res.body) throw new UnavailableError('events: the server sent an empty stream');
      for await (const ev of readSse(res.body)) {
        if (ev.id !== undefined) last = ev.id;
        // `ready` says where the stream starts (its id), so a reconnect resumes from there.
        if (ev.event !== 'ready') yield ev.data as Event;
      }
    } catch (err) {
      if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) return;
      if (!(err instanceof UnavailableError)) throw err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function query(o: EventOptions, limit?: number): Record<string, string | number | undefined> {
  return { after: o.after, types: o.types?.join(','), object: o.object, tenant: o.tenant, limit };
}
