/**
 * Agent reports about an attempt. Each carries the epoch it was leased with and the node it comes
 * from; a stale epoch, or a node the lease is not on, changes nothing and returns false (or null),
 * which also tells the agent to stop the attempt.
 */
import { InvalidArgumentError } from '@tartarus/core';
import { inTransaction, type StoreContext } from '../context.js';
import type { AttemptResult, RequeueOutcome } from '../store.js';
import { failLeased, loadLeased, type AttemptFailure } from './fencing.js';
import { emitEvent } from '../events.js';

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1)
    throw new InvalidArgumentError(`leaseMs must be a positive integer, got ${leaseMs}`);
}

/** leased → running (idempotent for running); the lease becomes the heartbeat deadline. */
export function confirmStart(
  ctx: StoreContext,
  runId: string,
  epoch: number,
  nodeId: string,
  leaseMs: number,
  templateReadyAt?: number,
  startedAt?: number,
): Promise<boolean> {
  checkLeaseMs(leaseMs);
  return inTransaction(ctx, async (trx) => {
    const run = await loadLeased(ctx, trx, runId, epoch, nodeId);
    if (run === undefined) return false;
    const now = ctx.now();
    // The node's time of the start (its output is stamped by the same clock), never in the future.
    const at = startedAt === undefined ? now : Math.min(startedAt, now);
    await trx
      .updateTable('runs')
      .set({
        state: 'running',
        lease_expires_at: now + leaseMs,
        started_at: run.started_at ?? at,
        attempt_started_at: at,
        template_ready_at: templateReadyAt ?? null,
        updated_at: now,
      })
      .where('id', '=', runId)
      .execute();
    await trx
      .updateTable('run_attempts')
      .set({ started_at: at })
      .where('run_id', '=', runId)
      .where('epoch', '=', epoch)
      .where('started_at', 'is', null)
      .execute();
    if (run.state === 'leased')
      await emitEvent(ctx, trx, { tenantId: run.tenant_id, type: 'run.started', objectId: runId, data: { state: 'running', attempt: run.attempts, nodeId } });
    return true;
  });
}

/**
 * Pushes the deadline of a leased or running attempt. Allowed before the start is confirmed too:
 * a live agent that is slow to create the sandbox (image pull) keeps its lease by heartbeating.
 */
export async function extendLease(
  ctx: StoreContext,
  runId: string,
  epoch: number,
  nodeId: string,
  leaseMs: number,
): Promise<boolean> {
  checkLeaseMs(leaseMs);
  const now = ctx.now();
  const result = await ctx.db
    .updateTable('runs')
    .set({ lease_expires_at: now + leaseMs, updated_at: now })
    .where('id', '=', runId)
    .where('epoch', '=', epoch)
    .where('lease_node_id', '=', nodeId)
    .where('state', 'in', ['leased', 'running'])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Commits the attempt's own ending: exit 0 with reason `exit` → succeeded, anything else → failed. */
export function completeAttempt(
  ctx: StoreContext,
  runId: string,
  epoch: number,
  nodeId: string,
  result: AttemptResult,
): Promise<boolean> {
  const reason = result.reason ?? 'exit';
  return inTransaction(ctx, async (trx) => {
    const run = await loadLeased(ctx, trx, runId, epoch, nodeId);
    if (run === undefined) return false;
    const now = ctx.now();
    const message = result.message ?? null;
    const state = result.exitCode === 0 && reason === 'exit' ? 'succeeded' : 'failed';
    await trx
      .updateTable('runs')
      .set({
        state,
        exit_code: result.exitCode,
        reason,
        stdout_truncated: result.stdoutTruncated === true ? 1 : 0,
        stderr_truncated: result.stderrTruncated === true ? 1 : 0,
        error_message: message,
        lease_node_id: null,
        lease_expires_at: null,
        started_at: run.started_at ?? now,
        ended_at: now,
        attempt_ended_at: now,
        updated_at: now,
      })
      .where('id', '=', runId)
      .execute();
    await trx
      .updateTable('run_attempts')
      .set({ ended_at: now, exit_code: result.exitCode, reason, message })
      .where('run_id', '=', runId)
      .where('epoch', '=', epoch)
      .execute();
    await emitEvent(ctx, trx, { tenantId: run.tenant_id, type: 'run.finished', objectId: runId, data: { state, exitCode: result.exitCode, reason, attempt: run.attempts } });
    return true;
  });
}

/** Fails the attempt: requeued after backoff or dead. Null if stale. */
export function failAttempt(
  ctx: StoreContext,
  runId: string,
  epoch: number,
  nodeId: string,
  failure: Omit<AttemptFailure, 'message'> & { message?: string | null },
): Promise<RequeueOutcome | null> {
  return inTransaction(ctx, async (trx) => {
    const run = await loadLeased(ctx, trx, runId, epoch, nodeId);
    if (run === undefined) return null;
    return failLeased(ctx, trx, run, { ...failure, message: failure.message ?? null });
  });
}

/** Records when the sandbox of attempt `epoch` was cleaned up (after the attempt ended; its node's report). False when that is not the run's latest attempt. */
export async function recordCleanup(ctx: StoreContext, runId: string, epoch: number, at: number): Promise<boolean> {
  const r = await ctx.db.updateTable('runs').set({ cleaned_up_at: at }).where('id', '=', runId).where('epoch', '=', epoch).executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
