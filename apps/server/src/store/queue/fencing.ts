/**
 * What every report of an attempt shares: loading the run under a row lock, checking the
 * epoch and the lease's node (the fence), and ending a failed attempt with a requeue or a dead
 * letter.
 */
import type { Selectable, Transaction } from 'kysely';
import { lockRows, type StoreContext } from '../context.js';
import type { Database, RunsTable } from '../schema.js';
import { LEASED_RUN_STATES as LEASED_STATES } from '@tartarus/core';
import type { RequeueOutcome } from '../store.js';
import type { RunEndReason } from '../types.js';
import { backoffDelayMs } from './backoff.js';
import { emitEvent } from '../events.js';

/**
 * The run if `epoch` holds its current lease (state leased or running) and that lease is on
 * `nodeId`, else undefined: the report is stale, or comes from a node the work is not placed on.
 */
export async function loadLeased(
  ctx: StoreContext,
  trx: Transaction<Database>,
  runId: string,
  epoch: number,
  nodeId: string,
): Promise<Selectable<RunsTable> | undefined> {
  const row = await lockRows(
    ctx,
    trx.selectFrom('runs').selectAll().where('id', '=', runId).where('lease_node_id', '=', nodeId),
  ).executeTakeFirst();
  if (row === undefined || row.epoch !== epoch) return undefined;
  return (LEASED_STATES as readonly string[]).includes(row.state) ? row : undefined;
}

/** A failure of the attempt holding the run's current lease. */
export interface AttemptFailure {
  reason: RunEndReason;
  message: string | null;
  retryable: boolean;
}

/**
 * Ends the current attempt of a leased `run` as failed: back to `queued` after the backoff if the
 * failure is retryable and attempts remain, else `dead` with the reason. The caller holds the
 * run's lock and has checked the epoch.
 */
export async function failLeased(
  ctx: StoreContext,
  trx: Transaction<Database>,
  run: Selectable<RunsTable>,
  failure: AttemptFailure,
): Promise<RequeueOutcome> {
  const now = ctx.now();
  const retry = failure.retryable && run.attempts < run.max_attempts;
  const backoff = { initialMs: run.backoff_initial_ms, maxMs: run.backoff_max_ms };
  const common = {
    lease_node_id: null,
    lease_expires_at: null,
    exit_code: null,
    reason: failure.reason,
    error_message: failure.message,
    updated_at: now,
    attempt_ended_at: now,
  };
  await trx
    .updateTable('runs')
    .set(
      retry
        ? {
            ...common,
            state: 'queued',
            next_eligible_at: now + backoffDelayMs(run.attempts, backoff),
          }
        : { ...common, state: 'dead', ended_at: now },
    )
    .where('id', '=', run.id)
    .execute();
  await trx
    .updateTable('run_attempts')
    .set({ ended_at: now, reason: failure.reason, message: failure.message })
    .where('run_id', '=', run.id)
    .where('epoch', '=', run.epoch)
    .execute();
  const data = { reason: failure.reason, message: failure.message, attempt: run.attempts };
  await emitEvent(ctx, trx, retry
    ? { tenantId: run.tenant_id, type: 'run.queued', objectId: run.id, data: { state: 'queued', ...data } }
    : { tenantId: run.tenant_id, type: 'run.finished', objectId: run.id, data: { state: 'dead', exitCode: null, ...data } });
  return retry ? 'requeued' : 'dead';
}
