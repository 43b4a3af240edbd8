/**
 * Tenants' registry credentials. The password is stored as given (the store is the control
 * plane's secret store, like the agent tokens in its config) and leaves it only through `login`
 * and `logins`, for a pull or build; listings never select it.
 */
import { NotFoundError } from '@tartarus/core';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.js';
import type { RegistryCredentialsTable } from './schema.js';
import type { RegistryCredentialStore } from './store.js';
import { requireTenant } from './tenants.js';
import type { RegistryCredential, RegistryLogin } from './types.js';

/** Docker Hub's other names, all stored as `docker.io` (the registry `parseImageRef` gives its images). */
const DOCKER_HUB_ALIASES = new Set([
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** The key credentials are stored under: the host lowercased (hosts are case-insensitive), Docker Hub as `docker.io`. */
export function registryKey(registry: string): string {
  const r = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(r) ? 'docker.io' : r;
}

function toCredential(
  r: Omit<Selectable<RegistryCredentialsTable>, 'password'>,
): RegistryCredential {
  return {
    tenantId: r.tenant_id,
    registry: r.registry,
    username: r.username,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const LISTED = ['tenant_id', 'registry', 'username', 'created_at', 'updated_at'] as const;

/** Builds the registry-credential part of the store. */
export function createRegistryCredentialStore(ctx: StoreContext): RegistryCredentialStore {
  const { db } = ctx;
  return {
    async put(tenantId, registry, login) {
      await requireTenant(db, tenantId);
      const now = ctx.now();
      const key = registryKey(registry);
      await db
        .insertInto('registry_credentials')
        .values({
          tenant_id: tenantId,
          registry: key,
          username: login.username,
          password: login.password,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['tenant_id', 'registry'])
            .doUpdateSet({ username: login.username, password: login.password, updated_at: now }),
        )
        .execute();
      const row = await db
        .selectFrom('registry_credentials')
        .select(LISTED)
        .where('tenant_id', '=', tenantId)
        .where('registry', '=', key)
        .executeTakeFirstOrThrow();
      return toCredential(row);
    },

    async list(tenantId) {
      const rows = await db
        .selectFrom('registry_credentials')
        .select(LISTED)
        .where('tenant_id', '=', tenantId)
        .orderBy('registry')
        .execute();
      return rows.map(toCredential);
    },

    async login(tenantId, registry) {
      const row = await db
        .selectFrom('registry_credentials')
        .select(['username', 'password'])
        .where('tenant_id', '=', tenantId)
        .where('registry', '=', registryKey(registry))
        .executeTakeFirst();
      return row === undefined ? null : { username: row.username, password: row.password };
    },

    async logins(tenantId) {
      const rows = await db
        .selectFrom('registry_credentials')
        .select(['registry', 'username', 'password'])
        .where('tenant_id', '=', tenantId)
        .execute();
      const out: Record<string, RegistryLogin> = {};
      for (const r of rows) out[r.registry] = { username: r.username, password: r.password };
      return out;
    },

    async delete(tenantId, registry) {
      const r = await db
        .deleteFrom('registry_credentials')
        .where('tenant_id', '=', tenantId)
        .where('registry', '=', registryKey(registry))
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0)
        throw new NotFoundError(`no credentials stored for registry ${registry}`, {
          context: { registry },
        });
    },
  };
}
