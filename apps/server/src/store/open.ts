/** Opens a store: connects, applies pending migrations, and assembles the parts. */
import { InvalidArgumentError } from '@tartarus/core';
import type { Kysely } from 'kysely';
import { createRunQueue } from './queue/index.js';
import { createApiKeyStore } from './api-keys.js';
import { createAuditStore } from './audit.js';
import { openPostgres, openSqlite } from './connect.js';
import type { StoreContext } from './context.js';
import { migrateToLatest } from './migrations/index.js';
import { createNodeStore } from './nodes.js';
import { createNodeTokenStore } from './node-tokens.js';
import { createNetworkPolicyStore } from './network-policies.js';
import { createRunStore } from './runs.js';
import { createRegistryCredentialStore } from './registry-credentials.js';
import { createRetentionStore } from './retention.js';
import { createSandboxStore } from './sandboxes.js';
import type { Database } from './schema.js';
import type { Store, StoreOptions } from './store.js';
import { createTemplateObjectStore } from './templates.js';
import { createTenantStore } from './tenants.js';
import { createUsageStore } from './usage.js';
import { createPoolIntervalStore } from './pool-intervals.js';
import { createSnapshotStore } from './snapshots.js';
import { createEventStore } from './events.js';
import { createSecretStore } from './secrets.js';
import { createLogSearch } from './log-search.js';
import { createWebhookStore } from './webhooks.js';
import { createWebhookQueue } from './webhook-queue.js';
import { createIntegrationStore } from './integrations.js';
import { createDeploymentStore } from './deployments.js';
import { createDeploymentEventStore } from './deployment-events.js';

/** Default of `StoreOptions.logCapBytes`: 8 MiB. */
const DEFAULT_LOG_CAP_BYTES = 8 * 1024 * 1024;
/** Default of `StoreOptions.quotaRetryAfterMs`. */
const DEFAULT_QUOTA_RETRY_AFTER_MS = 5000;
/** Default of the PostgreSQL pool size. */
const DEFAULT_POOL_MAX = 10;

function connect(options: StoreOptions): Kysely<Database> {
  switch (options.backend) {
    case 'sqlite':
      return openSqlite(options.path);
    case 'postgres':
      return openPostgres(options.connectionString, options.poolMax ?? DEFAULT_POOL_MAX, options.log);
  }
}

/**
 * Opens the store and migrates it to the latest schema (idempotent; concurrent replicas are
 * serialized by the migrator's lock). Close it with `store.close()`.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const logCapBytes = options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES;
  if (!Number.isInteger(logCapBytes) || logCapBytes < 0)
    throw new InvalidArgumentError('logCapBytes must be a non-negative integer');
  const db = connect(options);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const ctx: StoreContext = {
    db,
    backend: options.backend,
    now: options.clock ?? Date.now,
    logCapBytes,
    quotaRetryAfterMs: options.quotaRetryAfterMs ?? DEFAULT_QUOTA_RETRY_AFTER_MS,
    eventListeners: new Set(),
    sequencedListeners: new Set(),
  };
  let closed: Promise<void> | undefined;
  return {
    backend: options.backend,
    tenants: createTenantStore(ctx),
    apiKeys: createApiKeyStore(ctx),
    nodeTokens: createNodeTokenStore(ctx),
    audit: createAuditStore(ctx),
    nodes: createNodeStore(ctx),
    sandboxes: createSandboxStore(ctx),
    runs: createRunStore(ctx),
    queue: createRunQueue(ctx),
    templates: createTemplateObjectStore(ctx),
    registryCredentials: createRegistryCredentialStore(ctx),
    networkPolicies: createNetworkPolicyStore(ctx),
    retention: createRetentionStore(ctx),
    usage: createUsageStore(ctx),
    poolIntervals: createPoolIntervalStore(ctx),
    snapshots: createSnapshotStore(ctx),
    events: createEventStore(ctx),
    secrets: createSecretStore(ctx),
    logs: createLogSearch(ctx),
    webhooks: createWebhookStore(ctx),
    webhookQueue: createWebhookQueue(ctx),
    integrations: createIntegrationStore(ctx),
    deployments: createDeploymentStore(ctx),
    deploymentEvents: createDeploymentEventStore(ctx),
    close: () => (closed ??= db.destroy()),
  };
}
