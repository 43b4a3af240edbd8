/**
 * One set of migrations for both backends, one numbered file each, provided in code (no files to
 * ship next to the build). Only portable types: `text`, `integer`, `bigint` (epoch ms; SQLite
 * gives it INTEGER affinity), `double precision`. Never edit a released migration: add the next.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { InternalError } from '@tartarus/core';
import { initial } from './0001-initial.js';
import { engine } from './0002-engine.js';
import { templates } from './0003-templates.js';
import { nodeTokens } from './0004-node-tokens.js';
import { logRetention } from './0005-log-retention.js';
import { networkPolicies } from './0006-network-policies.js';
import { phases } from './0007-phases.js';
import { usage } from './0008-usage.js';
import { events } from './0009-events.js';
import { secrets } from './0010-secrets.js';
import { webhooks } from './0011-webhooks.js';
import { integrations } from './0013-integrations.js';
import { deployments } from './0014-deployments.js';
import { deploymentRevisions } from './0015-deployment-revisions.js';
import { nodeScheduling } from './0017-node-scheduling.js';
import { deploymentEvents } from './0016-deployment-events.js';
import { poolIntervals } from './0018-pool-intervals.js';
import { sandboxTermination } from './0019-sandbox-termination.js';
import { snapshots } from './0020-snapshots.js';
import { hibernation } from './0021-hibernation.js';
import { tenantSnapshotQuota } from './0022-tenant-snapshot-quota.js';
import { finalSnapshotCleanup } from './0023-final-snapshot-cleanup.js';

/** Every migration, in order. Names sort in application order. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_engine': engine,
  '0003_templates': templates,
  '0004_node_tokens': nodeTokens,
  '0005_log_retention': logRetention,
  '0006_network_policies': networkPolicies,
  '0007_phases': phases,
  '0008_usage': usage,
  '0009_events': events,
  '0010_secrets': secrets,
  '0011_webhooks': webhooks,
  '0013_integrations': integrations,
  '0014_deployments': deployments,
  '0015_deployment_revisions': deploymentRevisions,
  '0016_deployment_events': deploymentEvents,
  '0017_node_scheduling': nodeScheduling,
  '0018_pool_intervals': poolIntervals,
  '0019_sandbox_termination': sandboxTermination,
  '0020_snapshots': snapshots,
  '0021_hibernation': hibernation,
  '0022_tenant_snapshot_quota': tenantSnapshotQuota,
  '0023_final_snapshot_cleanup': finalSnapshotCleanup,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies every pending migration. Safe to call from several server replicas at once: Kysely's
 * migrator takes a lock table first. Throws InternalError naming the migration that failed.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new InternalError(`store migration ${failed} failed`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
