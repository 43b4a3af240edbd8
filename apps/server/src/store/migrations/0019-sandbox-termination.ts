/**
 * Migration 0019, sandbox termination: a termination asked for with a delay (`POST
 * /v1/sandboxes/:id/terminate`) — when it begins, and its grace and reason — kept in the store so
 * that it happens whichever server replica is up then, and can be cancelled until it begins.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const sandboxTermination: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sandboxes').addColumn('terminate_at', 'bigint').execute();
    await db.schema.alterTable('sandboxes').addColumn('termination_json', 'text').execute();
  },
};
