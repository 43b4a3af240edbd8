/**
 * Placement: filters (runtime, labels, free slots) then scores (bin-pack or spread). Pure, so the
 * rules are tested without nodes.
 */
import { assertNever } from '@tartarus/core';

/** What placement knows about a node. */
export interface NodeCandidate {
  nodeId: string;
  runtimes: string[];
  labels: Record<string, string>;
  /** Total sandbox slots. */
  slots: number;
  /** Slots free now. */
  free: number;
}

/** What the work needs. */
export interface PlacementRequest {
  /** Runtime required; undefined: any. */
  runtime?: string;
  /** Labels every chosen node must carry. */
  labels?: Record<string, string>;
}

/** `binpack` fills the busiest node first (keeps others idle/drainable); `spread` the idlest. */
export type PlacementStrategy = 'binpack' | 'spread';

function fits(n: NodeCandidate, req: PlacementRequest): boolean {
  if (n.free < 1) return false;
  if (req.runtime !== undefined && !n.runtimes.includes(req.runtime)) return false;
  return Object.entries(req.labels ?? {}).every(([k, v]) => n.labels[k] === v);
}

function score(n: NodeCandidate, strategy: PlacementStrategy): number {
  const load = n.slots > 0 ? (n.slots - n.free) / n.slots : 1;
  switch (strategy) {
    case 'binpack':
      return load;
    case 'spread':
      return -load;
    default:
      return assertNever(strategy, 'placement strategy');
  }
}

/** Nodes that can take the work, best first (ties broken by node id for determinism). */
export function rankNodes(
  nodes: NodeCandidate[],
  req: PlacementRequest,
  strategy: PlacementStrategy,
): NodeCandidate[] {
  return nodes
    .filter((n) => fits(n, req))
    .sort((a, b) => score(b, strategy) - score(a, strategy) || a.nodeId.localeCompare(b.nodeId));
}
