/**
 * Placement: filters (runtime, labels, a free slot, resources) then scores (bin-pack or spread,
 * with a bonus for a node that already holds the work's template). Pure, so the rules are tested
 * without nodes.
 *
 * Two entry points share one `fits` and one `score`, so they cannot drift apart:
 * - `rankNodes` orders every node for one piece of work (the API's sandbox creation);
 * - `NodeIndex` answers "which node would `rankNodes` put first" many times in a row while
 *   placements fill the nodes (the fair-share planner), without re-sorting and without
 *   re-filtering by runtime and labels each time.
 */
import { assertNever } from '@tartarus/core';
import {
  RESOURCE_EPSILON,
  ZERO_RESOURCES,
  addResources,
  dominantShare,
  fitsBeside,
  type Resources,
} from './resources.js';

/** What placement knows about a node. */
export interface NodeCandidate {
  /** The node's id; ties between equal scores go to the least (code-unit order). */
  nodeId: string;
  /** Runtimes the node offers (`container`, `gvisor`, `microvm`). */
  runtimes: string[];
  /** The node's labels, matched by `PlacementRequest.labels`. */
  labels: Record<string, string>;
  /** What may be reserved on the node in total: its capacity times the overcommit factors. */
  allocatable: Resources;
  /** Sum of the requests of the work placed on it. */
  reserved: Resources;
  /** Most sandboxes at once. */
  slots: number;
  /** Sandboxes on it now. */
  used: number;
  /** Templates already built on the node (scoring prefers them); undefined: unknown. */
  templates?: ReadonlySet<string>;
}

/** What the work needs. */
export interface PlacementRequest {
  /** Runtime required; undefined: any. */
  runtime?: string;
  /** Labels every chosen node must carry. */
  labels?: Record<string, string>;
  /** Resources reserved for the work (its request, not its limit). Default: nothing. */
  request?: Resources;
  /** Template the work starts from: a node that holds it scores higher. */
  template?: string;
}

/** `binpack` fills the busiest node first (keeps others idle/drainable); `spread` the idlest. */
export type PlacementStrategy = 'binpack' | 'spread';

/**
 * Score added for a node that holds the work's template. Loads are fractions in [0, 1], so 0.1
 * decides between nodes of about the same load but never sends work to a node 10 points busier
 * (spread) or idler (binpack) just to skip a template build.
 */
export const TEMPLATE_BONUS = 0.1;

/**
 * How full a node is, in [0, 1]: the larger of its slot use and the dominant share of its
 * reservations over its allocatable. A node with no slots counts as full.
 */
export function nodeLoad(n: NodeCandidate): number {
  if (n.slots <= 0) return 1;
  return Math.max(n.used / n.slots, dominantShare(n.reserved, n.allocatable));
}

function labelsMatch(n: NodeCandidate, labels: Record<string, string> | undefined): boolean {
  if (labels === undefined) return true;
  for (const k in labels) if (n.labels[k] !== labels[k]) return false;
  return true;
}

/** Whether the node can take the work now (runtime, labels, a free slot, request within allocatable - reserved). */
export function fits(n: NodeCandidate, req: PlacementRequest): boolean {
  if (n.used >= n.slots) return false;
  if (req.runtime !== undefined && !n.runtimes.includes(req.runtime)) return false;
  if (!labelsMatch(n, req.labels)) return false;
  return fitsBeside(req.request ?? ZERO_RESOURCES, n.allocatable, n.reserved);
}

function score(load: number, holdsTemplate: boolean, strategy: PlacementStrategy): number {
  const bonus = holdsTemplate ? TEMPLATE_BONUS : 0;
  switch (strategy) {
    case 'binpack':
      return load + bonus;
    case 'spread':
      return -load + bonus;
    default:
      return assertNever(strategy, 'placement strategy');
  }
}

function holds(n: NodeCandidate, template: string | undefined): boolean {
  return template !== undefined && n.templates !== undefined && n.templates.has(template);
}

/** Code-unit order: deterministic whatever the process locale (unlike `localeCompare`). */
function byNodeId(a: NodeCandidate, b: NodeCandidate): number {
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
}

/** Nodes that can take the work, best first (ties broken by node id). */
export function rankNodes(
  nodes: NodeCandidate[],
  req: PlacementRequest,
  strategy: PlacementStrategy,
): NodeCandidate[] {
  return nodes
    .filter((n) => fits(n, req))
    .map((n) => ({ n, s: score(nodeLoad(n), holds(n, req.template), strategy) }))
    .sort((a, b) => b.s - a.s || byNodeId(a.n, b.n))
    .map((x) => x.n);
}

/** Requests remembered per node class as "fits nowhere", so a backlog of alike work is refused at once. */
const MAX_REMEMBERED_MISSES = 8;

/** The nodes that carry a runtime and a set of labels, and what was already found not to fit them. */
interface NodeClass {
  /**
   * Indexes into the id-sorted nodes, ascending (so the first of equal scores has the least id);
   * only the first `count` are live: a node with no free slot left is dropped, for good.
   */
  members: Int32Array;
  count: number;
  /** Requests that fit no member: any request at least as large fits none either. */
  misses: Resources[];
}

function coversAll(request: Resources, miss: Resources): boolean {
  return (
    request.cpu >= miss.cpu &&
    request.memoryMiB >= miss.memoryMiB &&
    request.diskMiB >= miss.diskMiB
  );
}

function classKey(req: PlacementRequest): string {
  let key = req.runtime === undefined ? '*' : `=${req.runtime}`;
  if (req.labels !== undefined) {
    for (const k of Object.keys(req.labels).sort()) key += `\0${k}\0${req.labels[k]}`;
  }
  return key;
}

