/**
 * Migration 0013, integrations: each tenant's config of each plugin, plugins' small per-tenant
 * state (and the keys of deliveries already seen, for deduplication), and the cursors of the
 * event bus's in-process consumers (a plugin's subscription), each with a lease so that of several
 * server replicas one at a time consumes.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const integrations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('integration_configs')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('plugin', 'text', (c) => c.notNull())
      .addColumn('config_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('integration_configs_pk', ['tenant_id', 'plugin'])
      .execute();
    await db.schema
      .createTable('integration_state')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('plugin', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('integration_state_pk', ['tenant_id', 'plugin', 'key'])
      .execute();
    await db.schema
      .createTable('event_cursors')
      .addColumn('consumer', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .execute();
  },
};
