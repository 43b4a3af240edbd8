import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, seededRandom } from '@tartarus/core';
import {
  iteratePlacements,
  planPlacements,
  type PendingWork,
  type Priority,
  type TenantShare,
} from './fair-share.js';
import { rankNodes, type NodeCandidate } from './placement.js';
import { ZERO_RESOURCES, type Resources } from './resources.js';

const res = (cpu: number, memoryMiB = 0, diskMiB = 0): Resources => ({ cpu, memoryMiB, diskMiB });

const node = (nodeId: string, over: Partial<NodeCandidate> = {}): NodeCandidate => ({
  nodeId,
  runtimes: ['container'],
  labels: {},
  allocatable: res(64, 262_144, 1_048_576),
  reserved: ZERO_RESOURCES,
  slots: 100,
  used: 0,
  ...over,
});

let seq = 0;
const work = (tenantId: string, over: Partial<PendingWork> = {}): PendingWork => ({
  id: `w${++seq}`,
  tenantId,
  priority: 'default',
  order: seq,
  runtime: 'container',
  request: res(0.125, 128),
  ...over,
});

const tenant = (tenantId: string, over: Partial<TenantShare> = {}): TenantShare => ({
  tenantId,
  weight: 1,
  reserved: ZERO_RESOURCES,
  running: 0,
  maxRunning: null,
  ...over,
});

const tenantsOf = (...ts: TenantShare[]): Map<string, TenantShare> =>
  new Map(ts.map((t) => [t.tenantId, t]));

const count = (placements: { work: PendingWork }[], tenantId: string): number =>
  placements.filter((p) => p.work.tenantId === tenantId).length;

test("a flooding tenant cannot delay another tenant's single item once a slot frees", () => {
  for (const request of [ZERO_RESOURCES, res(0.125, 128)]) {
    // One node of 4 slots; B runs 3 (one just finished) and has 100 more queued, queued first.
    const n = node('n1', {
      slots: 4,
      used: 3,
      reserved: res(3 * request.cpu, 3 * request.memoryMiB),
    });
    const b = tenant('b', { running: 3, reserved: n.reserved });
    const pending = [
      ...Array.from({ length: 100 }, () => work('b', { request })),
      work('a', { request }), // A is in no map: weight 1, nothing running
    ];
    const plan = planPlacements(pending, tenantsOf(b), [n], { strategy: 'binpack' });
    assert.deepEqual(
      plan.map((p) => p.work.tenantId),
      ['a'],
      `request ${JSON.stringify(request)}`,
    );
    assert.equal(n.used, 4);
  }
});

test("dominant-resource fairness across cpu-heavy and memory-heavy tenants (the DRF paper's example)", () => {
  // 9 cpu, 18 GiB; A asks <1 cpu, 4 GiB>, B <3 cpu, 1 GiB>: DRF gives A 3 tasks, B 2.
  const n = node('n1', { allocatable: res(9, 18 * 1024, 0) });
  const pending = [
    ...Array.from({ length: 10 }, () => work('a', { request: res(1, 4096) })),
    ...Array.from({ length: 10 }, () => work('b', { request: res(3, 1024) })),
  ];
  const plan = planPlacements(pending, new Map(), [n], { strategy: 'binpack' });
  assert.equal(count(plan, 'a'), 3);
  assert.equal(count(plan, 'b'), 2);
});

test('a tenant of weight 2 gets twice the share of a tenant of weight 1', () => {
  const nodes = [node('n1', { slots: 150 }), node('n2', { slots: 150 })];
  const pending = [
    ...Array.from({ length: 1000 }, () => work('heavy')),
    ...Array.from({ length: 1000 }, () => work('light')),
  ];
  const tenants = tenantsOf(tenant('heavy', { weight: 2 }), tenant('light'));
  const plan = planPlacements(pending, tenants, nodes, { strategy: 'spread' });
  assert.equal(plan.length, 300);
  assert.ok(Math.abs(count(plan, 'heavy') - 200) <= 1, `heavy got ${count(plan, 'heavy')}`);
  assert.ok(Math.abs(count(plan, 'light') - 100) <= 1, `light got ${count(plan, 'light')}`);
  assert.equal(tenants.get('heavy')?.running, count(plan, 'heavy'));
});

