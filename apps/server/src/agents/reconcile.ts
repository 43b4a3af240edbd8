/**
 * Level-triggered reconciliation when an agent (re)connects: its reported inventory against the
 * store. Sandboxes the store still wants are adopted back (lost → running/paused); sandboxes it
 * does not know, and run sandboxes (whose attempt is failed and retried below), are destroyed;
 * sandboxes the store expects but the node no longer has end in `error`.
 */
import type { AgentMessage } from '@tartarus/core';
import { NotFoundError } from '@tartarus/core';
import type { ServerContext } from '../context.js';

/** The `hello` message. */
export type Hello = Extract<AgentMessage, { type: 'hello' }> & {
  capabilities?: Record<string, unknown>;
};

/** Registers the node, settles its previous work, and returns the sandbox ids the agent keeps. */
export async function reconcileNode(ctx: ServerContext, hello: Hello): Promise<string[]> {
  const { store, bus } = ctx;
  // Whatever this node held before the (re)connect is settled first: its run attempts fail
  // (retryable — at-least-once) and its sandboxes are marked lost until the inventory says otherwise.
  // A reconnect of a still-running agent loses its attempts too; they are fenced and rerun.
  try {
    await store.nodes.get(hello.nodeId);
    const { runs } = await store.queue.handleNodeDown(hello.nodeId);
    for (const r of runs) bus.run(r.runId);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
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
  return keep;
}
