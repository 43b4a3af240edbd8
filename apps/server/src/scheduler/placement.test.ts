import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '@tartarus/core';
import {
  NodeIndex,
  fits,
  rankNodes,
  type NodeCandidate,
  type PlacementRequest,
} from './placement.js';
import { ZERO_RESOURCES, type Resources } from './resources.js';

const BIG: Resources = { cpu: 1_000, memoryMiB: 1_000_000, diskMiB: 1_000_000 };

const node = (
  nodeId: string,
  free: number,
  runtimes = ['container'],
  labels = {},
): NodeCandidate => ({
  nodeId,
  runtimes,
  labels,
  allocatable: BIG,
  reserved: ZERO_RESOURCES,
  slots: 4,
  used: 4 - free,
});

/** A node with plenty of slots, so only resources decide. */
const sized = (
  nodeId: string,
  allocatable: Resources,
  reserved: Resources = ZERO_RESOURCES,
): NodeCandidate => ({
  nodeId,
  runtimes: ['container'],
  labels: {},
  allocatable,
  reserved,
  slots: 100,
  used: 0,
});

const ids = (nodes: NodeCandidate[]): string[] => nodes.map((n) => n.nodeId);

test('filters by runtime, labels and free slots', () => {
  const nodes = [
    node('a', 0),
    node('b', 2, ['gvisor']),
    node('c', 1, ['container'], { zone: 'x' }),
    node('d', 3),
  ];
  assert.deepEqual(
    rankNodes(nodes, { runtime: 'container', labels: { zone: 'x' } }, 'binpack').map(
      (n) => n.nodeId,
    ),
    ['c'],
  );
  assert.deepEqual(
    rankNodes(nodes, { runtime: 'gvisor' }, 'binpack').map((n) => n.nodeId),
    ['b'],
  );
});

test('binpack prefers the busiest node, spread the idlest', () => {
  const nodes = [node('a', 3), node('b', 1), node('c', 2)];
  assert.deepEqual(
    rankNodes(nodes, {}, 'binpack').map((n) => n.nodeId),
    ['b', 'c', 'a'],
  );
  assert.deepEqual(
    rankNodes(nodes, {}, 'spread').map((n) => n.nodeId),
    ['a', 'c', 'b'],
  );
});

test('nothing fits: empty, and the work stays queued', () => {
  assert.deepEqual(rankNodes([node('a', 0)], {}, 'spread'), []);
});

test('filters by cpu, memory and disk left (allocatable - reserved)', () => {
  const alloc = { cpu: 8, memoryMiB: 8192, diskMiB: 10_240 };
  const nodes = [
    sized('cpu-short', alloc, { cpu: 7.5, memoryMiB: 0, diskMiB: 0 }),
    sized('mem-short', alloc, { cpu: 0, memoryMiB: 8000, diskMiB: 0 }),
    sized('disk-short', alloc, { cpu: 0, memoryMiB: 0, diskMiB: 10_000 }),
    sized('roomy', alloc),
  ];
  const request = { cpu: 1, memoryMiB: 512, diskMiB: 1024 };
  assert.deepEqual(ids(rankNodes(nodes, { request }, 'binpack')), ['roomy']);
  assert.deepEqual(
    ids(rankNodes(nodes, { request: { cpu: 0.5, memoryMiB: 0, diskMiB: 0 } }, 'spread')),
    [
      'roomy', // load 0
      'cpu-short', // 7.5 / 8
      'disk-short', // 10,000 / 10,240 = 8,000 / 8,192: a tie, broken by id
      'mem-short',
    ],
  );
  // Exactly what is left fits.
  assert.equal(
    fits(nodes[0] as NodeCandidate, { request: { cpu: 0.5, memoryMiB: 8192, diskMiB: 10_240 } }),
    true,
  );
  assert.equal(
    fits(nodes[0] as NodeCandidate, { request: { cpu: 0.5001, memoryMiB: 0, diskMiB: 0 } }),
    false,
  );
});

test('load is the larger of slot use and the dominant share of reservations', () => {
  const alloc = { cpu: 10, memoryMiB: 1000, diskMiB: 0 };
  const slotsBusy = { ...sized('slots', alloc), slots: 10, used: 5 }; // load 0.5
  const memBusy = sized('mem', alloc, { cpu: 1, memoryMiB: 700, diskMiB: 0 }); // load 0.7
  const idle = sized('idle', alloc); // load 0
  assert.deepEqual(ids(rankNodes([idle, slotsBusy, memBusy], {}, 'binpack')), [
    'mem',
    'slots',
    'idle',
  ]);
  assert.deepEqual(ids(rankNodes([idle, slotsBusy, memBusy], {}, 'spread')), [
    'idle',
    'slots',
    'mem',
  ]);
});

