/**
 * `/v1/webhooks`: the tenant's outbound webhook subscriptions, their delivery logs, manual
 * redelivery and pings. Every route is for admins: a webhook URL can carry a credential of its
 * receiver, and the delivery log shows the receivers' answers.
 */
import {
  CreatedWebhookSchema,
  CreateWebhookRequestSchema,
  IdParamsSchema,
  PatchWebhookRequestSchema,
  WebhookDeliveriesQuerySchema,
  WebhookDeliveryPageSchema,
  WebhookDeliveryParamsSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  type Webhook,
  type WebhookDelivery,
} from '@tartarus/core';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { iso, isoOrNull } from '../http/convert.js';
import type { DeliveryRecord, WebhookRecord } from '../store/webhooks.js';
import { createWebhook, ping, redeliver, updateWebhook } from '../webhooks/service.js';
import { errorResponses } from './common.js';
import type { RouteModule } from './types.js';

const tags = ['webhooks'];

/** A subscription as the API shows it (never its secret). */
export function webhookDto(w: WebhookRecord): Webhook {
  return {
    id: w.id,
    url: w.url,
    types: w.types,
    enabled: w.enabled,
    disabledReason: w.disabledReason,
    disabledAt: isoOrNull(w.disabledAt),
    failingSince: isoOrNull(w.failingSince),
    lastEventId: String(w.cursor),
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
  };
}

/** A delivery as the API shows it. */
export function deliveryDto(d: DeliveryRecord): WebhookDelivery {
  return {
    id: d.id,
    webhookId: d.webhookId,
    kind: d.kind,
    eventId: d.eventSeq === null ? null : String(d.eventSeq),
    eventType: d.eventType,
    objectId: d.objectId,
    state: d.state,
    attempts: d.attempts,
    lastStatusCode: d.lastStatus,
    lastError: d.lastError,
    responseExcerpt: d.responseExcerpt,
    durationMs: d.durationMs,
    createdAt: iso(d.createdAt),
    lastAttemptAt: isoOrNull(d.lastAttemptAt),
    nextAttemptAt: isoOrNull(d.nextAttemptAt),
    completedAt: isoOrNull(d.completedAt),
    redeliveryOf: d.redeliveryOf,
  };
}

/** Registers the webhook routes. */
export const webhookRoutes: RouteModule = (app, { ctx }) => {
  const { store } = ctx;
  const tenant = (req: Parameters<typeof principalOf>[0]) => principalOf(req).tenantId;

  app.post('/v1/webhooks', {
    config: { access: 'admin', audit: 'webhook.create' },
    schema: {
      tags,
      summary: 'Subscribe a URL to event types; the signing secret is returned this once',
      description:
        'The URL must reach a public address (never loopback, private, link-local/metadata or the server itself), checked now and at every delivery. Events of the given types that happen from now on are POSTed to it in bus order, signed (`Tartarus-Signature`), retried with backoff.',
      body: CreateWebhookRequestSchema,
      response: { 201: CreatedWebhookSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { webhook, secret } = await createWebhook(ctx, tenant(req), req.body);
      req.auditTarget = webhook.id;
      return reply.code(201).send({ ...webhookDto(webhook), secret });
    },
  });

  app.get('/v1/webhooks', {
    config: { access: 'admin' },
    schema: { tags, summary: "List the tenant's webhooks, oldest first", response: { 200: WebhookListSchema, ...errorResponses } },
    handler: async (req) => ({ items: (await store.webhooks.list(tenant(req))).map(webhookDto) }),
  });

  app.get('/v1/webhooks/:id', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Get a webhook', params: IdParamsSchema, response: { 200: WebhookSchema, ...errorResponses } },
    handler: async (req) => webhookDto(await store.webhooks.get(tenant(req), req.params.id)),
  });

  app.patch('/v1/webhooks/:id', {
    config: { access: 'admin', audit: 'webhook.update' },
    schema: {
      tags,
      summary: 'Change a webhook: url, types, enabled, secret',
      description: 'Disabling fails its pending delivery and emits `webhook.disabled`; enabling resumes after the last event it handled; a new URL is tried at once.',
      params: IdParamsSchema,
      body: PatchWebhookRequestSchema,
      response: { 200: WebhookSchema, ...errorResponses },
    },
    handler: async (req) => webhookDto(await updateWebhook(ctx, tenant(req), req.params.id, req.body)),
  });

  app.delete('/v1/webhooks/:id', {
    config: { access: 'admin', audit: 'webhook.delete' },
    schema: { tags, summary: 'Delete a webhook and its delivery log', params: IdParamsSchema, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await store.webhooks.delete(tenant(req), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.get('/v1/webhooks/:id/deliveries', {
    config: { access: 'admin' },
    schema: {
      tags,
      summary: "A webhook's delivery log, newest first",
      params: IdParamsSchema,
      querystring: WebhookDeliveriesQuerySchema,
      response: { 200: WebhookDeliveryPageSchema, ...errorResponses },
    },
    handler: async (req) => {
      const { limit, cursor, state } = req.query;
      const page = await store.webhooks.deliveries(tenant(req), req.params.id, {
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(state === undefined ? {} : { state }),
      });
      return { items: page.items.map(deliveryDto), nextCursor: page.nextCursor };
    },
  });

  app.post('/v1/webhooks/:id/deliveries/:deliveryId/redeliver', {
    config: { access: 'admin', audit: 'webhook.redeliver' },
    schema: {
      tags,
      summary: "Send a delivery's event again, now, as a new delivery; answers its result",
      description: 'One attempt, outside the bus order (it neither waits for nor moves the webhook). 410 when the event has expired.',
      params: WebhookDeliveryParamsSchema,
      response: { 201: WebhookDeliverySchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(deliveryDto(await redeliver(ctx, tenant(req), req.params.id, req.params.deliveryId))),
  });

  app.post('/v1/webhooks/:id/ping', {
    config: { access: 'admin', audit: 'webhook.ping' },
    schema: {
      tags,
      summary: 'Send a signed ping (`Tartarus-Event-Type: ping`) now; answers its result',
      params: IdParamsSchema,
      response: { 201: WebhookDeliverySchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(deliveryDto(await ping(ctx, tenant(req), req.params.id))),
  });
};
