/**
 * What the server does with an agent's reports about its work: heartbeats extend node liveness
 * and run leases; `started`, `output`, `finished` and `failed` go to the run queue or to the
 * sandbox's state machine, by the kind of the work's id. Every report is fenced in the store by
 * the reporting node (and, for runs, the epoch): a report about work placed on another node
 * changes nothing, exactly like a stale one, and is logged. A refused `started` or heartbeat
 * makes the agent stop that work.
 */
import { assertNever, idKind, type AgentMessage, type ExitReason } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import { shipRunOutput } from '../logs/index.js';
import type { RunEndReason, SandboxExit } from '../store/index.js';
import { unreachableReason } from '../store/unreachable.js';
import type { AgentConnection } from './connection.js';

/** Agent messages handled here. */
export type WorkReport = Extract<
  AgentMessage,
  { type: 'heartbeat' | 'started' | 'output' | 'finished' | 'failed' | 'cleaned' | 'usage' | 'hibernation' }
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

/**
 * After the store refused a run report: logs it when it names the run's current epoch from a
 * node that does not hold the lease (a stale report from a lost attempt stays silent, as before).
 */
async function noteRefused(
  ctx: ServerContext,
  conn: AgentConnection,
  report: WorkReport['type'],
  runId: string,
  epoch: number,
): Promise<void> {
  const run = await ctx.store.queue.get(runId).catch(() => undefined);
  if (run === undefined || run.epoch !== epoch) return;
  if (run.leaseNodeId === null || run.leaseNodeId === conn.nodeId) return;
  ctx.log.warn(
    { nodeId: conn.nodeId, leaseNodeId: run.leaseNodeId, workId: runId, epoch, report },
    'agent report refused: the run is leased to another node',
  );
}

/** Logs a sandbox report the store refused because the sandbox is not placed on the reporting node. */
function noteForeignSandbox(
  ctx: ServerContext,
  conn: AgentConnection,
  report: WorkReport['type'],
  sandboxId: string,
): void {
  ctx.log.warn(
    { nodeId: conn.nodeId, workId: sandboxId, report },
    'agent report refused: the sandbox is not placed on this node',
  );
}

/**
 * For a sandbox transition the store refused (a state it cannot move from): undefined, the report
 * changes nothing. The database being unreachable is thrown on, so that the connection applies
 * the report again once it answers instead of losing it.
 */
function refusedUnlessUnreachable(err: unknown): undefined {
  if (unreachableReason(err) !== null) throw err;
  return undefined;
}

async function runFinished(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: Finished,
): Promise<void> {
  const { workId: runId, epoch, result } = msg;
  const { queue } = ctx.store;
  let ok: boolean;
  if (result.reason === 'error') {
    // The driver failed, not the workload: retry by policy.
    const outcome = await queue.failAttempt(runId, epoch, conn.nodeId, {
      reason: 'error',
      message: result.message ?? null,
      retryable: true,
    });
    ok = outcome !== null;
  } else {
    ok = await queue.completeAttempt(runId, epoch, conn.nodeId, {
      exitCode: result.exitCode,
      reason: endReason(result.reason),
      stdoutTruncated: result.stdoutTruncated,
      stderrTruncated: result.stderrTruncated,
      message: result.message ?? null,
    });
    if (ok) ctx.metrics.runsFinished.inc({ state: result.exitCode === 0 ? 'succeeded' : 'failed' });
  }
  if (ok && result.reason !== 'exited') ctx.metrics.failures.inc({ kind: 'run', reason: result.reason });
  if (!ok) await noteRefused(ctx, conn, 'finished', runId, epoch);
  ctx.bus.run(runId);
}

