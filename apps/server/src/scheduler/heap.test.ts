import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryHeap } from './heap.js';

test('pops in order whatever the pushes, heapified input and top updates', () => {
  let s = 7;
  const random = (): number => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
  const initial = Array.from({ length: 50 }, () => ({ key: Math.floor(random() * 100) }));
  const heap = new BinaryHeap<{ key: number }>((a, b) => a.key < b.key, initial);
  const model = [...initial];
  for (let step = 0; step < 2_000; step++) {
    const r = random();
    if (r < 0.4) {
      const item = { key: Math.floor(random() * 100) };
      heap.push(item);
      model.push(item);
    } else if (r < 0.7) {
      const least = model.length === 0 ? undefined : Math.min(...model.map((m) => m.key));
      const item = heap.pop();
      assert.equal(item?.key, least);
      if (item) model.splice(model.indexOf(item), 1); // that very item: keys repeat
    } else {
      const top = heap.peek();
      if (top === undefined) continue;
      top.key += Math.floor(random() * 20); // as the planner: the top's key grows in place
      heap.updateTop();
    }
    assert.equal(heap.size, model.length);
    const least = model.length === 0 ? undefined : Math.min(...model.map((m) => m.key));
    assert.equal(heap.peek()?.key, least);
  }
  const rest: number[] = [];
  for (let x = heap.pop(); x !== undefined; x = heap.pop()) rest.push(x.key);
  assert.deepEqual(
    rest,
    model.map((m) => m.key).sort((a, b) => a - b),
  );
  assert.equal(heap.pop(), undefined);
  assert.equal(heap.size, 0);
});
