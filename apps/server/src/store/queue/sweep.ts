/**
 * Recovery: the visibility timeout (leases past their deadline) and node loss. Both are
 * idempotent and safe to run on every server replica at once; on PostgreSQL the runs are taken
 * with `SKIP LOCKED`, so two sweepers split the work instead of failing one attempt twice.
 */
import { inTransaction, lockRows, type StoreContext } from '../context.js';
import {
  LEASED_RUN_STATES as LEASED_STATES,
  LIVE_SANDBOX_STATES,
} from '@tartarus/core';
import type { RequeuedRun } from '../store.js';
import { PRIORITIES, type Priority } from '@tartarus/core';
import type { RunEndReason } from '../types.js';
import { failLeased } from './fencing.js';
import { emitEvent, PLATFORM_TENANT } from '../events.js';

/** Runs handled per sweep transaction, so one sweep never holds locks for long. */
const SWEEP_BATCH = 200;

/** Fails every leased or running run whose lease deadline has passed (retryable). */
export async function requeueExpiredLeases(ctx: StoreContext): Promise<RequeuedRun[]> {
  const moved: RequeuedRun[] = [];
  for (;;) {
    const batch = await inTransaction(ctx, async (trx) => {
      const rows = await lockRows(
        ctx,
        trx
          .selectFrom('runs')
          .selectAll()
          .where('state', 'in', LEASED_STATES)
          .where('lease_expires_at', '<', ctx.now())
          .orderBy('lease_expires_at')
          .limit(SWEEP_BATCH),
        'skip',
      ).execute();
      const out: RequeuedRun[] = [];
      for (const row of rows) {
        const reason: RunEndReason = row.state === 'leased' ? 'lease_expired' : 'heartbeat_missed';
        const message =
          row.state === 'leased'
            ? `node ${row.lease_node_id} did not confirm the start in time`
            : `node ${row.lease_node_id} stopped heartbeating the run`;
        const outcome = await failLeased(ctx, trx, row, { reason, message, retryable: true });
        out.push({ runId: row.id, epoch: row.epoch, outcome, reason });
      }
      return out;
    });
    moved.push(...batch);
    if (batch.length < SWEEP_BATCH) return moved;
  }
}

/** Marks the node down, fails its runs with `node_lost` and marks its live sandboxes lost. */
export function handleNodeDown(
  ctx: StoreContext,
  nodeId: string,
): Promise<{ runs: RequeuedRun[]; lostSandboxes: string[] }> {
  return inTransaction(ctx, async (trx) => {
    const marked = await trx.updateTable('nodes').set({ status: 'down' }).where('id', '=', nodeId).where('status', '!=', 'down').executeTakeFirst();
    if (marked.numUpdatedRows > 0n) await emitEvent(ctx, trx, { tenantId: PLATFORM_TENANT, type: 'node.down', objectId: nodeId, data: { status: 'down' } });
    // A down node gets no new leases (see lease.ts), so this set cannot grow behind our back.
    const rows = await lockRows(
      ctx,
      trx
        .selectFrom('runs')
        .selectAll()
        .where('lease_node_id', '=', nodeId)
        .where('state', 'in', LEASED_STATES),
    ).execute();
    const runs: RequeuedRun[] = [];
    for (const row of rows) {
      const outcome = await failLeased(ctx, trx, row, {
        reason: 'node_lost',
        message: `node ${nodeId} was lost`,
        retryable: true,
      });
      runs.push({ runId: row.id, epoch: row.epoch, outcome, reason: 'node_lost' });
    }
    const lost = await trx
      .updateTable('sandboxes')
      .set({ state: 'lost' })
      .where('node_id', '=', nodeId)
      .where('state', 'in', LIVE_SANDBOX_STATES)
      .returning('id')
      .execute();
    return { runs, lostSandboxes: lost.map((r) => r.id) };
  });
}

/** Queued runs by tenant and priority. */
export async function depth(ctx: StoreContext): Promise<{ tenantId: string; priority: Priority; count: number }[]> {
  const rows = await ctx.db
    .selectFrom('runs')
    .select((eb) => ['tenant_id', 'priority', eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'queued')
    .groupBy(['tenant_id', 'priority'])
    .execute();
  return rows.map((r) => ({ tenantId: r.tenant_id, priority: PRIORITIES[Number(r.priority)] ?? 'default', count: Number(r.n) }));
}

/** Queued runs eligible now. */
export async function countReady(ctx: StoreContext): Promise<number> {
  const row = await ctx.db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'queued')
    .where('next_eligible_at', '<=', ctx.now())
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
