/**
 * Migration 0020, snapshots: a tenant's snapshots of sandboxes — the node that keeps the files
 * (content-addressed there: `digest`), their size, and what the sandbox was made of.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const snapshots: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('snapshots')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('sandbox_id', 'text', (c) => c.notNull())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('image', 'text')
      .addColumn('runtime', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('snapshots_tenant').on('snapshots').columns(['tenant_id', 'created_at']).execute();
    await db.schema.createIndex('snapshots_node_digest').on('snapshots').columns(['node_id', 'digest']).execute();
  },
};
