// The agent's pool calls over a real Runtime whose pools keep nothing booted (size 0): the control
// plane may resize only a forecast-driven pool, only within its range, and is told what to change.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Runtime } from '@tartarus/runtime';
import { RuntimeAdapter } from './runtime-adapter.js';

test('setPoolSize resizes a forecast-driven pool within its range; a fixed or unknown pool is refused with what to do', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'tt-agent-pools-'));
  const runtime = new Runtime({ stateDir });
  try {
    await runtime.pools.configure([
      { key: 'auto', config: { template: 'busybox', runtime: 'container', size: 0, autoscale: { min: 0, max: 2 } } },
      { key: 'fixed', config: { template: 'busybox', runtime: 'container', size: 0 } },
    ]);
    const agent = new RuntimeAdapter(runtime);
    assert.throws(() => agent.setPoolSize('none', 1), { code: 'not_found', message: /no warm pool none on this node/ });
    assert.throws(() => agent.setPoolSize('fixed', 1), { code: 'conflict', message: /has a fixed size: give it autoscale \{min, max\}/ });
    assert.throws(() => agent.setPoolSize('auto', 3), { code: 'invalid_argument', message: /sized between 0 and 2, not 3/ });
    assert.deepEqual(
      agent.poolStats(false).map((p) => [p.key, p.size, p.autoscale ?? null, p.demand]),
      [['auto', 0, { min: 0, max: 2 }, 0], ['fixed', 0, null, 0]],
    );
  } finally {
    await runtime.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
