import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankNodes, type NodeCandidate } from './placement.js';

const node = (
  nodeId: string,
  free: number,
  runtimes = ['container'],
  labels = {},
): NodeCandidate => ({
  nodeId,
  runtimes,
  labels,
  slots: 4,
  free,
});

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
