/**
 * Admission: refuses at once what no node could ever hold, before anything is stored. A spec
 * passes when some node (connected, else registered and up) offers its runtime, carries its node
 * selector, and is large enough for its limits (a limit past a whole node can never be honoured;
 * requests never exceed the limits, `compile` sees to that). With no node known at all the work
 * is accepted and waits queued: nodes may join later. Unknown templates are refused too, so a
 * typo is a 400 now, not a dead run later.
 */
import { InvalidArgumentError, NODE_ID_LABEL, RuntimeUnavailableError, type WorkloadSpec } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { NodeResources } from '../store/index.js';

/** How long a replica reuses the store's list of up nodes, ms. */
const UP_NODES_FRESH_MS = 1000;

interface KnownNode {
  name: string;
  runtimes: string[];
  labels: Record<string, string>;
  capacity: NodeResources;
}

/** Why `node` can never hold `spec`, or undefined when it can. */
function misfit(node: KnownNode, spec: WorkloadSpec): string | undefined {
  const c = node.capacity;
  if (spec.limits.cpu > c.cpu) return `limits.cpu ${spec.limits.cpu}`;
  if (spec.limits.memoryMiB > c.memoryMiB) return `limits.memoryMiB ${spec.limits.memoryMiB}`;
  if (c.diskMiB !== undefined && c.diskMiB > 0 && spec.limits.diskMiB > c.diskMiB)
    return `limits.diskMiB ${spec.limits.diskMiB}`;
  return undefined;
}

function describe(n: KnownNode): string {
  const disk = n.capacity.diskMiB ? `, ${n.capacity.diskMiB} MiB disk` : '';
  return `${n.name} (${n.capacity.cpu} cpu, ${n.capacity.memoryMiB} MiB memory${disk})`;
}

/** Admission checks of one server. */
export class Admission {
  private templates: { names: Set<string>; atMs: number } | undefined;
  private upNodes: { nodes: KnownNode[]; atMs: number } | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** Throws a 4xx saying what to change when no node could ever run `spec`. */
  async check(spec: WorkloadSpec): Promise<void> {
    // An image is pulled by the node that runs the work; a bad reference fails that attempt with a message naming it.
    if (spec.image === null) await this.checkTemplate(spec.template);
    const nodes = await this.knownNodes();
    if (nodes.length === 0) return;
    const offering = nodes.filter((n) => n.runtimes.includes(spec.runtime));
    if (offering.length === 0) {
      const offered = [...new Set(nodes.flatMap((n) => n.runtimes))].join(', ') || 'none';
      throw new RuntimeUnavailableError(
        `no node offers runtime "${spec.runtime}"; available: ${offered}`,
      );
    }
    const selected = offering.filter((n) =>
      Object.entries(spec.nodeSelector).every(([k, v]) => n.labels[k] === v),
    );
    if (selected.length === 0)
      throw new InvalidArgumentError(
        `no node carries the labels of nodeSelector ${JSON.stringify(spec.nodeSelector)}: remove or change them`,
      );
    const reasons = selected.map((n) => misfit(n, spec));
    if (reasons.some((r) => r === undefined)) return;
    const largest = [...selected].sort(
      (a, b) => b.capacity.cpu - a.capacity.cpu || b.capacity.memoryMiB - a.capacity.memoryMiB,
    )[0];
    const reason = reasons[0] ?? 'the request';
    throw new InvalidArgumentError(
      `${reason} is more than any node has; the largest node is ${largest ? describe(largest) : 'none'}: ask for at most that`,
      { context: { largestNode: largest?.name } },
    );
  }

  /**
   * The nodes work could run on: the agents connected here (the nodes the store has up when none
   * is); on one replica of several, whose agents the others hold, the nodes the store has up (read
   * at most once a second).
   */
  private async knownNodes(): Promise<KnownNode[]> {
    const connected = this.hub.list();
    if (!this.hub.clustered) {
      if (connected.length === 0) return (await this.ctx.store.nodes.list({ status: 'up' })).map((n) => ({ ...n, labels: { ...n.labels, [NODE_ID_LABEL]: n.id } }));
      return connected.map((c) => ({
        name: c.nodeId,
        runtimes: c.runtimes,
        labels: c.labels,
        capacity: c.capacity,
      }));
    }
    if (this.upNodes === undefined || Date.now() - this.upNodes.atMs > UP_NODES_FRESH_MS) {
      const nodes = await this.ctx.store.nodes.list({ status: 'up' });
      this.upNodes = { nodes: nodes.map((n) => ({ ...n, labels: { ...n.labels, [NODE_ID_LABEL]: n.id } })), atMs: Date.now() };
    }
    return this.upNodes.nodes;
  }

  /**
   * Rejects a template no node knows. With no agent connected the work is accepted as is (it
   * waits queued; the agent reports a bad name when it tries).
   */
  private async checkTemplate(name: string): Promise<void> {
    if (!this.hub.hasAgents()) return;
    if (this.templates === undefined || Date.now() - this.templates.atMs > 30_000) {
      const items = await this.hub
        .any()
        .then((a) => a.call('listTemplates', {}, { timeoutMs: 5000 }))
        .catch(() => undefined);
      if (items === undefined) return;
      this.templates = { names: new Set(items.map((t) => t.name)), atMs: Date.now() };
    }
    if (!this.templates.names.has(name)) {
      throw new InvalidArgumentError(
        `unknown template "${name}": use one of ${[...this.templates.names].join(', ')}`,
      );
    }
  }
}
