/**
 * Level-triggered reconciliation when an agent (re)connects: its reported inventory against the
 * store. Sandboxes the store still wants are adopted back (lost → running/paused); attempts the
 * agent still supervises keep running if their lease is still theirs; everything else on the
 * host is destroyed by the agent; sandboxes the store expects but the node no longer has end in
 * `error`.
 */
import type { AgentMessage } from '@tartarus/core';
import { NotFoundError } from '@tartarus/core';
import type { ServerContext } from '../context.js';

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

/** What the agent keeps: sandbox ids (interactive and of live attempts), and the live run ids. */
export interface Reconciled {
  keep: string[];
  runs: string[];
}

/** Registers the node, settles its previous work, and says what the agent keeps. */
export async function reconcileNode(ctx: ServerContext, hello: Hello): Promise<Reconciled> {
  const { store, bus } = ctx;
  // Attempts the agent still supervises keep their lease (a reconnect of a live agent); when it
  // supervises none (a fresh process), whatever the node held before is settled at once: its
  // attempts fail (retryable — at-least-once) instead of waiting for their leases to expire.
  const live = hello.inventory.filter((i) => i.runId !== undefined && i.epoch !== undefined);
  if (live.length === 0) await settleOldWork(ctx, hello.nodeId);
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
      .filter((i) => i.runId === undefined && (i.state === 'running' || i.state === 'paused'))
      .map((i) => [i.sandboxId, i.state]),
  );
  const keep: string[] = [];
  const runs: string[] = [];
  for (const i of live) {
    if (await store.queue.extendLease(i.runId ?? '', i.epoch ?? 0, ctx.config.leaseMs)) {
      keep.push(i.sandboxId);
      runs.push(i.runId ?? '');
    }
  }
  for (const s of await store.sandboxes.listByNode(hello.nodeId)) {
    const state = alive.get(s.id);
    if (state === 'running' || state === 'paused') {
      await store.sandboxes.transition(s.id, state);
      keep.push(s.id);
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
    { nodeId: hello.nodeId, kept: keep.length, reported: hello.inventory.length },
    'agent reconciled',
  );
  bus.schedule();
  return { keep, runs };
}
