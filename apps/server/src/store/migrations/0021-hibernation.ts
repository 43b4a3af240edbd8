/**
 * Migration 0021, hibernation and final snapshots: when a sandbox was hibernated (its memory saved
 * and freed by its node; null while awake), as its node reports it; and the snapshot its
 * termination kept of its files just before it ended (null: none).
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const hibernation: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sandboxes').addColumn('hibernated_at', 'bigint').execute();
    await db.schema.alterTable('sandboxes').addColumn('final_snapshot_id', 'text').execute();
    // Whether a snapshot kept memory and processes too (0/1).
    await db.schema.alterTable('snapshots').addColumn('memory', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
