import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, InvalidArgumentError } from './index.js';

test('parseDurationMs reads units and bare seconds', () => {
  assert.equal(parseDurationMs('30s'), 30_000);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('2'), 2000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
});

test('parseDurationMs rejects junk with a message naming the accepted forms', () => {
  for (const bad of ['', 'abc', '10x', '5s junk', '-1s']) {
    assert.throws(() => parseDurationMs(bad), (e: unknown) => e instanceof InvalidArgumentError && /30s/.test(e.message));
  }
});
