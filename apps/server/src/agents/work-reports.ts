/**
 * What the server does with an agent's reports about its work: heartbeats extend node liveness
 * and run leases; `started`, `output`, `finished` and `failed` go to the run queue (fenced by
 * epoch) or to the sandbox's state machine, by the kind of the work's id. A report the store
 * refuses as stale makes the agent stop that work.
 */
import { assertNever, idKind, type AgentMessage, type ExitReason } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { RunEndReason, SandboxExit } from '../store/index.js';
import type { AgentConnection } from './connection.js';

/** Agent messages handled here. */
export type WorkReport = Extract<
  AgentMessage,
  { type: 'heartbeat' | 'started' | 'output' | 'finished' | 'failed' }
>;
/** An output chunk an agent reports. */
export type OutputMessage = Extract<AgentMessage, { type: 'output' }>;
type Finished = Extract<AgentMessage, { type: 'finished' }>;
type Failed = Extract<AgentMessage, { type: 'failed' }>;

/** Maps the runtime's exit reason to the queue's end reason. */
function endReason(reason: ExitReason): RunEndReason {
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

/**
 * Offers the freed capacity on the next turn of the event loop: a request waiting for the run
 * reads its result first instead of queueing behind a placement pass on the store's connection.
 */
function scheduleAfterWaiters(ctx: ServerContext): void {
  setImmediate(() => ctx.bus.schedule());
}

async function runFinished(ctx: ServerContext, msg: Finished): Promise<void> {
  const { workId: runId, epoch, result } = msg;
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
}

/** A sandbox's main process ended: by its timeout (killed), a kill the server asked for, or itself. */
async function sandboxFinished(ctx: ServerContext, msg: Finished): Promise<void> {
  const r = msg.result;
  const exit: SandboxExit = {
    exitCode: r.exitCode,
    reason: r.reason === 'timeout' ? 'timeout' : r.reason === 'exited' ? 'exit' : r.reason,
    message:
      r.reason === 'timeout' ? 'the sandbox reached its timeout' : (r.message ?? null),
  };
  const to = r.reason === 'timeout' || r.reason === 'killed' ? 'killed' : 'exited';
  await ctx.store.sandboxes.transition(msg.workId, to, exit).catch(() => undefined);
  ctx.bus.sandbox(msg.workId);
}

async function failed(ctx: ServerContext, msg: Failed): Promise<void> {
  if (idKind(msg.workId) === 'sbx') {
    await ctx.store.sandboxes
      .transition(msg.workId, 'error', { exitCode: null, reason: msg.reason, message: msg.message })
      .catch(() => undefined);
    // The create waiting for this sandbox answers with the agent's own error code.
    ctx.bus.emit(`sandboxFailed:${msg.workId}`, msg.code, msg.message);
    ctx.bus.sandbox(msg.workId);
    return;
  }
  await ctx.store.queue.failAttempt(msg.workId, msg.epoch, {
    reason: msg.reason,
    message: msg.message,
    retryable: msg.retryable,
  });
  ctx.bus.run(msg.workId);
}

async function started(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: Extract<AgentMessage, { type: 'started' }>,
): Promise<void> {
  const { store, config, bus } = ctx;
  if (idKind(msg.workId) !== 'sbx') {
    if (!(await store.queue.confirmStart(msg.workId, msg.epoch, config.leaseMs)))
      conn.send({ type: 'stop', workId: msg.workId, epoch: msg.epoch });
    bus.run(msg.workId);
    return;
  }
  // A sandbox killed while it was starting is stopped instead of resurrected.
  const s = await store.sandboxes.transition(msg.workId, 'running').catch(() => undefined);
  if (s === undefined || s.state !== 'running') {
    conn.send({ type: 'stop', workId: msg.workId, epoch: msg.epoch });
  } else if (s.timeoutAt === null) {
    await store.sandboxes.setTimeout(s.tenantId, s.id, Date.now() + s.spec.timeoutMs);
  }
  bus.sandbox(msg.workId);
}

/** Appends output chunks of one attempt to its run's logs, in order, in one store call. */
export async function appendOutput(
  ctx: ServerContext,
  workId: string,
  epoch: number,
  chunks: readonly OutputMessage[],
): Promise<void> {
  // A sandbox's main process is its template's idle process: nobody reads its output.
  if (idKind(workId) === 'sbx') return;
  await ctx.store.runs.appendLogs(
    workId,
    epoch,
    chunks.map((c) => ({ stream: c.stream, data: c.data, at: c.timeMs })),
  );
  ctx.bus.run(workId);
}

/** Applies one report. */
export async function handleWorkReport(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: WorkReport,
): Promise<void> {
  const { store, config } = ctx;
  switch (msg.type) {
    case 'heartbeat': {
      await store.nodes.heartbeat(conn.nodeId, msg.used);
      for (const w of msg.work ?? []) {
        if (idKind(w.workId) === 'sbx') continue;
        if (!(await store.queue.extendLease(w.workId, w.epoch, config.leaseMs)))
          conn.send({ type: 'stop', workId: w.workId, epoch: w.epoch });
      }
      return;
    }
    case 'started':
      return started(ctx, conn, msg);
    case 'output':
      return appendOutput(ctx, msg.workId, msg.epoch, [msg]);
    case 'finished':
      conn.release(msg.workId);
      if (idKind(msg.workId) === 'sbx') await sandboxFinished(ctx, msg);
      else await runFinished(ctx, msg);
      return scheduleAfterWaiters(ctx);
    case 'failed':
      conn.release(msg.workId);
      await failed(ctx, msg);
      return scheduleAfterWaiters(ctx);
    default:
      return assertNever(msg, 'agent report');
  }
}
