/**
 * Leasing: a queued, eligible run goes to one node with a deadline to confirm the start. Each
 * lease bumps the run's epoch and opens an attempt row; a lease is never granted twice because the
 * grant is an UPDATE guarded by `state = 'queued'` inside a transaction that holds the row
 * (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so competing replicas take different runs instead of
 * waiting; SQLite: the write transaction excludes every other writer).
 */
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { Transaction } from 'kysely';
import { inTransaction, lockRows, type StoreContext } from '../context.js';
import { toRun } from '../rows.js';
import type { Database } from '../schema.js';
import type { LeaseRunsOptions, RunLease } from '../store.js';

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1)
    throw new InvalidArgumentError(`leaseMs must be a positive integer, got ${leaseMs}`);
}

/** The node may take work: it exists and is up. NotFoundError if unknown. */
async function nodeIsUp(trx: Transaction<Database>, nodeId: string): Promise<boolean> {
  const node = await trx
    .selectFrom('nodes')
    .select('status')
    .where('id', '=', nodeId)
    .executeTakeFirst();
  if (node === undefined)
    throw new NotFoundError(`node ${nodeId} not found`, { context: { nodeId } });
  return node.status === 'up';
}

async function grant(
  ctx: StoreContext,
  trx: Transaction<Database>,
  runId: string,
  nodeId: string,
  leaseMs: number,
): Promise<RunLease | null> {
  const now = ctx.now();
  const row = await trx
    .updateTable('runs')
    .set((eb) => ({
      state: 'leased',
      epoch: eb('epoch', '+', 1),
      attempts: eb('attempts', '+', 1),
      lease_node_id: nodeId,
      lease_expires_at: now + leaseMs,
      updated_at: now,
      // A new attempt: its phases start over.
      placed_at: now,
      template_ready_at: null,
      attempt_started_at: null,
      first_output_at: null,
      attempt_ended_at: null,
      cleaned_up_at: null,
    }))
    .where('id', '=', runId)
    .where('state', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) return null;
  await trx
    .insertInto('run_attempts')
    .values({
      run_id: row.id,
      attempt: row.attempts,
      epoch: row.epoch,
      node_id: nodeId,
      leased_at: now,
      started_at: null,
      ended_at: null,
      exit_code: null,
      reason: null,
      message: null,
    })
    .execute();
  return {
    run: toRun(row),
    epoch: row.epoch,
    attempt: row.attempts,
    leaseExpiresAt: now + leaseMs,
  };
}

/** Leases up to `max` eligible runs, oldest eligible first. */
export function leaseRuns(
  ctx: StoreContext,
  nodeId: string,
  options: LeaseRunsOptions,
): Promise<RunLease[]> {
  checkLeaseMs(options.leaseMs);
  if (!Number.isInteger(options.max) || options.max < 0)
    throw new InvalidArgumentError(`max must be a non-negative integer, got ${options.max}`);
  return inTransaction(ctx, async (trx) => {
    if (options.max === 0 || !(await nodeIsUp(trx, nodeId))) return [];
    const runtimes = options.runtimes;
    const candidates = await lockRows(
      ctx,
      trx
        .selectFrom('runs')
        .select('id')
        .where('state', '=', 'queued')
        .where('next_eligible_at', '<=', ctx.now())
        .$if(runtimes !== undefined, (q) =>
          q.where((eb) =>
            runtimes !== undefined && runtimes.length > 0
              ? eb.or([eb('runtime', 'is', null), eb('runtime', 'in', runtimes)])
              : eb('runtime', 'is', null),
          ),
        )
        .orderBy('next_eligible_at')
        .orderBy('created_at')
        .orderBy('id')
        .limit(options.max),
      'skip',
    ).execute();
    const leases: RunLease[] = [];
    for (const { id } of candidates) {
      const lease = await grant(ctx, trx, id, nodeId, options.leaseMs);
      if (lease !== null) leases.push(lease);
    }
    return leases;
  });
}

/** Leases one run chosen by the scheduler, if it is still queued and eligible. */
export function leaseRun(
  ctx: StoreContext,
  runId: string,
  nodeId: string,
  leaseMs: number,
): Promise<RunLease | null> {
  checkLeaseMs(leaseMs);
  return inTransaction(ctx, async (trx) => {
    if (!(await nodeIsUp(trx, nodeId))) return null;
    const row = await lockRows(
      ctx,
      trx
        .selectFrom('runs')
        .select('id')
        .where('id', '=', runId)
        .where('state', '=', 'queued')
        .where('next_eligible_at', '<=', ctx.now()),
      'skip',
    ).executeTakeFirst();
    return row === undefined ? null : grant(ctx, trx, runId, nodeId, leaseMs);
  });
}