/** A sandbox's main process ended: by its timeout (killed), a kill the server asked for, or itself. */
async function sandboxFinished(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: Finished,
): Promise<void> {
  const r = msg.result;
  const exit: SandboxExit = {
    exitCode: r.exitCode,
    reason: r.reason === 'timeout' ? 'timeout' : r.reason === 'exited' ? 'exit' : r.reason,
    message: r.reason === 'timeout' ? 'the sandbox reached its timeout' : (r.message ?? null),
  };
  const to = r.reason === 'timeout' || r.reason === 'killed' ? 'killed' : 'exited';
  if (r.reason === 'oom' || r.reason === 'error') ctx.metrics.failures.inc({ kind: 'sandbox', reason: r.reason });
  const moved = await ctx.store.sandboxes
    .transitionOnNode(conn.nodeId, msg.workId, to, exit)
    .catch(refusedUnlessUnreachable);
  if (moved === null) return noteForeignSandbox(ctx, conn, 'finished', msg.workId);
  ctx.bus.sandbox(msg.workId);
}

async function failed(ctx: ServerContext, conn: AgentConnection, msg: Failed): Promise<void> {
  ctx.metrics.failures.inc({ kind: idKind(msg.workId) === 'sbx' ? 'sandbox' : 'run', reason: msg.reason });
  if (idKind(msg.workId) === 'sbx') {
    const exit = { exitCode: null, reason: msg.reason, message: msg.message };
    const moved = await ctx.store.sandboxes
      .transitionOnNode(conn.nodeId, msg.workId, 'error', exit)
      .catch(refusedUnlessUnreachable);
    if (moved === null) return noteForeignSandbox(ctx, conn, 'failed', msg.workId);
    // The create waiting for this sandbox answers with the agent's own error code.
    ctx.bus.emit(`sandboxFailed:${msg.workId}`, msg.code, msg.message);
    ctx.bus.sandbox(msg.workId);
    return;
  }
  const outcome = await ctx.store.queue.failAttempt(msg.workId, msg.epoch, conn.nodeId, {
    reason: msg.reason,
    message: msg.message,
    retryable: msg.retryable,
  });
  if (outcome === null) await noteRefused(ctx, conn, 'failed', msg.workId, msg.epoch);
  ctx.bus.run(msg.workId);
}

async function started(
  ctx: ServerContext,
  conn: AgentConnection,
  msg: Extract<AgentMessage, { type: 'started' }>,
): Promise<void> {
  const { store, config, bus } = ctx;
  ctx.metrics.launched(msg.workId, msg.templateReadyAtMs);
  if (idKind(msg.workId) !== 'sbx') {
    const templateReadyAt = config.observability ? msg.templateReadyAtMs : undefined;
    if (!(await store.queue.confirmStart(msg.workId, msg.epoch, conn.nodeId, config.leaseMs, templateReadyAt, msg.startedAtMs))) {
      conn.send({ type: 'stop', workId: msg.workId, epoch: msg.epoch });
      await noteRefused(ctx, conn, 'started', msg.workId, msg.epoch);
    }
    bus.run(msg.workId);
    return;
  }
  // A sandbox killed while it was starting is stopped instead of resurrected.
  const s = await store.sandboxes
    .transitionOnNode(conn.nodeId, msg.workId, 'running', undefined, config.observability ? msg.templateReadyAtMs : undefined, msg.startedAtMs)
    .catch(refusedUnlessUnreachable);
  if (s === null) noteForeignSandbox(ctx, conn, 'started', msg.workId);
  // (Its timeout, counted from now, was set by the same change.)
  if (s === undefined || s === null || s.state !== 'running') conn.send({ type: 'stop', workId: msg.workId, epoch: msg.epoch });
  bus.sandbox(msg.workId);
}

