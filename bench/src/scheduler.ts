/**
 * Benchmark `scheduler`: how fast the fair-share planner decides, on a simulated cluster. No
 * process, no store: 1,000 nodes of mixed sizes and runtimes, 100,000 pending runs from 100
 * tenants (a few hold most of the backlog), placed in rounds of at most 1,000 placements; work
 * finishes `LIFETIME_ROUNDS` rounds after it was placed, so the cluster saturates and later
 * rounds place into freed capacity, as on a busy server. Seeded, so every run plans the same.
 *
 *   npm run bench -- scheduler [--iterations N]   (N whole simulations per strategy, default 1)
 *
 * Figures (binpack, the server's default; `spread*` the same for spread):
 * - `placementsPerSec`: placements ÷ planning time (grouping and sorting the pending work each
 *   round included); target ≥ 20,000.
 * - `p50PlacementMs`, `p99PlacementMs`, `p999PlacementMs`: latency of one placement decision (one
 *   `next()` of `iteratePlacements`; a round's first also groups the pending work).
 * - `fairnessJain`: Jain's index (1 = equal) of weighted dominant share gained in the first round
 *   by the tenants still backlogged after it; `fairnessJainCount` the same over placement counts
 *   ÷ weight (below 1 because request sizes differ between tenants).
 */
import {
  PRIORITIES,
  ZERO_RESOURCES,
  addResources,
  dominantShare,
  iteratePlacements,
  subtractResources,
  type NodeCandidate,
  type PendingWork,
  type Placement,
  type PlacementStrategy,
  type Priority,
  type Resources,
  type TenantShare,
} from '@tartarus/server/scheduler';
import type { BenchArgs } from './main.js';
import { checkStop, median, round, seededRandom } from './stats.js';

const NODES = 1_000;
const PENDING = 100_000;
const TENANTS = 100;
/** Placements per round (`PlanOptions.max`). */
const ROUND_MAX = 1_000;
/** Rounds a placed item runs before it finishes and frees its node's capacity. */
const LIFETIME_ROUNDS = 40;
/** Guard: the simulation stops here even if work is left. */
const MAX_ROUNDS = 1_000;
const TEMPLATES = 30;
const GIB = 1024;
const SEED = 20_261_122;


/** Picks from `[weight, value]` pairs in proportion to the weights. */
function weighted<T>(random: () => number, table: readonly (readonly [number, T])[]): T {
  const total = table.reduce((s, [w]) => s + w, 0);
  let x = random() * total;
  for (const [w, v] of table) if ((x -= w) < 0) return v;
  return (table[table.length - 1] as readonly [number, T])[1];
}

function makeNodes(random: () => number): NodeCandidate[] {
  return Array.from({ length: NODES }, (_, i) => {
    const cores = weighted(random, [
      [3, 16],
      [3, 32],
      [2, 48],
      [2, 64],
    ] as const);
    const runtimes = ['container'];
    if (random() < 0.5) runtimes.push('gvisor');
    if (random() < 0.2) runtimes.push('microvm');
    const labels: Record<string, string> = { zone: `z${i % 3}` };
    if (random() < 0.05) labels.gpu = 'true';
    const templates = new Set<string>();
    for (let k = Math.floor(random() * 6); k > 0; k--)
      templates.add(`t${Math.floor(random() * TEMPLATES)}`);
    return {
      nodeId: `node-${String(i).padStart(4, '0')}`,
      runtimes,
      labels,
      // cpu overcommitted twice, memory not: the usual sandbox host.
      allocatable: {
        cpu: cores * 2,
        memoryMiB: cores * 4 * GIB,
        diskMiB:
          weighted(random, [
            [1, 500],
            [1, 1000],
          ] as const) * GIB,
      },
      reserved: ZERO_RESOURCES,
      slots: cores,
      used: 0,
      templates,
    };
  });
}

function makeTenants(): Map<string, TenantShare> {
  return new Map(
    Array.from({ length: TENANTS }, (_, i) => {
      const tenantId = `tenant-${String(i).padStart(3, '0')}`;
      const weight = i % 25 === 0 ? 4 : i % 10 === 0 ? 2 : 1;
      const share: TenantShare = {
        tenantId,
        weight,
        reserved: ZERO_RESOURCES,
        running: 0,
        maxRunning: i % 7 === 3 ? 2_000 : null,
      };
      return [tenantId, share] as const;
    }),
  );
}

