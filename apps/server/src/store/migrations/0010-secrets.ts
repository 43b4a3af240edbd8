/** Migration 0010, tenants' secrets: one row per name, the value sealed (AES-256-GCM) by the server. */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const secrets: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('secrets')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('secrets_pk', ['tenant_id', 'name'])
      .execute();
  },
};