/**
 * The best node for each of many pieces of work in a row, as `rankNodes(nodes, req, strategy)[0]`
 * would choose it (same filters, same score, same tie-break), while `place` records each
 * placement on the nodes. Nodes are bucketed once per runtime and label set; each query scans
 * that bucket's members with cached loads, dropping the nodes whose slots are all used. Valid
 * only while nodes change through `place`: nodes that filled up are forgotten and requests found
 * to fit nowhere are remembered, both sound only because placements never free anything.
 */
export class NodeIndex {
  readonly #nodes: NodeCandidate[];
  readonly #strategy: PlacementStrategy;
  readonly #load: Float64Array;
  /**
   * Per node, four numbers: allocatable - reserved for cpu, memory and disk, then slots - used.
   * Flat and typed so the scan reads one cache line per node instead of chasing three objects;
   * the same subtractions as `fits`, so the same answers.
   */
  readonly #free: Float64Array;
  readonly #classes = new Map<string, NodeClass>();
  readonly #templates = new Map<string, Uint8Array>();
  /** Nodes holding each template, built on the first query that names one. */
  #holders: Map<string, number[]> | undefined;

  /** Indexes `nodes` (the objects themselves: `place` updates them). */
  constructor(nodes: readonly NodeCandidate[], strategy: PlacementStrategy) {
    this.#nodes = [...nodes].sort(byNodeId);
    this.#strategy = strategy;
    this.#load = new Float64Array(this.#nodes.length);
    this.#free = new Float64Array(4 * this.#nodes.length);
    for (let i = 0; i < this.#nodes.length; i++) this.#refresh(i);
  }

  /** The node `rankNodes` would rank first for `req`; undefined when none fits. */
  best(req: PlacementRequest): NodeCandidate | undefined {
    const i = this.#bestIndex(req);
    return i < 0 ? undefined : this.#nodes[i];
  }

  /**
   * Finds the best node for `req` and places the work there (its request reserved, one slot
   * used); undefined, and nothing changed, when no node fits.
   */
  place(req: PlacementRequest): NodeCandidate | undefined {
    const i = this.#bestIndex(req);
    const n = this.#nodes[i];
    if (n === undefined) return undefined;
    n.reserved = addResources(n.reserved, req.request ?? ZERO_RESOURCES);
    n.used += 1;
    this.#refresh(i);
    return n;
  }

  #refresh(i: number): void {
    const n = this.#nodes[i] as NodeCandidate;
    const { allocatable: a, reserved: r } = n;
    const f = this.#free;
    f[4 * i] = a.cpu - r.cpu;
    f[4 * i + 1] = a.memoryMiB - r.memoryMiB;
    f[4 * i + 2] = a.diskMiB - r.diskMiB;
    f[4 * i + 3] = n.slots - n.used;
    this.#load[i] = nodeLoad(n);
  }

  #bestIndex(req: PlacementRequest): number {
    const cls = this.#class(req);
    const request = req.request ?? ZERO_RESOURCES;
    for (const miss of cls.misses) if (coversAll(request, miss)) return -1;
    const mask = req.template === undefined ? undefined : this.#templateMask(req.template);
    const { cpu, memoryMiB, diskMiB } = request;
    const free = this.#free;
    const load = this.#load;
    const strategy = this.#strategy;
    const members = cls.members;
    let best = -1;
    let bestScore = -Infinity;
    let live = 0;
    for (let m = 0; m < cls.count; m++) {
      const i = members[m] as number;
      const f = 4 * i;
      if ((free[f + 3] as number) <= 0) continue; // no slot left: used >= slots
      members[live++] = i; // compacts in place, keeping the id order
      if (
        cpu > (free[f] as number) + RESOURCE_EPSILON ||
        memoryMiB > (free[f + 1] as number) + RESOURCE_EPSILON ||
        diskMiB > (free[f + 2] as number) + RESOURCE_EPSILON
      )
        continue; // as !fitsBeside(request, allocatable, reserved)
      const s = score(load[i] as number, mask !== undefined && mask[i] === 1, strategy);
      if (s > bestScore) {
        best = i;
        bestScore = s;
      }
    }
    cls.count = live;
    if (best < 0 && cls.misses.length < MAX_REMEMBERED_MISSES) cls.misses.push({ ...request });
    return best;
  }

  #class(req: PlacementRequest): NodeClass {
    const key = classKey(req);
    let cls = this.#classes.get(key);
    if (cls === undefined) {
      const members: number[] = [];
      this.#nodes.forEach((n, i) => {
        if (req.runtime !== undefined && !n.runtimes.includes(req.runtime)) return;
        if (labelsMatch(n, req.labels)) members.push(i);
      });
      cls = { members: Int32Array.from(members), count: members.length, misses: [] };
      this.#classes.set(key, cls);
    }
    return cls;
  }

  /** One byte per node, 1 where the node holds `template`. */
  #templateMask(template: string): Uint8Array {
    let mask = this.#templates.get(template);
    if (mask === undefined) {
      // Asking every node's set about every template would cost nodes × templates per round;
      // one pass over what the nodes hold costs only that.
      this.#holders ??= this.#indexTemplates();
      mask = new Uint8Array(this.#nodes.length);
      for (const i of this.#holders.get(template) ?? []) mask[i] = 1;
      this.#templates.set(template, mask);
    }
    return mask;
  }

  #indexTemplates(): Map<string, number[]> {
    const holders = new Map<string, number[]>();
    this.#nodes.forEach((n, i) => {
      for (const t of n.templates ?? []) {
        const list = holders.get(t);
        if (list === undefined) holders.set(t, [i]);
        else list.push(i);
      }
    });
    return holders;
  }
}
