/**
 * Outbound webhook subscriptions and their delivery log, as the API sees them (the dispatcher's
 * side — claiming, heads, recording attempts — is `webhook-queue.ts`). Design rules:
 *
 * - **A cursor over the bus per subscription.** `cursor` is the last event handled; a new
 *   subscription starts at the newest event (it gets what happens after it was made). Its *head*
 *   is the delivery of the next matching event; later events wait behind it (bus order).
 * - **Tenant scoping.** Every call takes the tenant: another tenant's webhook is `NotFoundError`.
 * - **Disabling is a state change.** Disabling (asked for, or after failing too long) fails the
 *   head delivery and emits `webhook.disabled` in the same transaction; enabling resumes after the
 *   cursor with a fresh head. A new URL makes a failing head due at once.
 * - **Secrets are sealed by the server** (bound to the webhook's id); the store never sees one in clear.
 */
import { NotFoundError, type EventType } from '@tartarus/core';
import type { Selectable, Transaction } from 'kysely';
import { inTransaction, lockRows, type Db, type StoreContext } from './context.js';
import { emitEvent } from './events.js';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema.js';
import { requireTenant } from './tenants.js';
import type { Page, PageOptions } from './types.js';
import { flag, newestFirstPage, newId, parseJson } from './util.js';

/** A subscription as the store keeps it (the secret sealed). */
export interface WebhookRecord {
  id: string;
  tenantId: string;
  url: string;
  types: EventType[];
  sealedSecret: string;
  enabled: boolean;
  /** The last event (`seq`) handled. */
  cursor: number;
  /** The delivery being made of the event after the cursor; null when none. */
  headDeliveryId: string | null;
  /** When the head's next attempt is due, epoch ms; null when there is no head. */
  nextAttemptAt: number | null;
  /** First failure since the last success, epoch ms. */
  failingSince: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What `create` stores: the id is the caller's, since the secret is sealed bound to it. */
export interface NewWebhook {
  id: string;
  tenantId: string;
  url: string;
  types: EventType[];
  sealedSecret: string;
}

/** What `update` may change. */
export interface WebhookPatch {
  url?: string | undefined;
  types?: EventType[] | undefined;
  enabled?: boolean | undefined;
  sealedSecret?: string | undefined;
}

/** How a delivery came to be. */
export type DeliveryKind = 'event' | 'redelivery' | 'ping';
/** Where a delivery stands. */
export type DeliveryState = 'pending' | 'succeeded' | 'failed';

/** One delivery and its attempts so far. */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  tenantId: string;
  kind: DeliveryKind;
  /** Null for a ping. */
  eventSeq: number | null;
  eventType: string;
  objectId: string | null;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  responseExcerpt: string | null;
  durationMs: number | null;
  createdAt: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  completedAt: number | null;
  redeliveryOf: string | null;
}

/** A delivery made outside the bus order (a manual redelivery or a ping). */
export interface NewManualDelivery {
  kind: 'redelivery' | 'ping';
  eventSeq: number | null;
  eventType: string;
  objectId: string | null;
  redeliveryOf: string | null;
}

/** What one attempt gave. */
export interface AttemptResult {
  /** When it started, epoch ms. */
  at: number;
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** The start of the answer's body, as text. */
  excerpt: string | null;
  durationMs: number;
}

/** The API's view of webhooks. */
export interface WebhookStore {
  /** Creates a subscription starting after the newest event; NotFoundError for an unknown tenant. */
  create(w: NewWebhook): Promise<WebhookRecord>;
  /** NotFoundError when the tenant has none of that id. */
  get(tenantId: string, id: string): Promise<WebhookRecord>;
  /** Oldest first. */
  list(tenantId: string): Promise<WebhookRecord[]>;
  /** Changes what `patch` gives (see the file's rules); NotFoundError as `get`. */
  update(tenantId: string, id: string, patch: WebhookPatch): Promise<WebhookRecord>;
  /** Deletes it and its delivery log; NotFoundError as `get`. */
  delete(tenantId: string, id: string): Promise<void>;
  /** Its deliveries, newest first. */
  deliveries(tenantId: string, id: string, options?: PageOptions & { state?: DeliveryState }): Promise<Page<DeliveryRecord>>;
  /** One delivery of the webhook; NotFoundError when there is none of that id. */
  getDelivery(tenantId: string, webhookId: string, deliveryId: string): Promise<DeliveryRecord>;
  /** Records a pending manual delivery (attempted by the caller, once). */
  createManualDelivery(tenantId: string, webhookId: string, d: NewManualDelivery): Promise<DeliveryRecord>;
  /** Records the one attempt of a manual delivery: it is then succeeded or failed. */
  recordManualAttempt(deliveryId: string, result: AttemptResult): Promise<DeliveryRecord>;
  /** Deletes up to `batch` finished deliveries completed before `before` (epoch ms); returns how many. */
  expireDeliveries(before: number, batch: number): Promise<number>;
}

