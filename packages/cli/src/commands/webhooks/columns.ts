/** How the webhook commands print subscriptions and deliveries. */
import type { Webhook, WebhookDelivery } from '@tartarus/sdk';
import { ago } from '../../output.js';

/** A webhook's state in one word: `enabled`, `failing` (since …) or `disabled`. */
export function webhookState(w: Webhook): string {
  if (!w.enabled) return 'disabled';
  return w.failingSince === null ? 'enabled' : `failing ${ago(w.failingSince)}`;
}

/** The columns of a webhook table. */
export const WEBHOOK_COLUMNS = [
  { header: 'id', get: (w: Webhook) => w.id },
  { header: 'url', get: (w: Webhook) => w.url },
  { header: 'types', get: (w: Webhook) => w.types.join(',') },
  { header: 'state', get: webhookState },
  { header: 'created', get: (w: Webhook) => ago(w.createdAt) },
];

/** The columns of a delivery table. */
export const DELIVERY_COLUMNS = [
  { header: 'id', get: (d: WebhookDelivery) => d.id },
  { header: 'event', get: (d: WebhookDelivery) => `${d.eventId ?? '-'} ${d.eventType}` },
  { header: 'object', get: (d: WebhookDelivery) => d.objectId ?? '' },
  { header: 'state', get: (d: WebhookDelivery) => d.state },
  { header: 'attempts', get: (d: WebhookDelivery) => String(d.attempts) },
  { header: 'last', get: (d: WebhookDelivery) => (d.lastError ?? (d.lastStatusCode === null ? '' : `HTTP ${d.lastStatusCode}`)) },
  { header: 'next', get: (d: WebhookDelivery) => (d.nextAttemptAt === null ? '' : d.nextAttemptAt) },
  { header: 'created', get: (d: WebhookDelivery) => ago(d.createdAt) },
];
