/**
 * Migration 0023, final snapshots that outlive nothing: a deleted snapshot now clears the
 * `final_snapshot_id` of the sandbox that names it, in the delete's transaction. An index finds
 * that sandbox (only ended sandboxes with a final snapshot are in it), and the ids left naming
 * snapshots deleted before this migration are cleared here.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** The migration. */
export const finalSnapshotCleanup: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('sandboxes_final_snapshot')
      .on('sandboxes')
      .column('final_snapshot_id')
      .where(sql.ref('final_snapshot_id'), 'is not', null)
      .execute();
    await sql`update sandboxes set final_snapshot_id = null where final_snapshot_id is not null
      and not exists (select 1 from snapshots where snapshots.id = sandboxes.final_snapshot_id)`.execute(db);
  },
};