test('within a tenant: critical, high, default, low, then by order', () => {
  const mk = (priority: Priority, order: number): PendingWork =>
    work('t', { id: `${priority}-${order}`, priority, order });
  const pending = [
    mk('low', 1),
    mk('default', 5),
    mk('high', 9),
    mk('critical', 7),
    mk('default', 2),
    mk('critical', 3),
    mk('high', 8),
  ];
  const plan = planPlacements(pending, new Map(), [node('n1')], { strategy: 'binpack' });
  assert.deepEqual(
    plan.map((p) => p.work.id),
    ['critical-3', 'critical-7', 'high-8', 'high-9', 'default-2', 'default-5', 'low-1'],
  );
});

test('maxRunning caps a tenant for the round; a tenant already at its cap gets nothing', () => {
  const tenants = tenantsOf(
    tenant('capped', { running: 1, maxRunning: 3 }),
    tenant('full', { running: 2, maxRunning: 2 }),
  );
  const pending = [
    ...Array.from({ length: 10 }, () => work('capped')),
    ...Array.from({ length: 10 }, () => work('full')),
    ...Array.from({ length: 10 }, () => work('free')),
  ];
  const plan = planPlacements(pending, tenants, [node('n1')], { strategy: 'binpack' });
  assert.equal(count(plan, 'capped'), 2);
  assert.equal(count(plan, 'full'), 0);
  assert.equal(count(plan, 'free'), 10);
  assert.equal(tenants.get('capped')?.running, 3);
});

test("work that fits nowhere blocks neither its tenant's other work nor other tenants", () => {
  const nodes = [node('n1', { allocatable: res(4, 8192, 0) })];
  const pending = [
    work('a', { id: 'a-gvisor', priority: 'critical', runtime: 'gvisor' }),
    work('a', { id: 'a-huge', priority: 'critical', request: res(16) }),
    work('a', { id: 'a-gpu', priority: 'high', labels: { gpu: 'yes' } }),
    work('a', { id: 'a-ok', priority: 'low' }),
    work('b', { id: 'b-huge', request: res(5) }),
    work('b', { id: 'b-ok' }),
  ];
  const plan = planPlacements(pending, new Map(), nodes, { strategy: 'binpack' });
  assert.deepEqual(plan.map((p) => p.work.id).sort(), ['a-ok', 'b-ok']);
});

test('resources are accounted across the placements of one round', () => {
  const n1 = node('n1', { allocatable: res(2, 4096, 0) });
  const n2 = node('n2', { allocatable: res(1, 512, 0) });
  const t = tenant('t');
  const pending = Array.from({ length: 10 }, () => work('t', { request: res(0.5, 256) }));
  const plan = planPlacements(pending, tenantsOf(t), [n1, n2], { strategy: 'binpack' });
  // n1 takes 4 by cpu; n2 takes 2 (512 MiB / 256 MiB), binpack filling n1 first.
  assert.equal(plan.length, 6);
  assert.deepEqual(
    plan.map((p) => p.nodeId),
    ['n1', 'n1', 'n1', 'n1', 'n2', 'n2'],
  );
  assert.deepEqual([n1.used, n1.reserved], [4, res(2, 1024, 0)]);
  assert.deepEqual([n2.used, n2.reserved], [2, res(1, 512, 0)]);
  assert.deepEqual([t.running, t.reserved], [6, res(3, 1536, 0)]);
});

test('spread alternates nodes where binpack fills one', () => {
  const pending = () => Array.from({ length: 4 }, () => work('t'));
  const nodes = () => [node('n1'), node('n2')];
  assert.deepEqual(
    planPlacements(pending(), new Map(), nodes(), { strategy: 'spread' }).map((p) => p.nodeId),
    ['n1', 'n2', 'n1', 'n2'],
  );
  assert.deepEqual(
    planPlacements(pending(), new Map(), nodes(), { strategy: 'binpack' }).map((p) => p.nodeId),
    ['n1', 'n1', 'n1', 'n1'],
  );
});

