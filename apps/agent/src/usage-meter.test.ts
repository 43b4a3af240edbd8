import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageMeters } from './usage-meter.js';

test('current: CPU averaged since the baseline (once a second has passed), memory as it is now', async () => {
  // The counters a cgroup would show: CPU time only grows, memory moves.
  const counters = { cpuUsageNs: 5e9, memoryBytes: 1 << 20 };
  const meters = new UsageMeters(() => undefined, { sampleMs: 60_000, reportMs: 60_000 });
  try {
    meters.start({ workId: 'w1', epoch: 1, runtime: 'container' }, { stats: async () => ({ ...counters }), egressBytes: async () => 0 });
    assert.equal(await meters.current('nope'), undefined, 'not metered');
    await sleep(10);
    assert.equal(await meters.current('w1'), undefined, 'only the baseline, a moment ago: nothing to average yet');
    await sleep(1100);
    counters.cpuUsageNs += 0.55e9;
    counters.memoryBytes = 3 << 20;
    const now = await meters.current('w1');
    assert.ok(now !== undefined);
    assert.ok(now.windowMs >= 1100 && now.windowMs < 10_000, `window ${now.windowMs}`); // a loaded machine may stall the sleep
    assert.ok(Math.abs(now.cpuCores - 0.55e3 / now.windowMs) < 1e-9, `cores ${now.cpuCores}`);
    assert.equal(now.memoryBytes, 3 << 20);
  } finally {
    meters.stop();
  }
});
