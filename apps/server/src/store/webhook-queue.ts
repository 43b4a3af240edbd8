/**
 * Webhook deliveries as the dispatchers see them. Design rules:
 *
 * - **One dispatcher per subscription at a time.** A dispatcher (one per server process, named by
 *   `owner`) claims due subscriptions with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
 *   replicas never wait on each other nor claim the same one); every later call is fenced by the
 *   owner and changes nothing once the lease was lost (`'lost'`). A crashed dispatcher's leases
 *   expire after `leaseMs`.
 * - **In bus order.** A subscription delivers its *head* — the next event of its types after its
 *   cursor — until it succeeds or the subscription is disabled; only then is the next one looked
 *   for. Per subscription every event arrives in bus order, so per object too.
 * - **At least once.** The head delivery is stored before its first attempt, so its id is the same
 *   on every attempt, also after a crash; the cursor moves past an event in the transaction that
 *   records its successful attempt. A delivery whose answer was lost is attempted again.
 * - **Disabled after failing too long.** A failure more than `disableAfterMs` after the first
 *   failure since the last success disables the subscription, emits `webhook.disabled` and writes
 *   an audit entry, all in that transaction.
 */
import { sql, type Transaction } from 'kysely';
import { appendAudit } from './audit.js';
import { inTransaction, lockRows, type Db, type StoreContext } from './context.js';
import { toStoredEvent, type StoredEvent } from './events.js';
import type { Database } from './schema.js';
import { disableWebhook, pendingDeliveryRow, toDelivery, toWebhook, type AttemptResult, type DeliveryRecord, type WebhookRecord } from './webhooks.js';

/** How retries are spaced and when a subscription is given up. */
export interface RetryPolicy {
  /** Wait after the first failed attempt, ms; doubled after each further one. */
  retryBaseMs: number;
  /** Longest wait between attempts, ms. */
  retryMaxMs: number;
  /** A subscription failing for longer than this (since its last success) is disabled, ms. */
  disableAfterMs: number;
}

/** A head delivery due now, with what it needs to be sent. */
export interface DueDelivery {
  webhook: WebhookRecord;
  delivery: DeliveryRecord;
  event: StoredEvent;
}

/** What recording an attempt did. */
export type RecordOutcome =
  | { outcome: 'succeeded' }
  | { outcome: 'retrying'; nextAttemptAt: number }
  | { outcome: 'disabled'; reason: string }
  | { outcome: 'lost' };

/** The dispatchers' view of webhooks. */
export interface WebhookQueue {
  /** Leases up to `limit` due subscriptions to `owner` for `leaseMs`; their ids. */
  claim(owner: string, leaseMs: number, limit: number): Promise<string[]>;
  /**
   * The subscription's head delivery when an attempt is due now (made from the next matching event
   * when there is none), with the lease renewed for `leaseMs`; null when nothing is due (the cursor
   * moves past events not of its types, and the lease is released); `'lost'` when the lease is not
   * `owner`'s.
   */
  head(webhookId: string, owner: string, leaseMs: number): Promise<DueDelivery | null | 'lost'>;
  /** Records an attempt of head delivery `deliveryId` (see the file's rules). */
  record(webhookId: string, owner: string, deliveryId: string, result: AttemptResult, policy: RetryPolicy): Promise<RecordOutcome>;
  /** Gives the lease back (no-op when it is not `owner`'s). */
  release(webhookId: string, owner: string): Promise<void>;
  /** The earliest `next_attempt_at` of an enabled subscription, epoch ms; null when none is waiting. */
  nextDueAt(): Promise<number | null>;
}

