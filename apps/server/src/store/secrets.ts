/** Tenants' secrets as the store keeps them: sealed values (the store never sees one in clear). */
import { NotFoundError } from '@tartarus/core';
import type { StoreContext } from './context.js';
import { requireTenant } from './tenants.js';

/** A stored secret, sealed. */
export interface SealedSecret {
  tenantId: string;
  name: string;
  sealed: string;
  createdAt: number;
  updatedAt: number;
}

/** Sealed secrets per tenant. */
export interface SecretStore {
  /** Creates or replaces; NotFoundError for an unknown tenant. */
  put(tenantId: string, name: string, sealed: string): Promise<SealedSecret>;
  /** NotFoundError when there is none of that name. */
  get(tenantId: string, name: string): Promise<SealedSecret>;
  /** By name. */
  list(tenantId: string): Promise<SealedSecret[]>;
  /** NotFoundError when there is none of that name. */
  delete(tenantId: string, name: string): Promise<void>;
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`secret ${name} not found: store it with PUT /v1/secrets/${name} (tartarus secrets set ${name})`, { context: { secret: name } });
}

/** Builds the secret part of the store. */
export function createSecretStore(ctx: StoreContext): SecretStore {
  const { db } = ctx;
  const toSecret = (r: { tenant_id: string; name: string; sealed: string; created_at: number; updated_at: number }): SealedSecret => ({
    tenantId: r.tenant_id,
    name: r.name,
    sealed: r.sealed,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  });
  return {
    async put(tenantId, name, sealed) {
      await requireTenant(db, tenantId);
      const now = ctx.now();
      await db
        .insertInto('secrets')
        .values({ tenant_id: tenantId, name, sealed, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ sealed, updated_at: now }))
        .execute();
      return this.get(tenantId, name);
    },
    async get(tenantId, name) {
      const row = await db.selectFrom('secrets').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      if (row === undefined) throw notFound(name);
      return toSecret(row);
    },
    async list(tenantId) {
      return (await db.selectFrom('secrets').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toSecret);
    },
    async delete(tenantId, name) {
      const r = await db.deleteFrom('secrets').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      if (r.numDeletedRows === 0n) throw notFound(name);
    },
  };
}
