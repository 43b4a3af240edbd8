/** Tenants and their quotas. */
import {
  ACTIVE_RUN_STATES,
  ConflictError,
  InvalidArgumentError,
  LIVE_SANDBOX_STATES,
  NotFoundError,
  TENANT_DEFAULTS,
  checkTenantNetworkPolicy,
  type Egress,
  type TenantLimitsPolicy,
  type TenantNetworkPolicy,
} from '@tartarus/core';
import type { Selectable, Transaction } from 'kysely';
import { inTransaction, lockRows, type Db, type StoreContext } from './context.js';
import { isUniqueViolation } from './connect.js';
import { toTenant } from './rows.js';
import type { Database, TenantsTable } from './schema.js';
import type { Page, PageOptions, Tenant } from './types.js';
import { newestFirstPage, newId } from './util.js';

/** Input of `tenants.create`. */
export interface CreateTenantOptions {
  /** Default: generated `ten_…`. */
  id?: string;
  name: string;
  /** Default 1000. */
  maxQueuedRuns?: number;
  /** Default 50. */
  maxConcurrentSandboxes?: number;
  /** Fair-share weight, > 0. Default 1. */
  weight?: number;
  /** Most work placed at once; null (default): no cap. */
  maxRunning?: number | null;
  /** The most one run or sandbox may ask for; null (default): none. */
  maxLimits?: TenantLimitsPolicy | null;
  /** Bytes of run output kept for the tenant; past it, further output is dropped. Default 1 GiB. */
  maxLogBytes?: number;
  /** Bytes of snapshots the tenant may keep, > 0; null (default): the server's `maxSnapshotBytes`. */
  maxSnapshotBytes?: number | null;
  /** Egress of a sandbox that asks for none; null (default): the platform's. Within `maxEgress`. */
  defaultSandboxEgress?: Egress | null;
  /** Egress of a run that asks for none; null (default): the platform's. Within `maxEgress`. */
  defaultRunEgress?: Egress | null;
  /** The most the tenant's work may reach; null (default): no maximum. */
  maxEgress?: Egress | null;
}

/** Tenants and their quotas. */
export interface TenantStore {
  /** ConflictError if the id or name is taken. */
  create(options: CreateTenantOptions): Promise<Tenant>;
  /** NotFoundError if missing. */
  get(tenantId: string): Promise<Tenant>;
  list(options?: PageOptions): Promise<Page<Tenant>>;
  /** Changes name or quotas; NotFoundError if missing. */
  update(tenantId: string, patch: Partial<Omit<CreateTenantOptions, 'id'>>): Promise<Tenant>;
  /** Deletes the tenant and everything it owns. ConflictError while it has runs or sandboxes not ended. */
  delete(tenantId: string): Promise<void>;
}

function checkQuota(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${value}`);
  }
}

function checkShare(options: Partial<CreateTenantOptions>): void {
  checkQuota('maxQueuedRuns', options.maxQueuedRuns);
  checkQuota('maxConcurrentSandboxes', options.maxConcurrentSandboxes);
  checkQuota('maxLogBytes', options.maxLogBytes);
  const snap = options.maxSnapshotBytes;
  if (snap !== undefined && snap !== null && !(Number.isSafeInteger(snap) && snap > 0))
    throw new InvalidArgumentError(`maxSnapshotBytes must be a positive whole number of bytes (or null for the server's), got ${snap}`);
  if (options.maxRunning !== undefined && options.maxRunning !== null)
    checkQuota('maxRunning', options.maxRunning);
  const w = options.weight;
  if (w !== undefined && !(Number.isFinite(w) && w > 0))
    throw new InvalidArgumentError(`weight must be a positive number, got ${w}`);
}

/** The columns of the fields `patch` sets. */
function tenantColumns(patch: Partial<Omit<CreateTenantOptions, 'id'>>) {
  return {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.maxQueuedRuns !== undefined && { max_queued_runs: patch.maxQueuedRuns }),
    ...(patch.maxConcurrentSandboxes !== undefined && {
      max_concurrent_sandboxes: patch.maxConcurrentSandboxes,
    }),
    ...(patch.weight !== undefined && { weight: patch.weight }),
    ...(patch.maxRunning !== undefined && { max_running: patch.maxRunning }),
    ...(patch.maxLogBytes !== undefined && { max_log_bytes: patch.maxLogBytes }),
    ...(patch.maxSnapshotBytes !== undefined && { max_snapshot_bytes: patch.maxSnapshotBytes }),
    ...(patch.maxLimits !== undefined && {
      max_limits_json: patch.maxLimits === null ? null : JSON.stringify(patch.maxLimits),
    }),
    ...(patch.defaultSandboxEgress !== undefined && { default_sandbox_egress_json: egressJson(patch.defaultSandboxEgress) }),
    ...(patch.defaultRunEgress !== undefined && { default_run_egress_json: egressJson(patch.defaultRunEgress) }),
    ...(patch.maxEgress !== undefined && { max_egress_json: egressJson(patch.maxEgress) }),
  };
}

function egressJson(egress: Egress | null): string | null {
  return egress === null ? null : JSON.stringify(egress);
}

