import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from './progress.js';
import { ago } from './output.js';

test('progress lines show a bar when the fraction is known, text otherwise', () => {
  assert.equal(
    progressLine({ phase: 'unpack', fraction: 0.5, message: 'rootfs' }),
    `[${'#'.repeat(12)}${'.'.repeat(12)}]  50% unpack: rootfs`,
  );
  assert.equal(progressLine({ phase: 'fetch', message: 'busybox' }), 'fetch: busybox');
  assert.equal(
    progressLine({ phase: 'x', fraction: 7, message: 'm' }).slice(0, 31),
    `[${'#'.repeat(24)}] 100%`,
  );
});

test('ago reads ISO times relative to now', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.equal(ago('2026-01-01T00:09:55Z', now), '5s ago');
  assert.equal(ago('2026-01-01T00:00:00Z', now), '10m ago');
  assert.equal(ago(null, now), '-');
});
