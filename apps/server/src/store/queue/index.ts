/**
 * The run queue (ack, visibility timeout, dead letter) on top of the store's tables. Every
 * operation is one transaction; see `store/store.ts` for the contract.
 */
import type { StoreContext } from '../context.js';
import type { RunQueue } from '../store.js';
import { leaseRun, leaseRuns } from './lease.js';
import { completeAttempt, confirmStart, extendLease, failAttempt, recordCleanup } from './report.js';
import { countReady, depth, handleNodeDown, requeueExpiredLeases } from './sweep.js';
import { listPending } from './pending.js';
import { requireRun } from '../run-lookup.js';

/** Builds the queue part of the store. */
export function createRunQueue(ctx: StoreContext): RunQueue {
  return {
    leaseRuns: (nodeId, options) => leaseRuns(ctx, nodeId, options),
    leaseRun: (runId, nodeId, leaseMs) => leaseRun(ctx, runId, nodeId, leaseMs),
    confirmStart: (runId, epoch, nodeId, leaseMs, templateReadyAt, startedAt) =>
      confirmStart(ctx, runId, epoch, nodeId, leaseMs, templateReadyAt, startedAt),
    recordCleanup: (runId, epoch, at) => recordCleanup(ctx, runId, epoch, at),
    extendLease: (runId, epoch, nodeId, leaseMs) => extendLease(ctx, runId, epoch, nodeId, leaseMs),
    completeAttempt: (runId, epoch, nodeId, result) =>
      completeAttempt(ctx, runId, epoch, nodeId, result),
    failAttempt: (runId, epoch, nodeId, failure) => failAttempt(ctx, runId, epoch, nodeId, failure),
    requeueExpiredLeases: () => requeueExpiredLeases(ctx),
    handleNodeDown: (nodeId) => handleNodeDown(ctx, nodeId),
    countReady: () => countReady(ctx),
    depth: () => depth(ctx),
    listPending: (perTenant) => listPending(ctx, perTenant),
    get: (runId) => requireRun(ctx.db, null, runId),
  };
}
