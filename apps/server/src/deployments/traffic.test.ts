import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentTraffic } from './traffic.js';

test('traffic: requests in flight per replica, cut at once by a drain out of time, forgotten once ended', () => {
  const t = new DeploymentTraffic();
  const cut: string[] = [];
  const endA = t.begin('d1', 'web', 'r1', 1_000, () => cut.push('a'));
  const endB = t.begin('d1', 'web', 'r1', 1_000, () => cut.push('b'));
  t.begin('d1', 'web', 'r2', 1_000, () => cut.push('other'));
  assert.equal(t.active('r1'), 2);
  endA();
  endA();
  assert.equal(t.active('r1'), 1);
  t.cut('r1');
  assert.deepEqual(cut, ['b']);
  endB();
  assert.equal(t.active('r1'), 0);
  t.cut('r1');
  assert.deepEqual(cut, ['b'], 'an ended request is not cut');
  assert.equal(t.rps('d1', 'web', 10, 2_000), 0.3);
});
