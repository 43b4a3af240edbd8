import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from './progress.js';
import { ago, phaseTimeline, RUN_PHASES } from './output.js';

test('a phase timeline: since the first phase and since the one before; - for one that has not happened', () => {
  const at = (ms: number): string => new Date(Date.UTC(2026, 11, 1) + ms).toISOString();
  const phases = { queuedAt: at(0), placedAt: at(12), templateReadyAt: at(15), startedAt: at(45), firstOutputAt: at(60), exitedAt: at(70), cleanedUpAt: null };
  assert.deepEqual(phaseTimeline(phases, RUN_PHASES), [
    '  queued          +0 ms',
    '  placed          +12 ms (12 ms)',
    '  template ready  +15 ms (3 ms)',
    '  started         +45 ms (30 ms)',
    '  first output    +60 ms (15 ms)',
    '  exited          +70 ms (10 ms)',
    '  cleaned up      -',
  ]);
});

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

test("progress lines show an image pull's layers and bytes", () => {
  const counts = { layersDone: 1, layersTotal: 3, bytesDone: 1_572_864, bytesTotal: 4_194_304 };
  assert.equal(
    progressLine({ phase: 'fetch', message: 'pulling', ...counts }),
    'fetch: pulling: layers 1/3, 1.5/4.0 MiB',
  );
  // A message that already says it is not repeated.
  assert.equal(
    progressLine({
      phase: 'fetch',
      fraction: 0.375,
      message: 'layers 1/3, 1.5/4.0 MiB',
      ...counts,
    }),
    `[${'#'.repeat(9)}${'.'.repeat(15)}]  38% fetch: layers 1/3, 1.5/4.0 MiB`,
  );
  assert.equal(
    progressLine({ phase: 'unpack', message: 'unpacking', layersTotal: 2 }),
    'unpack: unpacking: layers 0/2',
  );
});

test('ago reads ISO times relative to now', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.equal(ago('2026-01-01T00:09:55Z', now), '5s ago');
  assert.equal(ago('2026-01-01T00:00:00Z', now), '10m ago');
  assert.equal(ago(null, now), '-');
});