/** The tenant's network settings once `patch` applies to `current`; InvalidArgumentError when a default is beyond the maximum. */
function checkNetwork(current: TenantNetworkPolicy, patch: Partial<TenantNetworkPolicy>): void {
  checkTenantNetworkPolicy({
    defaultSandboxEgress: patch.defaultSandboxEgress === undefined ? current.defaultSandboxEgress : patch.defaultSandboxEgress,
    defaultRunEgress: patch.defaultRunEgress === undefined ? current.defaultRunEgress : patch.defaultRunEgress,
    maxEgress: patch.maxEgress === undefined ? current.maxEgress : patch.maxEgress,
  });
}

function tenantNotFound(tenantId: string): NotFoundError {
  return new NotFoundError(`tenant ${tenantId} not found`, { context: { tenantId } });
}

/** The tenant, or NotFoundError. */
export async function requireTenant(db: Db, tenantId: string): Promise<Tenant> {
  const row = await db
    .selectFrom('tenants')
    .selectAll()
    .where('id', '=', tenantId)
    .executeTakeFirst();
  if (row === undefined) throw tenantNotFound(tenantId);
  return toTenant(row);
}

/**
 * The tenant row, locked until `trx` ends (see `lockRows`), or NotFoundError. Taken first by
 * whatever checks a tenant's quota or deletes it, so that these serialize per tenant on PostgreSQL.
 */
export async function lockTenant(
  ctx: StoreContext,
  trx: Transaction<Database>,
  tenantId: string,
): Promise<Selectable<TenantsTable>> {
  const row = await lockRows(
    ctx,
    trx.selectFrom('tenants').selectAll().where('id', '=', tenantId),
  ).executeTakeFirst();
  if (row === undefined) throw tenantNotFound(tenantId);
  return row;
}

/** Builds the tenant part of the store. */
export function createTenantStore(ctx: StoreContext): TenantStore {
  const { db } = ctx;
  return {
    async create(options: CreateTenantOptions) {
      checkShare(options);
      checkNetwork(TENANT_DEFAULTS, options);
      if (options.name.trim() === '')
        throw new InvalidArgumentError('tenant name must not be empty');
      const row = {
        id: options.id ?? newId('ten'),
        name: options.name,
        max_queued_runs: TENANT_DEFAULTS.maxQueuedRuns,
        max_concurrent_sandboxes: TENANT_DEFAULTS.maxConcurrentSandboxes,
        weight: TENANT_DEFAULTS.weight,
        max_running: TENANT_DEFAULTS.maxRunning,
        max_limits_json: null,
        max_log_bytes: TENANT_DEFAULTS.maxLogBytes,
        log_bytes: 0,
        max_snapshot_bytes: TENANT_DEFAULTS.maxSnapshotBytes,
        default_sandbox_egress_json: null,
        default_run_egress_json: null,
        max_egress_json: null,
        ...tenantColumns(options),
        created_at: ctx.now(),
      };
      try {
        await db.insertInto('tenants').values(row).execute();
      } catch (error) {
        if (!isUniqueViolation(error, ctx.backend)) throw error;
        throw new ConflictError(`a tenant with id ${row.id} or name ${row.name} exists`, {
          cause: error,
        });
      }
      return toTenant(row);
    },

    get: (tenantId) => requireTenant(db, tenantId),

    list: (options) =>
      newestFirstPage(db.selectFrom('tenants').selectAll(), 'created_at', options, toTenant),

    async update(tenantId, patch) {
      checkShare(patch);
      if (patch.defaultSandboxEgress !== undefined || patch.defaultRunEgress !== undefined || patch.maxEgress !== undefined) {
        checkNetwork(await requireTenant(db, tenantId), patch);
      }
      const set = tenantColumns(patch);
      if (Object.keys(set).length > 0) {
        try {
          await db.updateTable('tenants').set(set).where('id', '=', tenantId).execute();
        } catch (error) {
          if (!isUniqueViolation(error, ctx.backend)) throw error;
          throw new ConflictError(`a tenant named ${patch.name} exists`, { cause: error });
        }
      }
      return requireTenant(db, tenantId);
    },

    async delete(tenantId) {
      await inTransaction(ctx, async (trx) => {
        // Same lock as a submission takes: a run accepted concurrently is seen below (and blocks
        // the delete), or its submission waits and then finds no tenant. Never accepted, then lost.
        await lockTenant(ctx, trx, tenantId);
        const busy = await trx
          .selectFrom('runs')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('state', 'in', ACTIVE_RUN_STATES)
          .union(
            trx
              .selectFrom('sandboxes')
              .select('id')
              .where('tenant_id', '=', tenantId)
              .where('state', 'in', LIVE_SANDBOX_STATES),
          )
          .limit(1)
          .executeTakeFirst();
        if (busy !== undefined) {
          throw new ConflictError(
            `tenant ${tenantId} still has ${busy.id} running or queued: cancel or kill it first`,
          );
        }
        // Keys, audit, sandboxes, runs, attempts and logs go with it (ON DELETE CASCADE).
        await trx.deleteFrom('tenants').where('id', '=', tenantId).execute();
      });
    },
  };
}
