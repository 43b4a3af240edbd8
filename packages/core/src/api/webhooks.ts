/**
 * Schemas of `/v1/webhooks`: a tenant's outbound webhook subscriptions (a URL, the event types it
 * wants, a signing secret) and each one's delivery log. The server POSTs each matching event of
 * the bus to the URL, signed (`webhook-signature.ts`), at least once and in bus order, retrying
 * with backoff; a URL failing for `webhookDisableAfterMs` is disabled (event `webhook.disabled`).
 */
import { z } from 'zod';
import { IdSchema, LimitQuerySchema, TimestampSchema, pageOf } from './common.js';
import { EventTypeSchema } from './events.js';

/** Longest webhook URL, characters. */
export const WEBHOOK_URL_MAX = 2048;

/**
 * A webhook URL: `http://` or `https://`, without credentials or a fragment. Where it may point is
 * checked by the server (never metadata, loopback, link-local, the server's own addresses…).
 */
export const WebhookUrlSchema = z
  .string()
  .min(1, 'url must not be empty')
  .max(WEBHOOK_URL_MAX, `url must be at most ${WEBHOOK_URL_MAX} characters`)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'url must be an absolute http:// or https:// URL, e.g. https://hooks.example.com/tartarus' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: `url scheme ${url.protocol.replace(/:$/, '')} is not allowed: use https:// (or http://)` });
    else if (url.username !== '' || url.password !== '')
      ctx.addIssue({ code: 'custom', message: 'url must not carry credentials (user:password@): receivers check the Tartarus-Signature header instead' });
    else if (url.hash !== '') ctx.addIssue({ code: 'custom', message: 'url must not have a #fragment (it is never sent): remove it' });
  });

/** The event types a subscription wants: 1.. of them, each once. */
export const WebhookTypesSchema = z
  .array(EventTypeSchema)
  .min(1, 'types must name at least one event type (e.g. ["run.finished"])')
  .refine((t) => new Set(t).size === t.length, { message: 'types must not name an event type twice' });

/** A signing secret given by the caller: 16–256 printable ASCII characters. */
export const WebhookSecretSchema = z
  .string()
  .min(16, 'secret must have at least 16 characters (leave it out to get a generated one)')
  .max(256, 'secret must be at most 256 characters')
  .regex(/^[\x21-\x7e]+$/, 'secret must be printable ASCII without spaces');

/** A subscription, as the API shows it: never its secret. */
export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    types: z.array(EventTypeSchema),
    /** False once disabled (by a PATCH, or after failing for `webhookDisableAfterMs`); nothing is delivered then. */
    enabled: z.boolean(),
    /** Why it was disabled (`failing: …` with the last error, or `requested`); null while enabled. */
    disabledReason: z.string().nullable(),
    disabledAt: TimestampSchema.nullable(),
    /** Since when its deliveries have failed without a success in between; null when the last one succeeded. */
    failingSince: TimestampSchema.nullable(),
    /** The id of the last event of the bus it has handled (delivered, or not of its types). */
    lastEventId: z.string(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .meta({ id: 'Webhook' });
/** A webhook subscription. */
export type Webhook = z.infer<typeof WebhookSchema>;

/** POST /v1/webhooks body. Without `secret`, one is generated and shown this once. */
export const CreateWebhookRequestSchema = z
  .strictObject({ url: WebhookUrlSchema, types: WebhookTypesSchema, secret: WebhookSecretSchema.optional() })
  .meta({ id: 'CreateWebhookRequest' });
/** POST /v1/webhooks body. */
export type CreateWebhookRequest = z.input<typeof CreateWebhookRequestSchema>;

/** POST /v1/webhooks answer: the subscription and its signing secret, shown this once. */
export const CreatedWebhookSchema = WebhookSchema.extend({ secret: z.string() }).meta({ id: 'CreatedWebhook' });
/** POST /v1/webhooks answer. */
export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;

/**
 * PATCH /v1/webhooks/:id body: any of `url`, `types`, `enabled`, `secret` (replaces the signing
 * secret). Enabling resumes after the last event it handled; a new URL is tried at once.
 */
export const PatchWebhookRequestSchema = z
  .strictObject({ url: WebhookUrlSchema.optional(), types: WebhookTypesSchema.optional(), enabled: z.boolean().optional(), secret: WebhookSecretSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of url, types, enabled, secret' })
  .meta({ id: 'PatchWebhookRequest' });
/** PATCH /v1/webhooks/:id body. */
export type PatchWebhookRequest = z.input<typeof PatchWebhookRequestSchema>;

/** GET /v1/webhooks answer. */
export const WebhookListSchema = z.object({ items: z.array(WebhookSchema) }).meta({ id: 'WebhookList' });

/** `:id` of a webhook and `:deliveryId` of one of its deliveries. */
export const WebhookDeliveryParamsSchema = z.strictObject({ id: IdSchema, deliveryId: IdSchema });

/** How a delivery came to be: an event of the bus, a manual redelivery of one, or a ping. */
export const WEBHOOK_DELIVERY_KINDS = ['event', 'redelivery', 'ping'] as const;
/** A delivery's state: `pending` (an attempt is due at `nextAttemptAt`), `succeeded` (2xx), `failed` (given up). */
export const WEBHOOK_DELIVERY_STATES = ['pending', 'succeeded', 'failed'] as const;

/** One delivery: one event (or ping) to one subscription, with its attempts so far. */
export const WebhookDeliverySchema = z
  .object({
    /** Sent as `Tartarus-Delivery-Id`, the same on every attempt. */
    id: z.string(),
    webhookId: z.string(),
    kind: z.enum(WEBHOOK_DELIVERY_KINDS),
    /** The event's id; null for a ping. */
    eventId: z.string().nullable(),
    /** The event's type, or `ping`. */
    eventType: z.string(),
    objectId: z.string().nullable(),
    state: z.enum(WEBHOOK_DELIVERY_STATES),
    attempts: z.number().int(),
    /** The last attempt's HTTP status; null when no answer came (refused, timed out, unreachable). */
    lastStatusCode: z.number().int().nullable(),
    /** Why the last attempt failed; null after a success. */
    lastError: z.string().nullable(),
    /** The start of the last answer's body (at most 512 bytes as text). */
    responseExcerpt: z.string().nullable(),
    /** How long the last attempt took, ms. */
    durationMs: z.number().int().nullable(),
    createdAt: TimestampSchema,
    lastAttemptAt: TimestampSchema.nullable(),
    nextAttemptAt: TimestampSchema.nullable(),
    completedAt: TimestampSchema.nullable(),
    /** For a redelivery: the delivery it repeats. */
    redeliveryOf: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
/** One delivery of a webhook. */
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** GET /v1/webhooks/:id/deliveries query: pages newest first, optionally one `state`. */
export const WebhookDeliveriesQuerySchema = z.strictObject({
  limit: LimitQuerySchema,
  cursor: z.string().min(1).max(512).optional(),
  state: z.enum(WEBHOOK_DELIVERY_STATES, { error: 'state must be pending, succeeded or failed' }).optional(),
});
/** GET /v1/webhooks/:id/deliveries query. */
export type WebhookDeliveriesQuery = z.input<typeof WebhookDeliveriesQuerySchema>;

/** GET /v1/webhooks/:id/deliveries answer, newest first. */
export const WebhookDeliveryPageSchema = pageOf(WebhookDeliverySchema).meta({ id: 'WebhookDeliveryPage' });
/** A page of deliveries. */
export type WebhookDeliveryPage = z.infer<typeof WebhookDeliveryPageSchema>;
