/**
 * Migration 0021, hibernation: when a sandbox was hibernated (its memory saved and freed by its
 * node; null while awake), as its node reports it.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const hibernation: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sandboxes').addColumn('hibernated_at', 'bigint').execute();
  },
};
