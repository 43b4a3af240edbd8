/**
 * What the server does with an agent's reports: heartbeats extend node liveness and run leases,
 * run reports go to the queue fenced by epoch, output becomes run logs, sandbox state changes go
 * to the store. A report the store refuses as stale makes the agent stop that attempt.
 */
import { assertNever, type AgentMessage } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { RunEndReason, SandboxState } from '../store/index.js';
import type { AgentConnection } from './connection.js';

/** Agent messages handled here. */
export type RunReport = Extract<
  AgentMessage,
  { type: 'heartbeat' | 'runStarted' | 'output' | 'runFinished' | 'runFailed' | 'sandboxState' }
>;

/** An output chunk an agent reports. */
export type OutputMessage = Extract<AgentMessage, { type: 'output' }>;

type Finished = Extract<AgentMessage, { type: 'runFinished' }>;

/** Maps the runtime's exit reason to the queue's end reason. */
function endReason(reason: Finished['result']['reason']): RunEndReason {
  switch (reason) {
    case 'exited':
      return 'exit';
    case 'timeout':
      return 'timeout';
    case 'oom':
      return 'oom';
    case 'killed':
      return 'cancelled';
    case 'error':
      return 'error';
    default:
      return assertNever(reason, 'exit reason');
  }
}

async function finished(ctx: ServerContext, conn: AgentConnection, msg: Finished): Promise<void> {
  const { runId, epoch, result } = msg;
  conn.activeRuns.delete(runId);
  if (result.reason === 'error') {
    // The driver failed, not the workload: retry by policy.
    await ctx.store.queue.failAttempt(runId, epoch, {
      reason: 'error',
      message: result.message ?? null,
      retryable: true,
    });
  } else {
    const ok = await ctx.store.queue.completeAttempt(runId, epoch, {
      exitCode: result.exitCode,
      reason: endReason(result.reason),
      stdoutTruncated: result.stdoutTruncated,
      stderrTruncated: result.stderrTruncated,
      message: result.message ?? null,
    });
    if (ok) ctx.metrics.runsFinished.inc({ state: result.exitCode === 0 ? 'succeeded' : 'failed' });
  }
  ctx.bus.run(runId);
  scheduleAfterWaiters(ctx);
}

/**
 * Offers the freed slot on the next turn of the event loop: a request waiting for the run reads
 * its result first instead of queueing behind a placement pass on the store's one connection.
 */
function scheduleAfterWaiters(ctx: ServerContext): void {
  setImmediate(() => ctx.bus.schedule());
}

/** Appends output chunks of one attempt to its run's logs, in order, in one store call. */
export async function appendOutput(
  ctx: ServerContext,
  runId: string,
  epoch: number,
  chunks: readonly OutputMessage[],
): Promise<void> {
  await ctx.store.runs.appendLogs(
    runId,
    epoch,
    chunks.map((c) => ({ stream: c.stream, data: c.data, at: c.timeMs })),
  );
  ctx.bus.run(runId);
}

const ENDED: ReadonlySet<SandboxState> = new Set(['exited', 'killed', 'error']);

/** Applies one report. */
export async function handleRunReport(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: RunReport,
): Promise<void> {
  const { store, config, bus } = ctx;
  switch (msg.type) {
    case 'heartbeat': {
      await store.nodes.heartbeat(conn.nodeId, msg.used);
      for (const r of msg.runs) {
        if (!(await store.queue.extendLease(r.runId, r.epoch, config.leaseMs))) {
          conn.send({ type: 'cancelRun', runId: r.runId, epoch: r.epoch });
        }
      }
      return;
    }
    case 'runStarted':
      if (!(await store.queue.confirmStart(msg.runId, msg.epoch, config.leaseMs))) {
        conn.send({ type: 'cancelRun', runId: msg.runId, epoch: msg.epoch });
      }
      bus.run(msg.runId);
      return;
    case 'output':
      if (msg.runId !== undefined && msg.epoch !== undefined)
        await appendOutput(ctx, msg.runId, msg.epoch, [msg]);
      return;
    case 'runFinished':
      return finished(ctx, conn, msg);
    case 'runFailed':
      conn.activeRuns.delete(msg.runId);
      await store.queue.failAttempt(msg.runId, msg.epoch, {
        reason: msg.reason,
        message: msg.message,
        retryable: msg.retryable,
      });
      bus.run(msg.runId);
      scheduleAfterWaiters(ctx);
      return;
    case 'sandboxState':
      if (ENDED.has(msg.state)) conn.sandboxes.delete(msg.sandboxId);
      await store.sandboxes.transition(msg.sandboxId, msg.state, msg.exit).catch(() => undefined);
      bus.sandbox(msg.sandboxId);
      bus.schedule();
      return;
    default:
      return assertNever(msg, 'agent report');
  }
}
