/**
 * Migration 0016, what a deployment's events have told: per run, whether its start and its end
 * were told (`told`: null, `started`, `ended`), and per deployment, which `depends` conditions
 * were last told as met. The controller compares the runs and conditions it sees with these and
 * emits an event for each change, in the transaction that moves the mark, so a change is told
 * once however many server replicas lead in turn. Runs that ended before count as told.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** The migration. */
export const deploymentEvents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployment_runs').addColumn('told', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('dependencies_told_json', 'text').execute();
    await sql`update deployment_runs set told = 'ended' where run_id in (select id from runs where ended_at is not null)`.execute(db);
    await db.schema.createIndex('deployment_runs_told').on('deployment_runs').columns(['deployment_id', 'told']).execute();
  },
};
