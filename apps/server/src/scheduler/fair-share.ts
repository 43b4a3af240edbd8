/**
 * The fair-share planner: which pending work goes to which node in one placement round. Pure: the
 * caller reads tenants, nodes and pending work from the store, plans, then leases what was planned.
 *
 * Tenants take turns by weighted dominant-resource fairness (DRF, Ghodsi et al. 2011): the next
 * placement goes to the tenant whose running work holds the smallest dominant share of the cluster
 * divided by its weight, so a tenant that floods the queue gets no more than its share while
 * others wait, and a tenant with one item and nothing running goes first. Within a tenant, work
 * goes by priority, then by `order`.
 */
import { InvalidArgumentError, PRIORITIES, assertNever, type Priority } from '@tartarus/core';
import { BinaryHeap } from './heap.js';
import { NodeIndex, type NodeCandidate, type PlacementStrategy } from './placement.js';
import { ZERO_RESOURCES, addResources, dominantShare, type Resources } from './resources.js';

// The priorities are core's vocabulary (critical/high/default/low, as Asynq's queues).
export { PRIORITIES, type Priority };

/** Position of `p` in `PRIORITIES`. */
function rankOf(p: Priority): number {
  switch (p) {
    case 'critical':
      return 0;
    case 'high':
      return 1;
    case 'default':
      return 2;
    case 'low':
      return 3;
    default:
      return assertNever(p, 'priority');
  }
}

/** One item of pending work. */
export interface PendingWork {
  /** The queued run's or sandbox's id. */
  id: string;
  /** Whose work it is: fairness is between tenants. */
  tenantId: string;
  /** Urgency within the tenant. */
  priority: Priority;
  /** Order within a priority: lower first (creation time, ms). */
  order: number;
  /** Runtime the node must offer. */
  runtime: string;
  /** Labels the node must carry; undefined: any node. */
  labels?: Record<string, string>;
  /** Template the work starts from; undefined: none (no node is preferred for it). */
  template?: string;
  /** Resources reserved while it runs (its request, not its limit). */
  request: Resources;
}

/** A tenant's standing. */
export interface TenantShare {
  /** The tenant; the key of the map passed to the planner. */
  tenantId: string;
  /** Relative weight, > 0. Default 1. */
  weight: number;
  /** What its running work reserves now. */
  reserved: Resources;
  /** Its work running now (sandboxes and runs). */
  running: number;
  /** Most work running at once; null: no cap. */
  maxRunning: number | null;
  /**
   * When the tenant last got a placement (any increasing number; undefined: never). Breaks the
   * last tie in favour of the tenant served least recently, so that when one slot frees and both
   * tenants run nothing, the one that waited goes first — round-robin among equals.
   */
  lastServedAt?: number;
}

/** One decision of a round: put `work` on the node `nodeId`. */
export interface Placement {
  /** The item placed (the object passed in). */
  work: PendingWork;
  /** The node it goes to. */
  nodeId: string;
}

/** How a round places work. */
export interface PlanOptions {
  /** Which node among those that fit. */
  strategy: PlacementStrategy;
  /** Stop after this many placements. Default Infinity. */
  max?: number;
}

/** A tenant during a round: its standing, its queue and its place in the turn order. */
interface TenantTurn {
  share: TenantShare;
  /** Pending work per priority rank, each sorted by order then id. */
  queues: PendingWork[][];
  /** Next item to consider in each queue: items before it were placed or fit nowhere. */
  cursors: number[];
  /** Dominant share over weight: the turn order. */
  key: number;
  /** Running over weight: breaks ties of `key` (all-zero requests leave every share at 0). */
  tie: number;
}

/** What a tenant's dominant share is measured against. */
interface Cluster {
  total: Resources;
  slots: number;
}

function before(a: TenantTurn, b: TenantTurn): boolean {
  if (a.key !== b.key) return a.key < b.key;
  if (a.tie !== b.tie) return a.tie < b.tie;
  const la = a.share.lastServedAt ?? 0;
  const lb = b.share.lastServedAt ?? 0;
  if (la !== lb) return la < lb;
  return a.share.tenantId < b.share.tenantId;
}

/**
 * Sets the turn order of a tenant. Slots count as a fourth resource beside cpu, memory and disk,
 * so that work requesting nothing still shares the cluster fairly.
 */
function rekey(t: TenantTurn, cluster: Cluster): void {
  const { share } = t;
  const slotShare = cluster.slots > 0 ? share.running / cluster.slots : 0;
  t.key = Math.max(dominantShare(share.reserved, cluster.total), slotShare) / share.weight;
  t.tie = share.running / share.weight;
}

function clusterOf(nodes: readonly NodeCandidate[]): Cluster {
  let total: Resources = ZERO_RESOURCES;
  let slots = 0;
  for (const n of nodes) {
    total = addResources(total, n.allocatable);
    slots += n.slots;
  }
  return { total, slots };
}

