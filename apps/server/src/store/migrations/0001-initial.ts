/** Migration 0001: tenants, keys, audit, nodes, sandboxes, runs, attempts and logs. */
import type { Kysely, Migration } from 'kysely';

async function createIdentity(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('max_queued_runs', 'integer', (c) => c.notNull())
    .addColumn('max_concurrent_sandboxes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('api_keys_tenant')
    .on('api_keys')
    .columns(['tenant_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('audit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('key_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('details_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_tenant_at')
    .on('audit')
    .columns(['tenant_id', 'at', 'id'])
    .execute();
}

async function createNodesAndSandboxes(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('runtimes_json', 'text', (c) => c.notNull())
    .addColumn('capabilities_json', 'text', (c) => c.notNull())
    .addColumn('labels_json', 'text', (c) => c.notNull())
    .addColumn('capacity_cpu', 'double precision', (c) => c.notNull())
    .addColumn('capacity_memory_mib', 'integer', (c) => c.notNull())
    .addColumn('capacity_slots', 'integer', (c) => c.notNull())
    .addColumn('used_cpu', 'double precision', (c) => c.notNull())
    .addColumn('used_memory_mib', 'integer', (c) => c.notNull())
    .addColumn('used_slots', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_heartbeat_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sandboxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('node_id', 'text')
    .addColumn('runtime', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('spec_json', 'text', (c) => c.notNull())
    .addColumn('timeout_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('exit_code', 'integer')
    .addColumn('exit_reason', 'text')
    .addColumn('exit_message', 'text')
    .execute();
  await db.schema
    .createIndex('sandboxes_tenant')
    .on('sandboxes')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('sandboxes_node')
    .on('sandboxes')
    .columns(['node_id', 'state'])
    .execute();
  await db.schema
    .createIndex('sandboxes_timeout')
    .on('sandboxes')
    .columns(['state', 'timeout_at'])
    .execute();
}

async function createRuns(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('spec_json', 'text', (c) => c.notNull())
    .addColumn('runtime', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('backoff_initial_ms', 'bigint', (c) => c.notNull())
    .addColumn('backoff_max_ms', 'bigint', (c) => c.notNull())
    .addColumn('next_eligible_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_node_id', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('exit_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('stdout_truncated', 'integer', (c) => c.notNull())
    .addColumn('stderr_truncated', 'integer', (c) => c.notNull())
    .addColumn('error_message', 'text')
    .addColumn('log_seq', 'integer', (c) => c.notNull())
    .addColumn('log_bytes', 'bigint', (c) => c.notNull())
    .addColumn('logs_truncated', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .execute();
  // NULL keys are distinct on both backends, so runs without a key never collide.
  await db.schema
    .createIndex('runs_idempotency')
    .on('runs')
    .columns(['tenant_id', 'idempotency_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('runs_ready')
    .on('runs')
    .columns(['state', 'next_eligible_at', 'created_at'])
    .execute();
  await db.schema
    .createIndex('runs_lease')
    .on('runs')
    .columns(['state', 'lease_expires_at'])
    .execute();
  await db.schema.createIndex('runs_node').on('runs').columns(['lease_node_id', 'state']).execute();
  await db.schema
    .createIndex('runs_tenant')
    .on('runs')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
}

async function createRunChildren(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('run_attempts')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('leased_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('exit_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('message', 'text')
    .addPrimaryKeyConstraint('run_attempts_pk', ['run_id', 'attempt'])
    .execute();
  await db.schema
    .createTable('run_logs')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_logs_pk', ['run_id', 'seq'])
    .execute();
  await db.schema.createIndex('run_logs_at').on('run_logs').columns(['run_id', 'at']).execute();
}

/** The first schema. */
export const initial: Migration = {
  async up(db) {
    await createIdentity(db);
    await createNodesAndSandboxes(db);
    await createRuns(db);
    await createRunChildren(db);
  },
};
