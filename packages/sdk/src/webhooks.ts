/**
 * Outbound webhooks: subscribe a URL to event types; the server POSTs each matching event to it,
 * signed, in bus order, retrying with backoff. Every call needs an admin key. A receiver checks a
 * delivery with `verifyWebhookSignature` (exported by the SDK from `@tartarus/core/base`).
 */
import type { Transport } from './http.js';
import type {
  CreateWebhookRequest,
  CreatedWebhook,
  ListOptions,
  Page,
  PatchWebhookRequest,
  Webhook,
  WebhookDelivery,
} from './types.js';

/** Webhooks API. */
export class Webhooks {
  constructor(private readonly transport: Transport) {}

  /**
   * Subscribes `url` to `types`; the returned `secret` (given, or generated as `whsec_…`) is shown
   * this once. `InvalidArgumentError` for a URL the destination rules refuse (loopback, private,
   * link-local/metadata, the server itself), naming the rule.
   */
  async create(request: CreateWebhookRequest): Promise<CreatedWebhook> {
    return this.transport.json('POST', '/v1/webhooks', { body: request });
  }

  /** The tenant's webhooks, oldest first. */
  async list(): Promise<Webhook[]> {
    return (await this.transport.json<{ items: Webhook[] }>('GET', '/v1/webhooks')).items;
  }

  /** One webhook; `NotFoundError` if the tenant has none of that id. */
  async get(id: string): Promise<Webhook> {
    return this.transport.json('GET', this.path(id));
  }

  /** Changes `url`, `types`, `enabled` or `secret`; enabling resumes after the last event it handled. */
  async update(id: string, patch: PatchWebhookRequest): Promise<Webhook> {
    return this.transport.json('PATCH', this.path(id), { body: patch });
  }

  /** Deletes a webhook and its delivery log. */
  async delete(id: string): Promise<void> {
    await this.transport.send('DELETE', this.path(id));
  }

  /** The delivery log, newest first (optionally only `pending`, `succeeded` or `failed` ones). */
  async deliveries(id: string, options: ListOptions & { state?: WebhookDelivery['state'] } = {}): Promise<Page<WebhookDelivery>> {
    return this.transport.json('GET', `${this.path(id)}/deliveries`, { query: { ...options } });
  }

  /** Sends a delivery's event again, now, as a new delivery; resolves with its result. `GoneError` once the event expired. */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.transport.json('POST', `${this.path(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`);
  }

  /** Sends a signed `ping` now; resolves with its delivery (status code, error, answer). */
  async ping(id: string): Promise<WebhookDelivery> {
    return this.transport.json('POST', `${this.path(id)}/ping`);
  }

  private path(id: string): string {
    return `/v1/webhooks/${encodeURIComponent(id)}`;
  }
}