/** `webhooks` row → record. */
export function toWebhook(r: Selectable<WebhooksTable>): WebhookRecord {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    types: parseJson<EventType[]>(r.types_json),
    sealedSecret: r.secret_sealed,
    enabled: flag(r.enabled),
    cursor: Number(r.cursor),
    headDeliveryId: r.head_delivery_id,
    nextAttemptAt: n(r.next_attempt_at),
    failingSince: n(r.failing_since),
    disabledAt: n(r.disabled_at),
    disabledReason: r.disabled_reason,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** `webhook_deliveries` row → record. */
export function toDelivery(r: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    id: r.id,
    webhookId: r.webhook_id,
    tenantId: r.tenant_id,
    kind: r.kind as DeliveryKind,
    eventSeq: n(r.event_seq),
    eventType: r.event_type,
    objectId: r.object_id,
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    lastStatus: n(r.last_status),
    lastError: r.last_error,
    responseExcerpt: r.response_excerpt,
    durationMs: n(r.duration_ms),
    createdAt: Number(r.created_at),
    lastAttemptAt: n(r.last_attempt_at),
    nextAttemptAt: n(r.next_attempt_at),
    completedAt: n(r.completed_at),
    redeliveryOf: r.redelivery_of,
  };
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`webhook ${id} not found: list them with GET /v1/webhooks`, { context: { webhook: id } });
}

/** The tenant's webhook `id`, locked for the transaction; NotFoundError when there is none. */
async function lockWebhook(ctx: StoreContext, trx: Db, tenantId: string, id: string): Promise<WebhookRecord> {
  const row = await lockRows(ctx, trx.selectFrom('webhooks').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId)).executeTakeFirst();
  if (row === undefined) throw notFound(id);
  return toWebhook(row);
}

/**
 * Disables webhook `w` in `trx`: its head delivery fails with `headError`, nothing is due, and
 * `webhook.disabled` is emitted with `reason` (`requested`, or `failing: <last error>`).
 */
export async function disableWebhook(ctx: StoreContext, trx: Transaction<Database>, w: WebhookRecord, reason: string, headError: string): Promise<void> {
  const now = ctx.now();
  if (w.headDeliveryId !== null)
    await trx
      .updateTable('webhook_deliveries')
      .set({ state: 'failed', last_error: headError, next_attempt_at: null, completed_at: now })
      .where('id', '=', w.headDeliveryId)
      .where('state', '=', 'pending')
      .execute();
  await trx
    .updateTable('webhooks')
    .set({ enabled: 0, disabled_at: now, disabled_reason: reason, head_delivery_id: null, next_attempt_at: null, updated_at: now })
    .where('id', '=', w.id)
    .execute();
  await emitEvent(ctx, trx, {
    tenantId: w.tenantId,
    type: 'webhook.disabled',
    objectId: w.id,
    data: { url: w.url, reason, failingSince: w.failingSince === null ? null : new Date(w.failingSince).toISOString() },
  });
}

/** The row changes of `patch` on `w` (enabling and a new URL reset the schedule); disabling is `disableWebhook`'s. */
function patchSet(w: WebhookRecord, patch: WebhookPatch, now: number): Partial<WebhooksTable> {
  const set: Partial<WebhooksTable> = { updated_at: now };
  if (patch.url !== undefined) set.url = patch.url;
  if (patch.types !== undefined) set.types_json = JSON.stringify(patch.types);
  if (patch.sealedSecret !== undefined) set.secret_sealed = patch.sealedSecret;
  if (patch.enabled === true && !w.enabled)
    Object.assign(set, { enabled: 1, disabled_at: null, disabled_reason: null, failing_since: null, head_delivery_id: null, next_attempt_at: null });
  else if (patch.url !== undefined && patch.url !== w.url && w.headDeliveryId !== null)
    Object.assign(set, { next_attempt_at: now, failing_since: null });
  return set;
}

