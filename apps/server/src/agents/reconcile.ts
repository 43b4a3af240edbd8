/**
 * Level-triggered reconciliation when an agent (re)connects: its reported inventory against the
 * store. Sandboxes the store still wants are adopted back (lost → running/paused); run attempts
 * the agent still supervises keep running if their lease is still theirs; everything else on the
 * host is destroyed by the agent; sandboxes the store expects but the node no longer has end in
 * `error`.
 */
import type { AgentMessage } from '@tartarus/core';
import { NotFoundError } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { PlacedWork } from './connection.js';

/** The `hello` message. */
export type Hello = Extract<AgentMessage, { type: 'hello' }> & {
  capabilities?: Record<string, unknown>;
};

async function settleOldWork(ctx: ServerContext, nodeId: string): Promise<void> {
  try {
    await ctx.store.nodes.get(nodeId);
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
  const { runs } = await ctx.store.queue.handleNodeDown(nodeId);
  for (const r of runs) ctx.bus.run(r.runId);
}

/** What the agent keeps: sandbox ids (interactive and of live attempts), and the work they hold. */
export interface Reconciled {
  keep: string[];
  work: PlacedWork[];
}

async function keepRuns(ctx: ServerContext, hello: Hello, out: Reconciled): Promise<void> {
  for (const i of hello.inventory) {
    if (i.workId === undefined || i.epoch === undefined || !i.workId.startsWith('run_')) continue;
    // Only an attempt leased to this very node is kept (the store checks epoch and node).
    const { leaseMs } = ctx.config;
    if (!(await ctx.store.queue.extendLease(i.workId, i.epoch, hello.nodeId, leaseMs))) continue;
    const run = await ctx.store.queue.get(i.workId);
    out.keep.push(i.sandboxId);
    out.work.push({ workId: run.id, tenantId: run.tenantId, requests: run.spec.requests });
  }
}

/** Registers the node, settles its previous work, and says what the agent keeps. */
export async function reconcileNode(ctx: ServerContext, hello: Hello): Promise<Reconciled> {
  const { store, bus } = ctx;
  // Attempts the agent still supervises keep their lease (a reconnect of a live agent); when it
  // supervises none (a fresh process), whatever the node held before is settled at once: its
  // attempts fail (retryable — at-least-once) instead of waiting for their leases to expire.
  const supervised = hello.inventory.some((i) => i.workId?.startsWith('run_') === true);
  if (!supervised) await settleOldWork(ctx, hello.nodeId);
  await store.nodes.register({
    id: hello.nodeId,
    name: hello.name,
    runtimes: hello.runtimes,
    capabilities: (hello.capabilities ?? {}) as Record<string, never>,
    labels: hello.labels,
    capacity: hello.capacity,
  });
  const alive = new Map(
    hello.inventory
      .filter((i) => !(i.workId?.startsWith('run_') ?? false))
      .filter((i) => i.state === 'running' || i.state === 'paused')
      .map((i) => [i.sandboxId, i.state]),
  );
  const out: Reconciled = { keep: [], work: [] };
  await keepRuns(ctx, hello, out);
  for (const s of await store.sandboxes.listByNode(hello.nodeId)) {
    const state = alive.get(s.id);
    if (state === 'running' || state === 'paused') {
      await store.sandboxes.transition(s.id, state);
      out.keep.push(s.id);
      out.work.push({ workId: s.id, tenantId: s.tenantId, requests: s.spec.requests });
    } else if (s.timeoutAt !== null && s.timeoutAt <= Date.now()) {
      // Gone past its timeout: the sandbox ended itself at its deadline while no agent watched.
      await store.sandboxes.transition(s.id, 'killed', {
        exitCode: null,
        reason: 'timeout',
        message: 'the sandbox reached its timeout while its agent was away',
      });
    } else {
      await store.sandboxes.transition(s.id, 'error', {
        exitCode: null,
        reason: 'lost',
        message: 'the sandbox was not found on its node when the agent reconnected',
      });
    }
    bus.sandbox(s.id);
  }
  ctx.log.info(
    { nodeId: hello.nodeId, kept: out.keep.length, reported: hello.inventory.length },
    'agent reconciled',
  );
  bus.schedule();
  return out;
}
