/**
 * Making one attempt of a delivery, the same way for the dispatcher (events in bus order) and the
 * API (a manual redelivery, a ping): the body and headers, signed with the subscription's secret
 * (opened from its sealed form only here), sent through the destination rules, counted in
 * `tartarus_webhook_deliveries_total`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { formatWebhookSignature, WEBHOOK_HEADERS } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { StoredEvent } from '../store/events.js';
import type { DeliveryRecord, WebhookRecord } from '../store/webhooks.js';
import { eventDto } from '../routes/events.js';
import { sendWebhook, type SendResult } from './send.js';

/** What a webhook's secret is sealed bound to: it opens for that webhook only. */
export const secretBinding = (webhookId: string): string => `webhook/${webhookId}`;

/** A new signing secret: `whsec_` and 32 random bytes, base64url. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** `Tartarus-Signature` of `body` at `nowMs` with `secret` (`t=…,v1=…`; `webhook-signature.ts` in core). */
export function signWebhook(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return formatWebhookSignature(t, [createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')]);
}

/** The body of an event delivery: the event exactly as `GET /v1/events` shows it. */
export function eventBody(event: StoredEvent): string {
  return JSON.stringify(eventDto(event));
}

/** The body of a ping. */
export function pingBody(webhook: WebhookRecord, nowMs: number): string {
  return JSON.stringify({ type: 'ping', webhookId: webhook.id, url: webhook.url, at: new Date(nowMs).toISOString() });
}

/**
 * Attempts `delivery` (its `attempts` so far are counted; this is the next) of `body` to
 * `webhook`. Never throws: a secret that does not open is a failed attempt like any other.
 */
export async function attemptDelivery(ctx: ServerContext, webhook: WebhookRecord, delivery: DeliveryRecord, body: string, signal?: AbortSignal): Promise<SendResult> {
  const at = Date.now();
  let secret: string;
  try {
    secret = ctx.secrets.open(webhook.sealedSecret, secretBinding(webhook.id));
  } catch (err) {
    ctx.metrics.webhookDeliveries.inc({ outcome: 'not_sent' });
    return { outcome: 'not_sent', at, ok: false, statusCode: null, error: `not sent: ${(err as Error).message}`, excerpt: null, durationMs: 0 };
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Tartarus-Webhooks/1',
    [WEBHOOK_HEADERS.signature]: signWebhook(secret, body, at),
    [WEBHOOK_HEADERS.eventType]: delivery.eventType,
    [WEBHOOK_HEADERS.deliveryId]: delivery.id,
    [WEBHOOK_HEADERS.attempt]: String(delivery.attempts + 1),
    [WEBHOOK_HEADERS.webhookId]: webhook.id,
    ...(delivery.eventSeq === null ? {} : { [WEBHOOK_HEADERS.eventId]: String(delivery.eventSeq) }),
  };
  const { config } = ctx;
  const r = await sendWebhook({
    url: webhook.url,
    body,
    headers,
    timeoutMs: config.webhookTimeoutMs,
    policy: { allowed: config.webhookAllowedDestinations, listenHost: config.host },
    signal,
  });
  ctx.metrics.webhookDeliveries.inc({ outcome: r.outcome });
  return r;
}