function byOrder(a: PendingWork, b: PendingWork): number {
  return a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function isSorted(queue: readonly PendingWork[]): boolean {
  for (let i = 1; i < queue.length; i++) {
    if (byOrder(queue[i - 1] as PendingWork, queue[i] as PendingWork) > 0) return false;
  }
  return true;
}

function newTurn(tenantId: string, tenants: ReadonlyMap<string, TenantShare>): TenantTurn {
  const share = tenants.get(tenantId) ?? {
    tenantId,
    weight: 1,
    reserved: ZERO_RESOURCES,
    running: 0,
    maxRunning: null,
  };
  if (!(share.weight > 0 && Number.isFinite(share.weight))) {
    throw new InvalidArgumentError(
      `tenant "${tenantId}" has weight ${share.weight}; a weight must be a finite number > 0`,
    );
  }
  return {
    share,
    queues: PRIORITIES.map(() => []),
    cursors: PRIORITIES.map(() => 0),
    key: 0,
    tie: 0,
  };
}

/** Groups the pending work by tenant and priority: O(n) per round, the planner's largest fixed cost. */
function turnsOf(
  pending: readonly PendingWork[],
  tenants: ReadonlyMap<string, TenantShare>,
): TenantTurn[] {
  const turns = new Map<string, TenantTurn>();
  for (const work of pending) {
    let t = turns.get(work.tenantId);
    if (t === undefined) {
      t = newTurn(work.tenantId, tenants);
      turns.set(work.tenantId, t);
    }
    (t.queues[rankOf(work.priority)] as PendingWork[]).push(work);
  }
  // A store returns work in order: checking is cheaper than even Timsort's pass over sorted input.
  for (const t of turns.values()) for (const q of t.queues) if (!isSorted(q)) q.sort(byOrder);
  return [...turns.values()];
}

function atCap(share: TenantShare): boolean {
  return share.maxRunning !== null && share.running >= share.maxRunning;
}

/**
 * Places the tenant's first item that fits a node (by priority, then order); items found to fit
 * nowhere are passed over for the rest of the round (nodes only fill up during a round).
 */
function placeNext(t: TenantTurn, index: NodeIndex): Placement | undefined {
  for (let p = 0; p < t.queues.length; p++) {
    const queue = t.queues[p] as PendingWork[];
    let c = t.cursors[p] as number;
    while (c < queue.length) {
      const work = queue[c++] as PendingWork;
      const node = index.place(work);
      if (node !== undefined) {
        t.cursors[p] = c;
        return { work, nodeId: node.nodeId };
      }
    }
    t.cursors[p] = c;
  }
  return undefined;
}

/**
 * `planPlacements`, one decision at a time: each `next()` makes one placement (and applies it to
 * the nodes and tenants) or ends the round. Stopping early is allowed; what was yielded stays
 * applied. The first `next()` also groups and sorts the pending work, O(n log n) at worst.
 */
export function* iteratePlacements(
  pending: readonly PendingWork[],
  tenants: ReadonlyMap<string, TenantShare>,
  nodes: NodeCandidate[],
  options: PlanOptions,
): Generator<Placement, void, undefined> {
  const max = options.max ?? Infinity;
  if (max <= 0 || pending.length === 0 || nodes.length === 0) return;
  const cluster = clusterOf(nodes);
  const index = new NodeIndex(nodes, options.strategy);
  const turns = turnsOf(pending, tenants).filter((t) => !atCap(t.share));
  for (const t of turns) rekey(t, cluster);
  const heap = new BinaryHeap(before, turns);
  for (let placed = 0; placed < max;) {
    const t = heap.peek();
    if (t === undefined) return;
    const placement = placeNext(t, index);
    if (placement === undefined) {
      // Nothing of this tenant fits anywhere: it is done for the round, and no one waits on it.
      heap.pop();
      continue;
    }
    const { share } = t;
    share.reserved = addResources(share.reserved, placement.work.request);
    share.running += 1;
    if (atCap(share)) heap.pop();
    else {
      rekey(t, cluster);
      heap.updateTop();
    }
    placed++;
    yield placement;
  }
}

/**
 * Decides which pending work goes where in one placement round: tenants are served by weighted
 * dominant-resource fairness (the tenant whose running work has the lowest dominant share of the
 * cluster, divided by its weight, goes next), work within a tenant by priority then order.
 * Nodes' `reserved`/`used` and tenants' `reserved`/`running` are updated in place (callers pass copies),
 * so the plan accounts for its own placements. Work that fits no node stays pending (it is not placed,
 * and it does not block the tenant's other work that does fit, nor other tenants).
 * A tenant at maxRunning gets nothing more this round.
 *
 * The dominant share is taken over cpu, memory and disk against the sum of all nodes'
 * `allocatable`, and over slots (`running` against the sum of all nodes' `slots`); equal shares go
 * to the tenant with less running work per weight, then to the least tenant id. A tenant missing
 * from `tenants` has weight 1, nothing running and no cap. Each node chosen is the one
 * `rankNodes(nodes, work, strategy)[0]` would choose at that point of the round.
 *
 * @throws InvalidArgumentError when a tenant with pending work has a weight that is not a finite number > 0.
 */
export function planPlacements(
  pending: readonly PendingWork[],
  tenants: ReadonlyMap<string, TenantShare>,
  nodes: NodeCandidate[],
  options: PlanOptions,
): Placement[] {
  return [...iteratePlacements(pending, tenants, nodes, options)];
}
