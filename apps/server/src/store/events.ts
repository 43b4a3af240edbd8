/**
 * The event bus's outbox. `emitEvent` inserts an event in the transaction of the change it
 * describes (after the change, under the same row lock), so an event exists exactly when its
 * change committed. Events get their place in the bus (`seq`) from the sequencer: one
 * transaction at a time (PostgreSQL: an advisory lock) numbers the committed events not yet
 * numbered, in the order of their ids. Readers page by `seq`, so an event that committed after
 * a later-numbered one is never skipped: it is numbered after it. Per object the order holds,
 * because the writers of one object are serialized by its row lock.
 */
import type { EventType } from '@tartarus/core';
import { sql, type Selectable } from 'kysely';
import { afterCommit, inTransaction, type Db, type StoreContext } from './context.js';
import type { EventsTable } from './schema.js';
import type { JsonObject } from './types.js';

/** An event to write. */
export interface NewEvent {
  tenantId: string;
  type: EventType;
  objectId: string;
  data: JsonObject;
}

/** An event as the store keeps it, with its place in the bus. */
export interface StoredEvent extends NewEvent {
  seq: number;
  at: number;
}

/** What a listing selects. */
export interface EventFilter {
  /** After this `seq` (0: from the start). */
  after: number;
  /** One tenant; undefined: every tenant. */
  tenantId?: string | undefined;
  types?: readonly string[] | undefined;
  objectId?: string | undefined;
  limit: number;
}

/** The outbox. */
export interface EventStore {
  /** Numbers the committed events not yet numbered (at most `batch`); returns how many. */
  sequence(batch?: number): Promise<number>;
  /** Numbered events matching `filter`, in bus order. */
  list(filter: EventFilter): Promise<StoredEvent[]>;
  /** The highest `seq` given so far (0 when none). */
  lastSeq(): Promise<number>;
  /** Calls `listener` after each transaction that wrote events commits; returns its removal. */
  onAppended(listener: () => void): () => void;
  /**
   * Calls `listener` with the first and last `seq` after each `sequence` of this store that
   * numbered events commits; returns its removal. Each event is numbered by exactly one replica,
   * so a listener here sees every event once across replicas (none after a crash between the
   * commit and the call: at most once).
   */
  onSequenced(listener: (first: number, last: number) => void): () => void;
  /** Deletes numbered events older than `before` (epoch ms), at most `batch`, never the newest; returns how many. */
  expire(before: number, batch: number): Promise<number>;
}

/** The tenant platform events (nodes) belong to: the bootstrap tenant, whose admins see them. */
export const PLATFORM_TENANT = 'default';

/** Lock id of the sequencer on PostgreSQL (one sequencer at a time across replicas). */
const SEQUENCER_LOCK = 7_356_118_001;

/**
 * Writes `event` in `trx` (the transaction of the change); the sequencer is woken after commit.
 * SQLite has one writer at a time, so commit order is insert order there: the event is numbered at
 * once (no sequencer transaction on the run path) and the `onSequenced` listeners hear of it after
 * the commit. PostgreSQL's writers overlap: the sequencer numbers their events after commit.
 */
export async function emitEvent(ctx: StoreContext, trx: Db, event: NewEvent): Promise<void> {
  const inline = ctx.backend === 'sqlite';
  const row = await trx
    .insertInto('events')
    .values({
      seq: inline ? sql<number>`(select coalesce(max(seq), 0) + 1 from events)` : null,
      tenant_id: event.tenantId,
      type: event.type,
      object_id: event.objectId,
      at: ctx.now(),
      data_json: JSON.stringify(event.data),
    })
    .returning('seq')
    .executeTakeFirstOrThrow();
  afterCommit(trx, () => {
    if (inline) for (const l of ctx.sequencedListeners) l(Number(row.seq), Number(row.seq));
    for (const l of ctx.eventListeners) l();
  });
}

/** An `events` row (numbered) as a `StoredEvent`. */
export function toStoredEvent(r: Selectable<EventsTable>): StoredEvent {
  return {
    seq: Number(r.seq),
    tenantId: r.tenant_id,
    type: r.type as EventType,
    objectId: r.object_id,
    at: Number(r.at),
    data: JSON.parse(r.data_json) as JsonObject,
  };
}

/** Builds the event part of the store. */
export function createEventStore(ctx: StoreContext): EventStore {
  const { db } = ctx;
  const sequenced = ctx.sequencedListeners;
  // SQLite numbers each event as it writes it (emitEvent), and only this process writes its file:
  // after one pass has numbered what an older version left unnumbered, none is ever waiting.
  let sqliteDone = false;
  return {
    async sequence(batch = 500) {
      if (sqliteDone) return 0;
      // A read first: most wake-ups find nothing to number.
      if ((await db.selectFrom('events').select('id').where('seq', 'is', null).limit(1).executeTakeFirst()) === undefined) {
        sqliteDone = ctx.backend === 'sqlite';
        return 0;
      }
      const numbered = await inTransaction(ctx, async (trx) => {
        if (ctx.backend === 'postgres') await sql`select pg_advisory_xact_lock(${SEQUENCER_LOCK})`.execute(trx);
        const waiting = await trx.selectFrom('events').select('id').where('seq', 'is', null).orderBy('id').limit(batch).execute();
        if (waiting.length === 0) return { first: 0, count: 0 };
        const top = await trx.selectFrom('events').select(sql<string | number | null>`max(seq)`.as('m')).executeTakeFirstOrThrow();
        let seq = Number(top.m ?? 0);
        const first = seq + 1;
        for (const row of waiting) await trx.updateTable('events').set({ seq: ++seq }).where('id', '=', row.id).execute();
        return { first, count: waiting.length };
      });
      if (numbered.count > 0) for (const l of sequenced) l(numbered.first, numbered.first + numbered.count - 1);
      return numbered.count;
    },

    async list(f) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('seq', '>', f.after)
        .$if(f.tenantId !== undefined, (q) => q.where('tenant_id', '=', f.tenantId ?? ''))
        .$if(f.types !== undefined && f.types.length > 0, (q) => q.where('type', 'in', f.types ?? []))
        .$if(f.objectId !== undefined, (q) => q.where('object_id', '=', f.objectId ?? ''))
        .orderBy('seq')
        .limit(f.limit)
        .execute();
      return rows.map(toStoredEvent);
    },

    async lastSeq() {
      const top = await db.selectFrom('events').select(sql<string | number | null>`max(seq)`.as('m')).executeTakeFirstOrThrow();
      return Number(top.m ?? 0);
    },

    onAppended(listener) {
      ctx.eventListeners.add(listener);
      return () => ctx.eventListeners.delete(listener);
    },

    onSequenced(listener) {
      sequenced.add(listener);
      return () => sequenced.delete(listener);
    },

    async expire(before, batch) {
      // The newest numbered event always stays: the next number is counted from it.
      const last = await this.lastSeq();
      const old = await db.selectFrom('events').select('id').where('seq', '<', last).where('at', '<', before).orderBy('id').limit(batch).execute();
      if (old.length === 0) return 0;
      await db.deleteFrom('events').where('id', 'in', old.map((r) => r.id)).execute();
      return old.length;
    },
  };
}
