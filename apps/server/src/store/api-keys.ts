/** API keys. Only the SHA-256 of a secret is stored; a secret is shown once, at creation. */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { StoreContext } from './context.js';
import { toApiKey } from './rows.js';
import { requireTenant } from './tenants.js';
import type { ApiKeyStore } from './store.js';
import type { Role } from './types.js';
import { newestFirstPage, newId, sha256 } from './util.js';

/** `lastUsedAt` is rewritten at most this often, so verifying a key is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Characters of the secret kept for display. */
const PREFIX_LENGTH = 11;
const ROLES: readonly Role[] = ['admin', 'member', 'viewer'];

/** Hash of a secret as stored in `api_keys.secret_hash`. */
function hashSecret(secret: string): string {
  return sha256(secret);
}

/** Builds the API-key part of the store. */
export function createApiKeyStore(ctx: StoreContext): ApiKeyStore {
  const { db } = ctx;
  return {
    async create(tenantId, options) {
      if (!ROLES.includes(options.role))
        throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
      if (options.secret !== undefined && options.secret.length < 16) {
        throw new InvalidArgumentError('an API key secret must have at least 16 characters');
      }
      await requireTenant(db, tenantId);
      const secret = options.secret ?? `tt_${randomBytes(32).toString('base64url')}`;
      const row = {
        id: newId('key'),
        tenant_id: tenantId,
        name: options.name,
        role: options.role,
        secret_hash: hashSecret(secret),
        prefix: secret.slice(0, PREFIX_LENGTH),
        created_at: ctx.now(),
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto('api_keys').values(row).execute();
      return { key: toApiKey(row), secret };
    },

    async verify(secret) {
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('secret_hash', '=', hashSecret(secret))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined) return null;
      const now = ctx.now();
      if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
        await db
          .updateTable('api_keys')
          .set({ last_used_at: now })
          .where('id', '=', row.id)
          .execute();
        row.last_used_at = now;
      }
      return toApiKey(row);
    },

    list: (tenantId, options) =>
      newestFirstPage(
        db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId),
        'created_at',
        options,
        toApiKey,
      ),

    async revoke(tenantId, keyId) {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: ctx.now() })
        .where('id', '=', keyId)
        .where('tenant_id', '=', tenantId)
        .where('revoked_at', 'is', null)
        .execute();
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', keyId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (row === undefined)
        throw new NotFoundError(`API key ${keyId} not found`, { context: { keyId } });
      return toApiKey(row);
    },
  };
}
