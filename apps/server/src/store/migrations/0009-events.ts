/**
 * Migration 0009, the event bus's outbox: one row per state change, inserted in the transaction of
 * the change. `id` comes from the database's own counter at insert (per object it follows commit
 * order: writers of one object hold its row lock); `seq` is given later by the sequencer in one
 * serialized transaction, so readers that page by `seq` never skip a row that committed late.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { PostgresAdapter } from 'kysely';

/** The migration. */
export const events: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('events')
      .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('seq', 'bigint', (c) => c.unique())
      // No foreign key: node events belong to the platform (the bootstrap tenant's id), and a
      // deleted tenant's events stay until they expire, as history.
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('data_json', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_unsequenced').on('events').column('id').where(sql.ref('seq'), 'is', null).execute();
    await db.schema.createIndex('events_tenant_seq').on('events').columns(['tenant_id', 'seq']).execute();
    await db.schema.createIndex('events_object_seq').on('events').columns(['object_id', 'seq']).execute();
  },
};