const REQUESTS: readonly (readonly [number, Resources])[] = [
  [70, { cpu: 0.125, memoryMiB: 128, diskMiB: 0 }],
  [20, { cpu: 0.5, memoryMiB: GIB, diskMiB: GIB }],
  [8, { cpu: 2, memoryMiB: 4 * GIB, diskMiB: 4 * GIB }],
  [2, { cpu: 8, memoryMiB: 16 * GIB, diskMiB: 10 * GIB }],
];
const PRIORITY_MIX: readonly (readonly [number, Priority])[] = [
  [5, 'critical'],
  [15, 'high'],
  [60, 'default'],
  [20, 'low'],
];
const RUNTIME_MIX = [
  [60, 'container'],
  [30, 'gvisor'],
  [10, 'microvm'],
] as const;

/** `runtime` plus sorted labels: the node classes that exist, so that all generated work can run somewhere. */
function classKeys(nodes: readonly NodeCandidate[]): Set<string> {
  const keys = new Set<string>();
  for (const n of nodes) {
    for (const r of n.runtimes) {
      keys.add(r);
      for (const [k, v] of Object.entries(n.labels)) keys.add(`${r} ${k}=${v}`);
    }
  }
  return keys;
}

/**
 * Backlog skewed as Zipf(1.1): tenant 0 queues about 40 times what tenant 99 does. Every item
 * fits some node of an empty cluster (labels no node of its runtime carries are dropped), so the
 * simulation ends with nothing pending.
 */
function makePending(
  random: () => number,
  tenantIds: readonly string[],
  nodes: readonly NodeCandidate[],
): PendingWork[] {
  const zipf = tenantIds.map((id, k) => [1 / (k + 1) ** 1.1, id] as const);
  const classes = classKeys(nodes);
  return Array.from({ length: PENDING }, (_, order) => {
    const work: PendingWork = {
      id: `run-${order}`,
      tenantId: weighted(random, zipf),
      priority: weighted(random, PRIORITY_MIX),
      order,
      runtime: weighted(random, RUNTIME_MIX),
      request: weighted(random, REQUESTS),
    };
    const r = random();
    if (r < 0.1) work.labels = { zone: `z${Math.floor(random() * 3)}` };
    else if (r < 0.11) work.labels = { gpu: 'true' };
    const [label] = Object.entries(work.labels ?? {});
    if (label && !classes.has(`${work.runtime} ${label[0]}=${label[1]}`)) delete work.labels;
    if (random() < 0.5) work.template = `t${Math.floor(random() * TEMPLATES)}`;
    return work;
  });
}

/** What one simulation measured. */
interface Outcome {
  placements: number;
  rounds: number;
  planningMs: number;
  /** One per placement: the time of the `next()` that produced it. */
  latenciesMs: Float64Array;
  roundMs: number[];
  fairness: { jain: number; jainCount: number; backlogged: number };
}

/** Frees what finished: the node capacity and the tenant standing of work placed long enough ago. */
function finish(
  done: readonly Placement[],
  nodes: Map<string, NodeCandidate>,
  tenants: Map<string, TenantShare>,
): void {
  for (const { work, nodeId } of done) {
    const n = nodes.get(nodeId) as NodeCandidate;
    n.reserved = subtractResources(n.reserved, work.request);
    n.used -= 1;
    const t = tenants.get(work.tenantId) as TenantShare;
    t.reserved = subtractResources(t.reserved, work.request);
    t.running -= 1;
  }
}

function jain(xs: readonly number[]): number {
  const sum = xs.reduce((s, x) => s + x, 0);
  const squares = xs.reduce((s, x) => s + x * x, 0);
  return squares === 0 ? 1 : (sum * sum) / (xs.length * squares);
}

/** Jain's index over the tenants that still had work after the first round and were not capped. */
function firstRoundFairness(
  placed: readonly Placement[],
  pending: readonly PendingWork[],
  tenants: Map<string, TenantShare>,
  nodes: readonly NodeCandidate[],
): Outcome['fairness'] {
  const total = nodes.reduce<Resources>((s, n) => addResources(s, n.allocatable), ZERO_RESOURCES);
  const slots = nodes.reduce((s, n) => s + n.slots, 0);
  const left = new Map<string, number>();
  for (const w of pending) left.set(w.tenantId, (left.get(w.tenantId) ?? 0) + 1);
  for (const p of placed) left.set(p.work.tenantId, (left.get(p.work.tenantId) ?? 0) - 1);
  const backlogged = [...tenants.values()].filter(
    (t) => (left.get(t.tenantId) ?? 0) > 0 && (t.maxRunning === null || t.running < t.maxRunning),
  );
  // After the first round a tenant's standing is exactly what that round gave it.
  const shares = backlogged.map(
    (t) => Math.max(dominantShare(t.reserved, total), t.running / slots) / t.weight,
  );
  const counts = backlogged.map((t) => t.running / t.weight);
  return { jain: jain(shares), jainCount: jain(counts), backlogged: backlogged.length };
}

