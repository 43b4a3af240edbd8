/**
 * Migration 0005, retention and the tenant log quota: tenants get `max_log_bytes` (1 GiB) and
 * `log_bytes`, the bytes of run output they keep (backfilled from their runs); runs record why
 * output was dropped (`logs_dropped`, per stream) and when retention expired their logs;
 * `run_log_purges` lists expired runs whose chunks are still being deleted, in batches. Indexes
 * let the retention sweep find old runs and old audit rows without scanning.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** Default `max_log_bytes` of existing and new rows at the time of this migration: 1 GiB. */
const ONE_GIB = 1024 * 1024 * 1024;

async function tenantColumns(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('tenants')
    .addColumn('max_log_bytes', 'bigint', (c) => c.notNull().defaultTo(ONE_GIB))
    .execute();
  await db.schema
    .alterTable('tenants')
    .addColumn('log_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // The counter starts as what the tenant's runs keep; from here on it moves with every append
  // and every expiry, in their transactions.
  await sql`update tenants set log_bytes = coalesce(
    (select sum(runs.log_bytes) from runs where runs.tenant_id = tenants.id), 0)`.execute(db);
}

async function runColumns(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('logs_dropped', 'text').execute();
  for (const col of ['stdout_dropped', 'stderr_dropped']) {
    await db.schema
      .alterTable('runs')
      .addColumn(col, 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await db.schema.alterTable('runs').addColumn('logs_expired_at', 'bigint').execute();
  // Before this migration the only reason to drop output was the per-run cap.
  await sql`update runs set logs_dropped = 'run-cap' where logs_truncated = 1`.execute(db);
}

/** The migration. */
export const logRetention: Migration = {
  async up(db: Kysely<unknown>) {
    await tenantColumns(db);
    await runColumns(db);
    await db.schema
      .createTable('run_log_purges')
      .addColumn('run_id', 'text', (c) => c.primaryKey().references('runs.id').onDelete('cascade'))
      .execute();
    // Runs whose logs are still kept, by when they ended: the retention sweep's range scan.
    await db.schema
      .createIndex('runs_log_expiry')
      .on('runs')
      .columns(['logs_expired_at', 'ended_at'])
      .execute();
    await db.schema.createIndex('audit_at').on('audit').column('at').execute();
  },
};
