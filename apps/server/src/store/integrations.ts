/**
 * Integrations in the store: each tenant's config of each plugin, the plugins' small state per
 * tenant (and the delivery keys already seen), and the leased cursors of the bus's in-process
 * consumers (`integrations/dispatch.ts`).
 */
import { sql } from 'kysely';
import { inTransaction, lockRows, type StoreContext } from './context.js';

/** The integration part of the store. */
export interface IntegrationStore {
  /** The tenant's config of `plugin` (as stored JSON), or null. */
  getConfig(tenantId: string, plugin: string): Promise<unknown>;
  putConfig(tenantId: string, plugin: string, config: unknown): Promise<void>;
  /** False when there was none. */
  deleteConfig(tenantId: string, plugin: string): Promise<boolean>;
  /** The tenants that configured `plugin`. */
  tenantsWith(plugin: string): Promise<string[]>;
  getState(tenantId: string, plugin: string, key: string): Promise<unknown>;
  putState(tenantId: string, plugin: string, key: string, value: unknown): Promise<void>;
  deleteState(tenantId: string, plugin: string, key: string): Promise<void>;
  /** True the first time `key` is seen for the tenant and plugin (atomically, across replicas). */
  firstTime(tenantId: string, plugin: string, key: string): Promise<boolean>;
  /**
   * Takes `consumer`'s cursor for `owner` until `leaseMs` from now (made at `startSeq` when it
   * does not exist); null while another owner's lease runs. Returns where the consumer is.
   */
  claimCursor(consumer: string, owner: string, leaseMs: number, startSeq: number): Promise<number | null>;
  /** Moves the cursor to `seq` and extends the lease; false when `owner` no longer holds it. */
  advanceCursor(consumer: string, owner: string, seq: number, leaseMs: number): Promise<boolean>;
  /** Lets go of the cursor (another replica may take it at once). */
  releaseCursor(consumer: string, owner: string): Promise<void>;
}

/** Builds the integration part of the store. */
export function createIntegrationStore(ctx: StoreContext): IntegrationStore {
  const { db } = ctx;
  const stateRow = (tenantId: string, plugin: string, key: string) =>
    db.selectFrom('integration_state').select('value_json').where('tenant_id', '=', tenantId).where('plugin', '=', plugin).where('key', '=', key);
  return {
    async getConfig(tenantId, plugin) {
      const row = await db.selectFrom('integration_configs').select('config_json').where('tenant_id', '=', tenantId).where('plugin', '=', plugin).executeTakeFirst();
      return row === undefined ? null : (JSON.parse(row.config_json) as unknown);
    },
    async putConfig(tenantId, plugin, config) {
      const config_json = JSON.stringify(config);
      const now = ctx.now();
      await db
        .insertInto('integration_configs')
        .values({ tenant_id: tenantId, plugin, config_json, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'plugin']).doUpdateSet({ config_json, updated_at: now }))
        .execute();
    },
    async deleteConfig(tenantId, plugin) {
      const r = await db.deleteFrom('integration_configs').where('tenant_id', '=', tenantId).where('plugin', '=', plugin).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
    async tenantsWith(plugin) {
      return (await db.selectFrom('integration_configs').select('tenant_id').where('plugin', '=', plugin).execute()).map((r) => r.tenant_id);
    },
    async getState(tenantId, plugin, key) {
      const row = await stateRow(tenantId, plugin, key).executeTakeFirst();
      return row === undefined ? null : (JSON.parse(row.value_json) as unknown);
    },
    async putState(tenantId, plugin, key, value) {
      const value_json = JSON.stringify(value);
      const now = ctx.now();
      await db
        .insertInto('integration_state')
        .values({ tenant_id: tenantId, plugin, key, value_json, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'plugin', 'key']).doUpdateSet({ value_json, updated_at: now }))
        .execute();
    },
    async deleteState(tenantId, plugin, key) {
      await db.deleteFrom('integration_state').where('tenant_id', '=', tenantId).where('plugin', '=', plugin).where('key', '=', key).execute();
    },
    async firstTime(tenantId, plugin, key) {
      const r = await db
        .insertInto('integration_state')
        .values({ tenant_id: tenantId, plugin, key: `seen:${key}`, value_json: 'true', updated_at: ctx.now() })
        .onConflict((oc) => oc.columns(['tenant_id', 'plugin', 'key']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    claimCursor: (consumer, owner, leaseMs, startSeq) =>
      inTransaction(ctx, async (trx) => {
        const now = ctx.now();
        await trx
          .insertInto('event_cursors')
          .values({ consumer, seq: startSeq, lease_owner: null, lease_until: null })
          .onConflict((oc) => oc.column('consumer').doNothing())
          .execute();
        const row = await lockRows(ctx, trx.selectFrom('event_cursors').selectAll().where('consumer', '=', consumer)).executeTakeFirstOrThrow();
        const held = row.lease_owner !== null && row.lease_owner !== owner && Number(row.lease_until ?? 0) > now;
        if (held) return null;
        await trx.updateTable('event_cursors').set({ lease_owner: owner, lease_until: now + leaseMs }).where('consumer', '=', consumer).execute();
        return Number(row.seq);
      }),
    async advanceCursor(consumer, owner, seq, leaseMs) {
      const r = await db
        .updateTable('event_cursors')
        .set({ seq: sql`case when seq > ${seq} then seq else ${seq} end`, lease_until: ctx.now() + leaseMs })
        .where('consumer', '=', consumer)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async releaseCursor(consumer, owner) {
      await db.updateTable('event_cursors').set({ lease_owner: null, lease_until: null }).where('consumer', '=', consumer).where('lease_owner', '=', owner).execute();
    },
  };
}
