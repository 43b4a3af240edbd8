/**
 * What the webhook routes do beyond the store: a URL is checked against the destination rules
 * when it is given (and again at every delivery), a secret is generated when none is given and
 * stored sealed, and a manual redelivery or a ping is attempted once, right away, outside the
 * subscription's order (it neither waits for nor moves its cursor).
 */
import { GoneError, InvalidArgumentError, newId, type CreateWebhookRequest, type EventType, type PatchWebhookRequest } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { DeliveryRecord, WebhookRecord } from '../store/webhooks.js';
import { attemptDelivery, eventBody, newWebhookSecret, pingBody, secretBinding } from './deliver.js';
import { checkWebhookUrl } from './destination.js';

function policyOf(ctx: ServerContext) {
  return { allowed: ctx.config.webhookAllowedDestinations, listenHost: ctx.config.host };
}

/** Creates a subscription; the secret (given, or generated) is returned this once. */
export async function createWebhook(ctx: ServerContext, tenantId: string, body: CreateWebhookRequest): Promise<{ webhook: WebhookRecord; secret: string }> {
  await checkWebhookUrl(body.url, policyOf(ctx));
  const id = newId('whk');
  const secret = body.secret ?? newWebhookSecret();
  const webhook = await ctx.store.webhooks.create({
    id,
    tenantId,
    url: body.url,
    types: body.types as EventType[],
    sealedSecret: ctx.secrets.seal(secret, secretBinding(id)),
  });
  return { webhook, secret };
}

/** Changes a subscription (a new URL is checked first). */
export async function updateWebhook(ctx: ServerContext, tenantId: string, id: string, body: PatchWebhookRequest): Promise<WebhookRecord> {
  if (body.url !== undefined) await checkWebhookUrl(body.url, policyOf(ctx));
  return ctx.store.webhooks.update(tenantId, id, {
    url: body.url,
    types: body.types as EventType[] | undefined,
    enabled: body.enabled,
    sealedSecret: body.secret === undefined ? undefined : ctx.secrets.seal(body.secret, secretBinding(id)),
  });
}

/**
 * Sends the event of delivery `deliveryId` again as a new delivery (`redeliveryOf` it), once,
 * now; answers that delivery with its result. GoneError when the event has expired.
 */
export async function redeliver(ctx: ServerContext, tenantId: string, webhookId: string, deliveryId: string): Promise<DeliveryRecord> {
  const { store } = ctx;
  const webhook = await store.webhooks.get(tenantId, webhookId);
  const original = await store.webhooks.getDelivery(tenantId, webhookId, deliveryId);
  if (original.eventSeq === null)
    throw new InvalidArgumentError(`delivery ${deliveryId} is a ping, which has no event to deliver again: use POST /v1/webhooks/${webhookId}/ping`);
  const [event] = await store.events.list({ after: original.eventSeq - 1, tenantId, limit: 1 });
  if (event === undefined || event.seq !== original.eventSeq)
    throw new GoneError(`event ${original.eventSeq} of delivery ${deliveryId} has expired (events are kept eventRetentionMs): it cannot be delivered again`);
  const d = await store.webhooks.createManualDelivery(tenantId, webhookId, {
    kind: 'redelivery',
    eventSeq: event.seq,
    eventType: event.type,
    objectId: event.objectId,
    redeliveryOf: original.id,
  });
  const r = await attemptDelivery(ctx, webhook, d, eventBody(event));
  return store.webhooks.recordManualAttempt(d.id, r);
}

/** Sends a `ping` (no event; `Tartarus-Event-Type: ping`) once, now; answers its delivery. */
export async function ping(ctx: ServerContext, tenantId: string, webhookId: string): Promise<DeliveryRecord> {
  const webhook = await ctx.store.webhooks.get(tenantId, webhookId);
  const d = await ctx.store.webhooks.createManualDelivery(tenantId, webhookId, { kind: 'ping', eventSeq: null, eventType: 'ping', objectId: null, redeliveryOf: null });
  const r = await attemptDelivery(ctx, webhook, d, pingBody(webhook, Date.now()));
  return ctx.store.webhooks.recordManualAttempt(d.id, r);
}
