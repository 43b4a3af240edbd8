/** Tenants' named network (egress) policies, by (tenant, name). */
import { ConflictError, EgressSchema, NotFoundError } from '@tartarus/core';
import type { Selectable } from 'kysely';
import { isUniqueViolation } from './connect.js';
import type { StoreContext } from './context.js';
import type { NetworkPoliciesTable } from './schema.js';
import type { NetworkPolicyStore } from './store.js';
import { requireTenant } from './tenants.js';
import type { NetworkPolicy } from './types.js';

function toPolicy(r: Selectable<NetworkPoliciesTable>): NetworkPolicy {
  return {
    tenantId: r.tenant_id,
    name: r.name,
    egress: EgressSchema.parse(JSON.parse(r.egress_json)),
    description: r.description,
    createdAt: r.created_at,
  };
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`network policy ${JSON.stringify(name)} not found`, {
    context: { name },
  });
}

/** Builds the network-policy part of the store. */
export function createNetworkPolicyStore(ctx: StoreContext): NetworkPolicyStore {
  const { db } = ctx;
  const find = (tenantId: string, name: string) =>
    db
      .selectFrom('network_policies')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirst();
  return {
    async create(tenantId, options) {
      await requireTenant(db, tenantId);
      const row = {
        tenant_id: tenantId,
        name: options.name,
        egress_json: JSON.stringify(options.egress),
        description: options.description ?? '',
        created_at: ctx.now(),
      };
      try {
        await db.insertInto('network_policies').values(row).execute();
      } catch (error) {
        if (!isUniqueViolation(error, ctx.backend)) throw error;
        throw new ConflictError(
          `a network policy named ${JSON.stringify(options.name)} exists: delete it first, or choose another name`,
          {
            cause: error,
            context: { name: options.name },
          },
        );
      }
      return toPolicy(row);
    },

    async get(tenantId, name) {
      const row = await find(tenantId, name);
      if (row === undefined) throw notFound(name);
      return toPolicy(row);
    },

    async list(tenantId) {
      const rows = await db
        .selectFrom('network_policies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map(toPolicy);
    },

    async delete(tenantId, name) {
      const row = await find(tenantId, name);
      if (row === undefined) throw notFound(name);
      await db
        .deleteFrom('network_policies')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .execute();
      return toPolicy(row);
    },
  };
}