/** Appends output chunks of one attempt of `conn`'s node to its run's logs, in order, in one store call. */
export async function appendOutput(
  ctx: ServerContext,
  conn: AgentConnection,
  workId: string,
  epoch: number,
  chunks: readonly OutputMessage[],
): Promise<void> {
  // A sandbox's main process is its template's idle process: nobody reads its output.
  if (idKind(workId) === 'sbx') return;
  ctx.metrics.firstOutput(workId, chunks[0]?.timeMs);
  const appended = await ctx.store.runs.appendLogs(
    workId,
    epoch,
    conn.nodeId,
    chunks.map((c) => ({ stream: c.stream, data: c.data, at: c.timeMs })),
  );
  if (!appended) return noteRefused(ctx, conn, 'output', workId, epoch);
  ctx.bus.run(workId);
  // In memory only (logs/shipper.ts): Loki never holds up the next report.
  if (ctx.logShipper.enabled) shipRunOutput(ctx.logShipper, { tenant: conn.work.get(workId)?.tenantId, run: workId, node: conn.nodeId }, chunks);
}

/** The ids a log line about `workId` carries: its tenant (while placed on `conn`'s node) and its run or sandbox id. */
function workIds(conn: AgentConnection, workId: string): Record<string, string> {
  const tenantId = conn.work.get(workId)?.tenantId;
  return { ...(tenantId === undefined ? {} : { tenantId }), [idKind(workId) === 'sbx' ? 'sandboxId' : 'runId']: workId, nodeId: conn.nodeId };
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
        if (!(await store.queue.extendLease(w.workId, w.epoch, conn.nodeId, config.leaseMs))) {
          conn.send({ type: 'stop', workId: w.workId, epoch: w.epoch });
          await noteRefused(ctx, conn, 'heartbeat', w.workId, w.epoch);
        }
      }
      return;
    }
    case 'started':
      ctx.log.info({ ...workIds(conn, msg.workId), epoch: msg.epoch }, 'work started');
      return started(ctx, conn, msg);
    case 'output':
      return appendOutput(ctx, conn, msg.workId, msg.epoch, [msg]);
    case 'finished':
      ctx.log.info({ ...workIds(conn, msg.workId), epoch: msg.epoch, exitCode: msg.result.exitCode, reason: msg.result.reason, durationMs: msg.result.durationMs }, 'work finished');
      conn.release(msg.workId);
      ctx.metrics.ended(msg.workId);
      if (idKind(msg.workId) === 'sbx') await sandboxFinished(ctx, conn, msg);
      else await runFinished(ctx, conn, msg);
      return scheduleAfterWaiters(ctx);
    case 'failed':
      ctx.log.warn({ ...workIds(conn, msg.workId), epoch: msg.epoch, reason: msg.reason, code: msg.code, message: msg.message, retryable: msg.retryable }, 'work failed');
      conn.release(msg.workId);
      ctx.metrics.ended(msg.workId);
      await failed(ctx, conn, msg);
      return scheduleAfterWaiters(ctx);
    case 'cleaned':
      ctx.metrics.cleaned(msg.workId, msg.atMs);
      if (!config.observability) return;
      if (idKind(msg.workId) === 'sbx') return store.sandboxes.recordCleanup(conn.nodeId, msg.workId, msg.atMs);
      await store.queue.recordCleanup(msg.workId, msg.epoch, msg.atMs);
      return;
    case 'usage':
      return recordUsage(ctx, conn, msg);
    case 'hibernation':
      ctx.log.info({ ...workIds(conn, msg.workId), hibernated: msg.hibernated }, msg.hibernated ? 'sandbox hibernated' : 'sandbox woken');
      if (idKind(msg.workId) !== 'sbx') return;
      await store.sandboxes.setHibernated(conn.nodeId, msg.workId, msg.hibernated ? msg.atMs : null);
      ctx.bus.emit(`sandbox:${msg.workId}`);
      return;
    default:
      return assertNever(msg, 'agent report');
  }
}

/**
 * Keeps a usage report (billed to its work's tenant), whatever its epoch: consumption is real even
 * for an attempt that was fenced. A resend is stored once and counted once.
 */
async function recordUsage(ctx: ServerContext, conn: AgentConnection, msg: Extract<WorkReport, { type: 'usage' }>): Promise<void> {
  const tenant = await ctx.store.usage.record({ ...msg, nodeId: conn.nodeId });
  if (tenant !== undefined) ctx.metrics.usage(tenant, msg.runtime, msg);
}
