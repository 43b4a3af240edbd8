// A sandbox's state dir and its spec.json (the tenant's environment, the attach secret) are
// readable by their owner only, under both OCI drivers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { testRuntime, type TestRuntime } from '../../testing/runtime.js';
import { userNsRootPath } from '../../sandbox/native.js';
import { UID_RANGE_START } from '../../sandbox/uid-ranges.js';

let t: TestRuntime;
let available: Record<string, { ok: boolean; reason?: string }> = {};
before(async () => {
  t = await testRuntime();
  available = await t.runtime.available();
});
after(() => t.dispose());

for (const runtime of ['container', 'gvisor'] as const) {
  test(`${runtime}: the state dir and spec.json are owner-only`, async (c) => {
    if (available[runtime]?.ok === false) return c.skip(`runtime ${runtime} unavailable: ${available[runtime]?.reason}`);
    const s = await t.runtime.createSandbox({ runtime, template: 'busybox', env: { SECRET: 'tenant-secret' } });
    try {
      const dir = join(t.stateDir, runtime, s.id);
      assert.equal((await stat(dir)).mode & 0o077, 0, 'the state dir');
      assert.equal((await stat(join(dir, 'spec.json'))).mode & 0o077, 0, 'spec.json');
      if (runtime === 'gvisor') {
        // runsc runs as the sandbox's mapped root: its bundle (config.json: the environment too) is that uid's alone.
        const bundle = userNsRootPath(s.id);
        const [b, config] = await Promise.all([stat(bundle), stat(join(bundle, 'config.json'))]);
        assert.equal(b.mode & 0o077, 0, 'the bundle dir');
        assert.equal(config.mode & 0o077, 0, 'config.json');
        assert.ok(b.uid >= UID_RANGE_START && config.uid === b.uid, `owned by the sandbox's range: ${b.uid}, ${config.uid}`);
      }
    } finally {
      await s.destroy();
    }
  });
}
