/**
 * Schemas of `/v1/secrets`: a tenant's named secrets (tokens, signing keys) for its integrations,
 * webhooks and deployments (`$S:name`). Stored encrypted; the API never returns a value.
 */
import { z } from 'zod';
import { TimestampSchema } from './common.js';

/** A secret's name: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const SecretNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(128, 'name must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name must be letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. github-token)');

/** `:name` path parameter. */
export const SecretParamsSchema = z.strictObject({ name: SecretNameSchema });

/** PUT /v1/secrets/:name body. */
export const PutSecretRequestSchema = z
  .strictObject({
    value: z.string().min(1, 'value must not be empty').max(65_536, 'value must be at most 65536 characters'),
  })
  .meta({ id: 'PutSecretRequest' });
/** PUT /v1/secrets/:name body. */
export type PutSecretRequest = z.input<typeof PutSecretRequestSchema>;

/** A stored secret, as the API shows it: never its value. */
export const SecretSchema = z
  .object({ name: z.string(), createdAt: TimestampSchema, updatedAt: TimestampSchema })
  .meta({ id: 'Secret' });
/** A stored secret (never its value). */
export type Secret = z.infer<typeof SecretSchema>;

/** GET /v1/secrets response. */
export const SecretListSchema = z.object({ items: z.array(SecretSchema) }).meta({ id: 'SecretList' });