test('runtime and label filters send work to the nodes that match', () => {
  const nodes = [
    node('c', { runtimes: ['container'] }),
    node('g', { runtimes: ['container', 'gvisor'], labels: { zone: 'x' } }),
    node('m', { runtimes: ['microvm'], labels: { zone: 'y' } }),
  ];
  const pending = [
    work('t', { id: 'gvisor', runtime: 'gvisor' }),
    work('t', { id: 'microvm', runtime: 'microvm' }),
    work('t', { id: 'zone-x', runtime: 'container', labels: { zone: 'x' } }),
    work('t', { id: 'zone-y-container', runtime: 'container', labels: { zone: 'y' } }),
  ];
  const plan = planPlacements(pending, new Map(), nodes, { strategy: 'spread' });
  assert.deepEqual(Object.fromEntries(plan.map((p) => [p.work.id, p.nodeId])), {
    gvisor: 'g',
    microvm: 'm',
    'zone-x': 'g',
  });
});

test('empty inputs and max: 0 plan nothing; max stops the round', () => {
  const pending = Array.from({ length: 5 }, () => work('t'));
  assert.deepEqual(planPlacements([], new Map(), [node('n1')], { strategy: 'binpack' }), []);
  assert.deepEqual(planPlacements(pending, new Map(), [], { strategy: 'binpack' }), []);
  assert.deepEqual(
    planPlacements(pending, new Map(), [node('n1')], { strategy: 'binpack', max: 0 }),
    [],
  );
  const n = node('n1');
  assert.equal(planPlacements(pending, new Map(), [n], { strategy: 'binpack', max: 3 }).length, 3);
  assert.equal(n.used, 3);
});

test('a weight that is not > 0 is refused', () => {
  for (const weight of [0, -1, Number.NaN, Infinity]) {
    assert.throws(
      () =>
        planPlacements([work('t')], tenantsOf(tenant('t', { weight })), [node('n1')], {
          strategy: 'binpack',
        }),
      InvalidArgumentError,
    );
  }
});

/** Seeded PRNG (core's mulberry32) so a failing case can be replayed. */
const prng = seededRandom;

test('random rounds: no node over-committed, each pick feasible, and what stays pending fits nowhere', () => {
  const rnd = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  for (const strategy of ['binpack', 'spread'] as const) {
    const nodes = Array.from({ length: 30 }, (_, i) =>
      node(`n${i}`, {
        runtimes: rnd() < 0.5 ? ['container'] : ['container', 'gvisor'],
        labels: rnd() < 0.3 ? { zone: 'x' } : {},
        allocatable: res(pick([2, 4, 8]), pick([2048, 8192]), 0),
        slots: pick([4, 8, 16]),
      }),
    );
    const pending = Array.from({ length: 800 }, () =>
      work(pick(['a', 'b', 'c', 'd']), {
        priority: pick(['critical', 'high', 'default', 'low'] as const),
        runtime: pick(['container', 'gvisor', 'microvm']),
        labels: rnd() < 0.2 ? { zone: 'x' } : undefined,
        request: res(pick([0.1, 0.125, 0.5, 1, 3]), pick([64, 512, 2048]), 0),
      }),
    );
    const tenants = tenantsOf(tenant('a', { weight: 3 }), tenant('b', { maxRunning: 5 }));
    const placed = new Set<string>();
    for (const p of iteratePlacements(pending, tenants, nodes, { strategy })) {
      assert.ok(!placed.has(p.work.id), 'placed twice');
      placed.add(p.work.id);
      const n = nodes.find((x) => x.nodeId === p.nodeId) as NodeCandidate;
      assert.ok(n.used <= n.slots && n.reserved.cpu <= n.allocatable.cpu + 1e-9);
      assert.ok(n.reserved.memoryMiB <= n.allocatable.memoryMiB);
      assert.equal(p.work.runtime === 'microvm', false);
    }
    assert.ok(placed.size > 50, `only ${placed.size} placed`);
    assert.equal(tenants.get('b')?.running, 5);
    for (const w of pending) {
      if (placed.has(w.id) || w.tenantId === 'b') continue;
      assert.deepEqual(rankNodes(nodes, w, strategy), [], `${w.id} was left but fits`);
    }
  }
});
