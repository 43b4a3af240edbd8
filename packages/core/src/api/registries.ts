/** Schemas of `/v1/registries`: a tenant's credentials for private image registries. */
import { z } from 'zod';
import { TimestampSchema } from './common.js';

/**
 * A registry as image references name it: `host[:port]` (`ghcr.io`, `127.0.0.1:5000`,
 * `[::1]:5000`). Docker Hub is `docker.io`.
 */
export const RegistryHostSchema = z
  .string()
  .min(1, 'registry must not be empty')
  .max(255, 'registry must be at most 255 characters')
  .regex(
    /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/,
    'registry must be a host[:port] as in an image reference, e.g. ghcr.io, docker.io or 127.0.0.1:5000',
  );

/** `:registry` path parameter. */
export const RegistryParamsSchema = z.strictObject({ registry: RegistryHostSchema });

/** PUT /v1/registries/:registry/credentials body. The password is stored, never shown again. */
export const PutRegistryCredentialsRequestSchema = z
  .strictObject({
    username: z
      .string()
      .min(1, 'username must not be empty')
      .max(256, 'username must be at most 256 characters'),
    /** A password or access token. */
    password: z
      .string()
      .min(1, 'password must not be empty')
      .max(8192, 'password must be at most 8192 characters'),
  })
  .meta({ id: 'PutRegistryCredentialsRequest' });
/** PUT /v1/registries/:registry/credentials body. */
export type PutRegistryCredentialsRequest = z.input<typeof PutRegistryCredentialsRequestSchema>;

/** Stored credentials for one registry (never the password). */
export const RegistryCredentialSchema = z
  .object({
    registry: z.string(),
    username: z.string(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .meta({ id: 'RegistryCredential' });
/** Stored credentials for one registry. */
export type RegistryCredential = z.infer<typeof RegistryCredentialSchema>;

/** GET /v1/registries response. */
export const RegistryCredentialListSchema = z
  .object({ items: z.array(RegistryCredentialSchema) })
  .meta({ id: 'RegistryCredentialList' });
