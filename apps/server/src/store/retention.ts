/**
 * Retention: run logs and audit entries older than the server keeps are deleted in bounded
 * batches (see `retention-store.ts` for the rules). Run logs go in two phases: a run is first
 * marked expired, its kept bytes leaving its tenant's counter, and queued in `run_log_purges`;
 * its chunks are then deleted `batch` rows per statement until none is left.
 */
import { InvalidArgumentError } from '@tartarus/core';
import { inTransaction, lockRows, type StoreContext } from './context.js';
import type { RetentionStore, RunLogSweep } from './retention-store.js';

/** Default rows per statement. */
const DEFAULT_BATCH = 1000;
const MAX_BATCH = 10_000;

function check(retentionMs: number, batch: number): void {
  if (!Number.isInteger(retentionMs) || retentionMs <= 0)
    throw new InvalidArgumentError(`retentionMs must be a positive integer, got ${retentionMs}`);
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH)
    throw new InvalidArgumentError(`batch must be an integer from 1 to ${MAX_BATCH}, got ${batch}`);
}

/**
 * Marks the logs of the tenant's runs `ids` expired, those still kept and ended before `cutoff`
 * (re-checked under the locks). Tenant row first, then its runs, as appends lock them; runs
 * another replica holds are skipped. Returns how many were marked.
 */
function expireOfTenant(
  ctx: StoreContext,
  tenantId: string,
  ids: string[],
  cutoff: number,
): Promise<number> {
  return inTransaction(ctx, async (trx) => {
    await lockRows(
      ctx,
      trx.selectFrom('tenants').select('id').where('id', '=', tenantId),
    ).execute();
    const runs = await lockRows(
      ctx,
      trx
        .selectFrom('runs')
        .select(['id', 'log_bytes', 'log_seq'])
        .where('id', 'in', ids)
        .where('logs_expired_at', 'is', null)
        .where('ended_at', '<', cutoff),
      'skip',
    ).execute();
    if (runs.length === 0) return 0;
    await trx
      .updateTable('runs')
      .set({ logs_expired_at: ctx.now(), log_bytes: 0 })
      .where(
        'id',
        'in',
        runs.map((r) => r.id),
      )
      .execute();
    const purges = runs.filter((r) => r.log_seq > 0).map((r) => ({ run_id: r.id }));
    if (purges.length > 0) await trx.insertInto('run_log_purges').values(purges).execute();
    const freed = runs.reduce((sum, r) => sum + r.log_bytes, 0);
    if (freed > 0) {
      await trx
        .updateTable('tenants')
        .set((eb) => ({ log_bytes: eb('log_bytes', '-', freed) }))
        .where('id', '=', tenantId)
        .execute();
    }
    return runs.length;
  });
}

/** Marks up to `batch` runs ended before `cutoff` expired, one transaction per tenant. */
async function expireRuns(
  ctx: StoreContext,
  cutoff: number,
  batch: number,
): Promise<{ expired: number; full: boolean }> {
  const candidates = await ctx.db
    .selectFrom('runs')
    .select(['id', 'tenant_id'])
    .where('logs_expired_at', 'is', null)
    .where('ended_at', '<', cutoff)
    .orderBy('ended_at')
    .limit(batch)
    .execute();
  const byTenant = new Map<string, string[]>();
  for (const c of candidates)
    byTenant.set(c.tenant_id, [...(byTenant.get(c.tenant_id) ?? []), c.id]);
  let expired = 0;
  // In tenant order, so that two sweepers never wait on each other's tenants in a cycle.
  for (const tenantId of [...byTenant.keys()].sort())
    expired += await expireOfTenant(ctx, tenantId, byTenant.get(tenantId) ?? [], cutoff);
  return { expired, full: candidates.length === batch };
}

/**
 * Deletes up to `max` chunks of one expired run; its purge entry goes with its last chunk.
 * `found` false when no entry is left (or every one is held by another sweeper).
 */
function purgeOne(ctx: StoreContext, max: number): Promise<{ found: boolean; deleted: number }> {
  return inTransaction(ctx, async (trx) => {
    const entry = await lockRows(
      ctx,
      trx.selectFrom('run_log_purges').select('run_id').limit(1),
      'skip',
    ).executeTakeFirst();
    if (entry === undefined) return { found: false, deleted: 0 };
    const result = await trx
      .deleteFrom('run_logs')
      .where('run_id', '=', entry.run_id)
      .where(
        'seq',
        'in',
        trx
          .selectFrom('run_logs')
          .select('seq')
          .where('run_id', '=', entry.run_id)
          .orderBy('seq')
          .limit(max),
      )
      .executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    if (deleted < max)
      await trx.deleteFrom('run_log_purges').where('run_id', '=', entry.run_id).execute();
    return { found: true, deleted };
  });
}

/** Deletes up to `batch` chunks of expired runs. */
async function purgeChunks(
  ctx: StoreContext,
  batch: number,
): Promise<{ deleted: number; more: boolean }> {
  let deleted = 0;
  while (deleted < batch) {
    const step = await purgeOne(ctx, batch - deleted);
    if (!step.found) return { deleted, more: false };
    deleted += step.deleted;
  }
  return { deleted, more: true };
}

/** Builds the retention part of the store. */
export function createRetentionStore(ctx: StoreContext): RetentionStore {
  return {
    async expireRunLogs(retentionMs, batch = DEFAULT_BATCH): Promise<RunLogSweep> {
      check(retentionMs, batch);
      const runs = await expireRuns(ctx, ctx.now() - retentionMs, batch);
      const chunks = await purgeChunks(ctx, batch);
      return {
        expiredRuns: runs.expired,
        deletedChunks: chunks.deleted,
        more: runs.full || chunks.more,
      };
    },

    async deleteOldAudit(retentionMs, batch = DEFAULT_BATCH) {
      check(retentionMs, batch);
      const { db } = ctx;
      const oldest = db
        .selectFrom('audit')
        .select('id')
        .where('at', '<', ctx.now() - retentionMs)
        .orderBy('at')
        .limit(batch);
      const result = await db
        .deleteFrom('audit')
        .where('id', 'in', lockRows(ctx, oldest, 'skip'))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
