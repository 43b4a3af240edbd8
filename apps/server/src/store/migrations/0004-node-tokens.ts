/**
 * Migration 0004, node tokens: each agent token an admin issues is bound to one node id, so an
 * agent can only ever speak for its own node. Only the SHA-256 of a secret is stored (as for API
 * keys); a revoked token keeps its row, with `revoked_at`, for the listing.
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const nodeTokens: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('node_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('node_tokens_node').on('node_tokens').column('node_id').execute();
  },
};