/** One round: plans, timing each decision into `latencies` from `at`; returns the placements. */
function timedRound(
  pending: readonly PendingWork[],
  tenants: Map<string, TenantShare>,
  nodes: NodeCandidate[],
  strategy: PlacementStrategy,
  latencies: Float64Array,
  at: number,
): { placed: Placement[]; ms: number } {
  const placed: Placement[] = [];
  const plan = iteratePlacements(pending, tenants, nodes, { strategy, max: ROUND_MAX });
  const start = performance.now();
  let t0 = start;
  for (;;) {
    const step = plan.next();
    const t1 = performance.now();
    if (step.done) break;
    latencies[at + placed.length] = t1 - t0;
    placed.push(step.value);
    t0 = t1;
  }
  return { placed, ms: performance.now() - start };
}

function simulate(strategy: PlacementStrategy): Outcome {
  const random = seededRandom(SEED);
  const nodes = makeNodes(random);
  const tenants = makeTenants();
  let pending = makePending(random, [...tenants.keys()], nodes);
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const latenciesMs = new Float64Array(PENDING);
  const history: Placement[][] = [];
  const roundMs: number[] = [];
  let placements = 0;
  let fairness: Outcome['fairness'] | undefined;
  while (pending.length > 0 && history.length < MAX_ROUNDS) {
    checkStop();
    finish(history[history.length - LIFETIME_ROUNDS] ?? [], byId, tenants);
    const { placed, ms } = timedRound(pending, tenants, nodes, strategy, latenciesMs, placements);
    fairness ??= firstRoundFairness(placed, pending, tenants, nodes);
    history.push(placed);
    roundMs.push(ms);
    placements += placed.length;
    if (placed.length === 0 && [...tenants.values()].every((t) => t.running === 0)) break; // stuck: a bug
    const gone = new Set(placed.map((p) => p.work));
    pending = pending.filter((w) => !gone.has(w));
  }
  const planningMs = roundMs.reduce((s, x) => s + x, 0);
  return {
    placements,
    rounds: history.length,
    planningMs,
    latenciesMs: latenciesMs.subarray(0, placements),
    roundMs,
    fairness: fairness ?? { jain: 1, jainCount: 1, backlogged: 0 },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Figures of one strategy over `iterations` simulations (latencies pooled, rates by median). */
function measure(strategy: PlacementStrategy, iterations: number): Record<string, number> {
  const outcomes = Array.from({ length: iterations }, () => simulate(strategy));
  const last = outcomes[outcomes.length - 1] as Outcome;
  const all = Float64Array.from(outcomes.flatMap((o) => [...o.latenciesMs])).sort();
  const figures = {
    placementsPerSec: Math.round(median(outcomes.map((o) => (o.placements / o.planningMs) * 1000))),
    p50PlacementMs: round(percentile(all, 50), 5),
    p99PlacementMs: round(percentile(all, 99), 5),
    p999PlacementMs: round(percentile(all, 99.9), 4),
    p50RoundMs: round(median(last.roundMs), 2),
    placed: last.placements,
    rounds: last.rounds,
    fairnessJain: round(last.fairness.jain, 4),
    fairnessJainCount: round(last.fairness.jainCount, 4),
  };
  console.error(
    `${strategy}: ${last.placements} of ${PENDING} placed in ${last.rounds} rounds, ${round(last.planningMs, 0)} ms planning → ` +
      `${figures.placementsPerSec} placements/s; per placement p50 ${figures.p50PlacementMs} ms, p99 ${figures.p99PlacementMs} ms, ` +
      `p99.9 ${figures.p999PlacementMs} ms; round p50 ${figures.p50RoundMs} ms; first-round Jain ${figures.fairnessJain} ` +
      `(counts ${figures.fairnessJainCount}) over ${last.fairness.backlogged} backlogged tenants`,
  );
  return figures;
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const iterations = args.iterations ?? 1;
  console.error(
    `scheduler: ${NODES} nodes, ${PENDING} pending from ${TENANTS} tenants (priorities ${PRIORITIES.join('/')}), ` +
      `rounds of ≤ ${ROUND_MAX}, work lasts ${LIFETIME_ROUNDS} rounds; ${iterations} simulation(s) per strategy`,
  );
  simulate('binpack'); // warm-up: the JIT settles before anything is timed
  const binpack = measure('binpack', iterations);
  const spread = measure('spread', iterations);
  return {
    nodes: NODES,
    pending: PENDING,
    tenants: TENANTS,
    ...binpack,
    spreadPlacementsPerSec: spread.placementsPerSec,
    spreadP99PlacementMs: spread.p99PlacementMs,
    spreadFairnessJain: spread.fairnessJain,
  };
}
