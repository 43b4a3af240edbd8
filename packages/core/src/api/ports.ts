/** Schemas of a sandbox's port URLs and access tokens (the server's port proxy). */
import { z } from 'zod';
import { durationMsSchema, IdSchema, TimestampSchema } from './common.js';

/** Longest access-token lifetime: 7 days. */
export const MAX_ACCESS_TOKEN_TTL_MS = 7 * 86_400_000;

/** GET /v1/sandboxes/:id/urls/:port params. */
export const SandboxPortParamsSchema = z.strictObject({
  id: IdSchema,
  port: z.coerce
    .number({ error: 'port must be a number 1..65535' })
    .int('port must be a whole number')
    .min(1, 'port must be 1..65535')
    .max(65535, 'port must be 1..65535'),
});

/** Where a sandbox's port is reached through the proxy. */
export const PortUrlSchema = z
  .object({
    sandboxId: z.string(),
    port: z.number().int(),
    /** Path-based: `<server>/v1/sandboxes/ID/ports/PORT/`. */
    url: z.string(),
    /** Host-based (`PORT-ID.<domain>`), when the server has a proxy domain; else null. */
    hostUrl: z.string().nullable(),
    /** Reachable without a key or token. */
    public: z.boolean(),
  })
  .meta({ id: 'PortUrl' });
/** A port's URLs. */
export type PortUrl = z.infer<typeof PortUrlSchema>;

/** POST /v1/sandboxes/:id/access-tokens body. */
export const CreateAccessTokenRequestSchema = z
  .strictObject({
    /** Lifetime, 1 s..7 days; default 1 hour. */
    ttlMs: durationMsSchema('ttlMs', 1000, MAX_ACCESS_TOKEN_TTL_MS).optional(),
  })
  .meta({ id: 'CreateAccessTokenRequest' });

/** An access token to one sandbox's ports. */
export const AccessTokenSchema = z
  .object({
    sandboxId: z.string(),
    /** Send as `X-Tartarus-Access-Token: <token>` or `?tt_token=<token>`. */
    token: z.string(),
    expiresAt: TimestampSchema,
  })
  .meta({ id: 'AccessToken' });
/** An access token. */
export type AccessToken = z.infer<typeof AccessTokenSchema>;
