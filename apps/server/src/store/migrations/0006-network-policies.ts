/**
 * Migration 0006, network policies: a tenant's named egress policies (attached to sandboxes and
 * runs by name, resolved when the work is compiled), and the tenant's network settings — the
 * default egress of its sandboxes and of its runs, and the most any of its work may reach. Each
 * egress is JSON (`"none"`, `"all"` or an allow list); a null setting takes the platform's.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const networkPolicies: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('network_policies')
      .addColumn('tenant_id', 'text', (c) =>
        c.notNull().references('tenants.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('egress_json', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('network_policies_pk', ['tenant_id', 'name'])
      .execute();
    for (const col of [
      'default_sandbox_egress_json',
      'default_run_egress_json',
      'max_egress_json',
    ]) {
      await db.schema.alterTable('tenants').addColumn(col, 'text').execute();
    }
  },
};
