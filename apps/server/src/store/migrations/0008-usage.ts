/**
 * Migration 0008, usage metering: one row per `usage` report of an agent (what a piece of work
 * consumed between two reports), with the tenant it is billed to resolved when it is stored. The
 * id is the report's own (`work:epoch:seq:at`), so a report delivered twice is stored once.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const usage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('usage_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('work_id', 'text', (c) => c.notNull())
      .addColumn('runtime', 'text', (c) => c.notNull())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('cpu_seconds', 'double precision', (c) => c.notNull())
      .addColumn('memory_gib_seconds', 'double precision', (c) => c.notNull())
      .addColumn('sandbox_seconds', 'double precision', (c) => c.notNull())
      .addColumn('egress_bytes', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('usage_records_tenant_at').on('usage_records').columns(['tenant_id', 'at']).execute();
    await db.schema.createIndex('usage_records_at').on('usage_records').column('at').execute();
  },
};
