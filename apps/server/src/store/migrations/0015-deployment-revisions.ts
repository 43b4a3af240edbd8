/**
 * Migration 0015, deployment revisions: every revision's spec and plan, kept so that a rolling
 * update whose new replicas never become healthy rolls back to the revision still serving (its
 * plan is what the old replicas run). Revisions of deployments made before are copied in.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** The migration. */
export const deploymentRevisions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('deployment_revisions')
      .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('spec_text', 'text', (c) => c.notNull())
      .addColumn('plan_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('deployment_revisions_pk', ['deployment_id', 'revision'])
      .execute();
    await sql`insert into deployment_revisions (deployment_id, revision, spec_text, plan_json, created_at) select id, revision, spec_text, plan_json, updated_at from deployments`.execute(db);
  },
};