/** The wait after `attempts` failed attempts, ms: base × 2^(attempts−1), at most `retryMaxMs`. */
export function retryDelayMs(attempts: number, policy: Pick<RetryPolicy, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

async function lastSeq(trx: Db): Promise<number> {
  const top = await trx.selectFrom('events').select(sql<string | number | null>`max(seq)`.as('m')).executeTakeFirstOrThrow();
  return Number(top.m ?? 0);
}

/** The subscription, locked, when `owner` holds its lease. */
async function leased(ctx: StoreContext, trx: Db, id: string, owner: string): Promise<WebhookRecord | undefined> {
  const row = await lockRows(ctx, trx.selectFrom('webhooks').selectAll().where('id', '=', id).where('lease_owner', '=', owner)).executeTakeFirst();
  return row === undefined ? undefined : toWebhook(row);
}

const release = (trx: Db, id: string, owner: string) =>
  trx.updateTable('webhooks').set({ lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();

/** Makes the delivery of the next event of `w`'s types after its cursor its head; null when there is none (the cursor moves to the end). */
async function nextHead(ctx: StoreContext, trx: Transaction<Database>, w: WebhookRecord, leaseMs: number): Promise<DueDelivery | null> {
  // Read the end first: every event numbered up to it has committed, so none of them matches
  // when the look below finds nothing.
  const end = await lastSeq(trx);
  const row = await trx
    .selectFrom('events')
    .selectAll()
    .where('seq', '>', w.cursor)
    .where('tenant_id', '=', w.tenantId)
    .where('type', 'in', w.types)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  const now = ctx.now();
  if (row === undefined) {
    await trx.updateTable('webhooks').set({ cursor: Math.max(w.cursor, end), lease_owner: null, lease_until: null }).where('id', '=', w.id).execute();
    return null;
  }
  const event = toStoredEvent(row);
  const delivery = pendingDeliveryRow({ webhookId: w.id, tenantId: w.tenantId, kind: 'event', eventSeq: event.seq, eventType: event.type, objectId: event.objectId, nextAttemptAt: now, redeliveryOf: null }, now);
  await trx.insertInto('webhook_deliveries').values(delivery).execute();
  await trx
    .updateTable('webhooks')
    .set({ cursor: Math.max(w.cursor, event.seq - 1), head_delivery_id: delivery.id, next_attempt_at: now, lease_until: now + leaseMs })
    .where('id', '=', w.id)
    .execute();
  return { webhook: { ...w, headDeliveryId: delivery.id, nextAttemptAt: now }, delivery: toDelivery(delivery), event };
}

/**
 * The head delivery of `w` (which has one) when due, its event looked up and the lease renewed. An
 * event that expired (`eventRetentionMs`) while its delivery kept failing cannot be sent any more:
 * that delivery fails and the next event becomes the head.
 */
async function currentHead(ctx: StoreContext, trx: Transaction<Database>, w: WebhookRecord, owner: string, leaseMs: number): Promise<DueDelivery | null> {
  const now = ctx.now();
  if ((w.nextAttemptAt ?? 0) > now) {
    await release(trx, w.id, owner);
    return null;
  }
  const d = toDelivery(await trx.selectFrom('webhook_deliveries').selectAll().where('id', '=', w.headDeliveryId ?? '').executeTakeFirstOrThrow());
  const row = await trx.selectFrom('events').selectAll().where('seq', '=', d.eventSeq ?? 0).executeTakeFirst();
  if (row === undefined) {
    await trx
      .updateTable('webhook_deliveries')
      .set({ state: 'failed', last_error: 'the event expired (eventRetentionMs) before a delivery succeeded', next_attempt_at: null, completed_at: now })
      .where('id', '=', d.id)
      .execute();
    const cursor = Math.max(w.cursor, d.eventSeq ?? 0);
    await trx.updateTable('webhooks').set({ cursor, head_delivery_id: null, next_attempt_at: null }).where('id', '=', w.id).execute();
    return nextHead(ctx, trx, { ...w, cursor, headDeliveryId: null, nextAttemptAt: null }, leaseMs);
  }
  await trx.updateTable('webhooks').set({ lease_until: now + leaseMs }).where('id', '=', w.id).execute();
  return { webhook: w, delivery: d, event: toStoredEvent(row) };
}

/** Records a failed attempt: retry later, or disable when failing for too long. */
async function recordFailure(ctx: StoreContext, trx: Transaction<Database>, w: WebhookRecord, d: DeliveryRecord, r: AttemptResult, policy: RetryPolicy): Promise<RecordOutcome> {
  const now = ctx.now();
  const failingSince = w.failingSince ?? r.at;
  if (now - failingSince >= policy.disableAfterMs) {
    const reason = `failing: no delivery succeeded for ${Math.round((now - failingSince) / 1000)} s; last: ${r.error ?? `HTTP ${r.statusCode}`}`;
    await disableWebhook(ctx, trx, { ...w, failingSince }, reason, r.error ?? `HTTP ${r.statusCode}`);
    await trx.updateTable('webhooks').set({ failing_since: failingSince }).where('id', '=', w.id).execute();
    await appendAudit(ctx, trx, { tenantId: w.tenantId, keyId: null, action: 'webhook.disable', target: w.id, details: { reason, url: w.url, delivery: d.id } });
    return { outcome: 'disabled', reason };
  }
  const nextAttemptAt = now + retryDelayMs(d.attempts, policy);
  await trx.updateTable('webhook_deliveries').set({ next_attempt_at: nextAttemptAt }).where('id', '=', d.id).execute();
  await trx.updateTable('webhooks').set({ next_attempt_at: nextAttemptAt, failing_since: failingSince }).where('id', '=', w.id).execute();
  return { outcome: 'retrying', nextAttemptAt };
}

/** Builds the dispatchers' part of the store. */
export function createWebhookQueue(ctx: StoreContext): WebhookQueue {
  const { db } = ctx;
  return {
    claim: async (owner, leaseMs, limit) => {
      // Most installations have no webhook: a read, not a write transaction, on every wake-up.
      if (limit <= 0 || (await ctx.db.selectFrom('webhooks').select('id').where('enabled', '=', 1).limit(1).executeTakeFirst()) === undefined) return [];
      return inTransaction(ctx, async (trx) => {
        const now = ctx.now();
        const end = await lastSeq(trx);
        const due = await lockRows(
          ctx,
          trx
            .selectFrom('webhooks')
            .select('id')
            .where('enabled', '=', 1)
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
            .where((eb) =>
              eb.or([
                eb.and([eb('next_attempt_at', 'is not', null), eb('next_attempt_at', '<=', now)]),
                eb.and([eb('next_attempt_at', 'is', null), eb('cursor', '<', end)]),
              ]),
            )
            // The least recently leased first, so a busy subscription does not starve the others.
            .orderBy(sql`coalesce(lease_until, 0)`)
            .limit(limit),
          'skip',
        ).execute();
        const ids = due.map((r) => r.id);
        if (ids.length > 0) await trx.updateTable('webhooks').set({ lease_owner: owner, lease_until: now + leaseMs }).where('id', 'in', ids).execute();
        return ids;
      });
    },

    head: (webhookId, owner, leaseMs) =>
      inTransaction(ctx, async (trx) => {
        const w = await leased(ctx, trx, webhookId, owner);
        if (w === undefined) return 'lost';
        if (!w.enabled) {
          await release(trx, webhookId, owner);
          return null;
        }
        return w.headDeliveryId === null ? nextHead(ctx, trx, w, leaseMs) : currentHead(ctx, trx, w, owner, leaseMs);
      }),

    record: (webhookId, owner, deliveryId, r, policy) =>
      inTransaction(ctx, async (trx): Promise<RecordOutcome> => {
        const w = await leased(ctx, trx, webhookId, owner);
        // Disabled, re-enabled or given a new head meanwhile: this attempt no longer counts.
        if (w === undefined || !w.enabled || w.headDeliveryId !== deliveryId) return { outcome: 'lost' };
        const now = ctx.now();
        await trx
          .updateTable('webhook_deliveries')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            last_status: r.statusCode,
            last_error: r.error,
            response_excerpt: r.excerpt,
            duration_ms: r.durationMs,
            last_attempt_at: r.at,
            ...(r.ok ? { state: 'succeeded', next_attempt_at: null, completed_at: now } : {}),
          }))
          .where('id', '=', deliveryId)
          .execute();
        const d = toDelivery(await trx.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow());
        if (!r.ok) return recordFailure(ctx, trx, w, d, r, policy);
        await trx
          .updateTable('webhooks')
          .set({ cursor: Math.max(w.cursor, d.eventSeq ?? 0), head_delivery_id: null, next_attempt_at: null, failing_since: null })
          .where('id', '=', webhookId)
          .execute();
        return { outcome: 'succeeded' };
      }),

    release: (webhookId, owner) => release(db, webhookId, owner).then(() => undefined),

    async nextDueAt() {
      const row = await db.selectFrom('webhooks').select(sql<string | number | null>`min(next_attempt_at)`.as('m')).where('enabled', '=', 1).executeTakeFirstOrThrow();
      return row.m === null ? null : Number(row.m);
    },
  };
}
