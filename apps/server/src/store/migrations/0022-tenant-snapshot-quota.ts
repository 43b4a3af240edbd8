/**
 * Migration 0022, the tenant snapshot quota: tenants get `max_snapshot_bytes`, the bytes of
 * snapshots the tenant may keep. Null — every existing tenant, and a new one unless it sets it —
 * keeps the server's `maxSnapshotBytes`, the only limit before this migration.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const tenantSnapshotQuota: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('tenants').addColumn('max_snapshot_bytes', 'bigint').execute();
  },
};
