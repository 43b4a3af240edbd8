/**
 * Migration 0003, images: tenants' own templates (pulled from a registry or built from a
 * Dockerfile, whose build context is kept for rebuilds) and their registry credentials. The
 * context is `bytea`: PostgreSQL's byte string; SQLite takes any type name and stores the bytes
 * as a BLOB unchanged.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const templates: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('templates')
      .addColumn('tenant_id', 'text', (c) =>
        c.notNull().references('tenants.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('image', 'text', (c) => c.notNull())
      .addColumn('digest', 'text')
      .addColumn('size_bytes', 'bigint')
      .addColumn('config_json', 'text')
      .addColumn('dockerfile', 'text')
      .addColumn('context', 'bytea')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('built_at', 'bigint')
      .addPrimaryKeyConstraint('templates_pk', ['tenant_id', 'name'])
      .execute();
    await db.schema
      .createTable('registry_credentials')
      .addColumn('tenant_id', 'text', (c) =>
        c.notNull().references('tenants.id').onDelete('cascade'),
      )
      .addColumn('registry', 'text', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('password', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('registry_credentials_pk', ['tenant_id', 'registry'])
      .execute();
  },
};