test('a node holding the template wins ties and near-ties, not gross load differences', () => {
  const alloc = { cpu: 100, memoryMiB: 100_000, diskMiB: 0 };
  const withT = (n: NodeCandidate): NodeCandidate => ({ ...n, templates: new Set(['py']) });
  const a = sized('a', alloc, { cpu: 50, memoryMiB: 0, diskMiB: 0 }); // 0.5
  const b = withT(sized('b', alloc, { cpu: 45, memoryMiB: 0, diskMiB: 0 })); // 0.45 + bonus
  const c = withT(sized('c', alloc, { cpu: 10, memoryMiB: 0, diskMiB: 0 })); // 0.1 + bonus
  assert.deepEqual(ids(rankNodes([a, b, c], { template: 'py' }, 'binpack')), ['b', 'a', 'c']);
  assert.deepEqual(ids(rankNodes([a, b, c], {}, 'binpack')), ['a', 'b', 'c']);
  assert.deepEqual(ids(rankNodes([a, b, c], { template: 'py' }, 'spread')), ['c', 'b', 'a']);
  // Tie: the holder first, even against a smaller id.
  const x = sized('x', alloc);
  const y = withT(sized('y', alloc));
  assert.deepEqual(ids(rankNodes([x, y], { template: 'py' }, 'spread')), ['y', 'x']);
  assert.deepEqual(ids(rankNodes([x, y], { template: 'go' }, 'spread')), ['x', 'y']);
  // Unknown templates (undefined) are no bonus.
  assert.deepEqual(
    ids(rankNodes([x, { ...y, templates: undefined }], { template: 'py' }, 'spread')),
    ['x', 'y'],
  );
});

test('fractional requests add up without refusing the last one', () => {
  const n = sized('a', { cpu: 1, memoryMiB: 1000, diskMiB: 0 });
  const index = new NodeIndex([n], 'binpack');
  const tenth: PlacementRequest = { request: { cpu: 0.1, memoryMiB: 10, diskMiB: 0 } };
  for (let i = 0; i < 10; i++) assert.equal(index.place(tenth)?.nodeId, 'a', `placement ${i + 1}`);
  assert.equal(index.place(tenth), undefined);
  assert.equal(n.used, 10);
  assert.ok(Math.abs(n.reserved.cpu - 1) < 1e-9);
  assert.equal(n.reserved.memoryMiB, 100);
  // 0.125 is exact in binary: 8 fill a core, the 9th does not fit.
  const m = sized('m', { cpu: 1, memoryMiB: 1000, diskMiB: 0 });
  const eighth = { request: { cpu: 0.125, memoryMiB: 0, diskMiB: 0 } };
  assert.equal(rankNodes([m], eighth, 'spread').length, 1);
  assert.equal(
    rankNodes([{ ...m, reserved: { cpu: 0.875, memoryMiB: 0, diskMiB: 0 } }], eighth, 'spread')
      .length,
    1,
  );
  assert.equal(
    rankNodes([{ ...m, reserved: { cpu: 1, memoryMiB: 0, diskMiB: 0 } }], eighth, 'spread').length,
    0,
  );
});

/** Seeded PRNG (core's mulberry32) so a failing case can be replayed. */
const prng = seededRandom;

test('NodeIndex picks what rankNodes ranks first, placement after placement', () => {
  for (const strategy of ['binpack', 'spread'] as const) {
    const rnd = prng(strategy === 'binpack' ? 1 : 2);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const nodes: NodeCandidate[] = Array.from({ length: 40 }, (_, i) => ({
      nodeId: `n${String(i).padStart(2, '0')}`,
      runtimes: rnd() < 0.5 ? ['container'] : ['container', 'gvisor'],
      labels: rnd() < 0.3 ? { zone: pick(['a', 'b']) } : ({} as Record<string, string>),
      allocatable: {
        cpu: pick([2, 4, 8]),
        memoryMiB: pick([2048, 4096]),
        diskMiB: pick([0, 4096]),
      },
      reserved: ZERO_RESOURCES,
      slots: pick([2, 4, 8, 16]),
      used: 0,
      templates: rnd() < 0.5 ? new Set([pick(['py', 'node'])]) : undefined,
    }));
    const index = new NodeIndex(nodes, strategy);
    let placed = 0;
    for (let k = 0; k < 600; k++) {
      const req: PlacementRequest = {
        runtime: rnd() < 0.2 ? undefined : pick(['container', 'gvisor', 'microvm']),
        labels: rnd() < 0.2 ? { zone: pick(['a', 'b']) } : undefined,
        request: {
          cpu: pick([0, 0.125, 0.1, 0.5, 1, 3]),
          memoryMiB: pick([0, 128, 1000]),
          diskMiB: pick([0, 512]),
        },
        template: rnd() < 0.5 ? pick(['py', 'node']) : undefined,
      };
      const expected = rankNodes(nodes, req, strategy)[0];
      assert.equal(index.best(req)?.nodeId, expected?.nodeId, `${strategy} query ${k}`);
      const got = index.place(req);
      assert.equal(got?.nodeId, expected?.nodeId, `${strategy} placement ${k}`);
      if (got) placed++;
    }
    assert.ok(placed > 100, `${strategy}: only ${placed} placements exercised`);
  }
});
