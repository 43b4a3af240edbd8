/**
 * Migration 0011, outbound webhooks: `webhooks` (a tenant's subscriptions, each with its cursor over
 * the event bus, the schedule of its head delivery and the lease of the replica delivering it) and
 * `webhook_deliveries` (the delivery log: one row per delivery, its attempts counted on it).
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** The migration. */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('types_json', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      // The last `events.seq` handled: delivered, or not one of its types.
      .addColumn('cursor', 'bigint', (c) => c.notNull())
      // The head delivery (the event after the cursor being delivered) and when its attempt is due.
      .addColumn('head_delivery_id', 'text')
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('failing_since', 'bigint')
      .addColumn('disabled_at', 'bigint')
      .addColumn('disabled_reason', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhooks_tenant').on('webhooks').columns(['tenant_id', 'created_at']).execute();
    await db.schema.createIndex('webhooks_due').on('webhooks').columns(['enabled', 'next_attempt_at']).execute();

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('event_seq', 'bigint')
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('response_excerpt', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('completed_at', 'bigint')
      .addColumn('redelivery_of', 'text')
      .execute();
    await db.schema.createIndex('webhook_deliveries_log').on('webhook_deliveries').columns(['webhook_id', 'created_at', 'id']).execute();
    await db.schema
      .createIndex('webhook_deliveries_done')
      .on('webhook_deliveries')
      .column('completed_at')
      .where(sql.ref('completed_at'), 'is not', null)
      .execute();
  },
};
