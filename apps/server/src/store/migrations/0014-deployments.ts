/**
 * Migration 0014, deployments: each tenant's deployments (the spec as written, the compiled plan,
 * a revision bumped on every change, the desired replicas per service, and a lease so that of
 * several server replicas one at a time runs its controller), and the runs each started (a
 * service's replicas, a job's triggers, a cron's ticks — the tick's time makes it unique).
 */
import type { Kysely, Migration } from 'kysely';

/** The migration. */
export const deployments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('spec_text', 'text', (c) => c.notNull())
      .addColumn('plan_json', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('replicas_json', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('deployments_tenant_name', ['tenant_id', 'name'])
      .execute();
    await db.schema
      .createTable('deployment_runs')
      .addColumn('run_id', 'text', (c) => c.primaryKey().references('runs.id').onDelete('cascade'))
      .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('tick', 'bigint')
      .addColumn('health', 'text', (c) => c.notNull().defaultTo('unknown'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deployment_runs_service').on('deployment_runs').columns(['deployment_id', 'service', 'created_at']).execute();
  },
};