/** Builds the webhook part of the store. */
export function createWebhookStore(ctx: StoreContext): WebhookStore {
  const { db } = ctx;
  return {
    create: (w) =>
      inTransaction(ctx, async (trx) => {
        await requireTenant(trx, w.tenantId);
        const top = await trx.selectFrom('events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow();
        const now = ctx.now();
        const row = {
          id: w.id,
          tenant_id: w.tenantId,
          url: w.url,
          types_json: JSON.stringify(w.types),
          secret_sealed: w.sealedSecret,
          enabled: 1,
          cursor: Number(top.m ?? 0),
          head_delivery_id: null,
          next_attempt_at: null,
          failing_since: null,
          disabled_at: null,
          disabled_reason: null,
          lease_owner: null,
          lease_until: null,
          created_at: now,
          updated_at: now,
        };
        await trx.insertInto('webhooks').values(row).execute();
        return toWebhook(row);
      }),

    async get(tenantId, id) {
      const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
      if (row === undefined) throw notFound(id);
      return toWebhook(row);
    },

    async list(tenantId) {
      return (await db.selectFrom('webhooks').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute()).map(toWebhook);
    },

    update: (tenantId, id, patch) =>
      inTransaction(ctx, async (trx) => {
        const w = await lockWebhook(ctx, trx, tenantId, id);
        await trx.updateTable('webhooks').set(patchSet(w, patch, ctx.now())).where('id', '=', id).execute();
        const after = await lockWebhook(ctx, trx, tenantId, id);
        if (patch.enabled === false && w.enabled) await disableWebhook(ctx, trx, after, 'requested', 'the webhook was disabled');
        return lockWebhook(ctx, trx, tenantId, id);
      }),

    async delete(tenantId, id) {
      const r = await db.deleteFrom('webhooks').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
      if (r.numDeletedRows === 0n) throw notFound(id);
    },

    async deliveries(tenantId, id, options) {
      await this.get(tenantId, id);
      return newestFirstPage(
        db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('webhook_id', '=', id)
          .$if(options?.state !== undefined, (q) => q.where('state', '=', options?.state ?? '')),
        'created_at',
        options,
        toDelivery,
      );
    },

    async getDelivery(tenantId, webhookId, deliveryId) {
      await this.get(tenantId, webhookId);
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).where('webhook_id', '=', webhookId).executeTakeFirst();
      if (row === undefined)
        throw new NotFoundError(`delivery ${deliveryId} of webhook ${webhookId} not found: list them with GET /v1/webhooks/${webhookId}/deliveries`, {
          context: { delivery: deliveryId },
        });
      return toDelivery(row);
    },

    async createManualDelivery(tenantId, webhookId, d) {
      await this.get(tenantId, webhookId);
      const row = pendingDeliveryRow({ webhookId, tenantId, kind: d.kind, eventSeq: d.eventSeq, eventType: d.eventType, objectId: d.objectId, nextAttemptAt: null, redeliveryOf: d.redeliveryOf }, ctx.now());
      await db.insertInto('webhook_deliveries').values(row).execute();
      return toDelivery(row);
    },

    async recordManualAttempt(deliveryId, r) {
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          state: r.ok ? 'succeeded' : 'failed',
          last_status: r.statusCode,
          last_error: r.error,
          response_excerpt: r.excerpt,
          duration_ms: r.durationMs,
          last_attempt_at: r.at,
          completed_at: ctx.now(),
        }))
        .where('id', '=', deliveryId)
        .execute();
      return toDelivery(await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow());
    },

    async expireDeliveries(before, batch) {
      const old = await db.selectFrom('webhook_deliveries').select('id').where('completed_at', '<', before).orderBy('completed_at').limit(batch).execute();
      if (old.length === 0) return 0;
      await db.deleteFrom('webhook_deliveries').where('id', 'in', old.map((r) => r.id)).execute();
      return old.length;
    },
  };
}

/** A delivery not yet attempted (an event's, a redelivery or a ping), as its row. */
export function pendingDeliveryRow(
  d: { webhookId: string; tenantId: string; kind: string; eventSeq: number | null; eventType: string; objectId: string | null; nextAttemptAt: number | null; redeliveryOf: string | null },
  now: number,
) {
  return {
    id: newId('dlv'),
    webhook_id: d.webhookId,
    tenant_id: d.tenantId,
    kind: d.kind,
    event_seq: d.eventSeq,
    event_type: d.eventType,
    object_id: d.objectId,
    state: 'pending',
    attempts: 0,
    last_status: null,
    last_error: null,
    response_excerpt: null,
    duration_ms: null,
    created_at: now,
    last_attempt_at: null,
    next_attempt_at: d.nextAttemptAt,
    completed_at: null,
    redelivery_of: d.redeliveryOf,
  };
}
