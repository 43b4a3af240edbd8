// Warm pools on the real runtimes (runc; runsc when it runs here): hand-out with the caller's
// spec, claims under the caller's id, cold start on other limits, never reused, nothing left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeName } from '../driver.js';
import { Runtime } from '../runtime.js';
import { assertNoLeaks, snapshotHost, type HostSnapshot } from '../testing/leaks.js';
import { testRuntime, type TestRuntime } from '../testing/runtime.js';

async function idleCount(rt: Runtime, want: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const idle = rt.pools.stats().reduce((n, p) => n + p.idle, 0);
    if (idle >= want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the pool did not fill: ${JSON.stringify(rt.pools.stats())}`);
}

for (const runtime of ['container', 'gvisor'] as RuntimeName[]) {
  describe(`warm pools: ${runtime}`, () => {
    let t: TestRuntime;
    let snapshot: HostSnapshot;
    let skip: string | undefined;

    before(async () => {
      snapshot = await snapshotHost();
      t = await testRuntime({ pools: [{ template: 'busybox', runtime, size: 2 }] });
      const a = await t.runtime.driver(runtime).available();
      if (!a.ok) {
        skip = `${runtime} is unavailable here: ${a.reason}`;
        console.log(`# skipped warm pools on ${runtime}: ${skip}`);
        return;
      }
      await t.runtime.startPools();
      await idleCount(t.runtime, 2);
    });

    after(async () => {
      await t.runtime.stopPools();
      await t.dispose();
      await assertNoLeaks(snapshot, { path: t.stateDir });
    });

    test('a create that matches takes a booted sandbox and runs the caller’s process, env, user and timeout', async (c) => {
      if (skip) return c.skip(skip);
      const idleBefore = t.runtime.pools.idleIds();
      const sb = await t.runtime.createSandbox({ template: 'busybox', runtime, command: ['sh', '-c', 'echo $A; id -u; pwd'], env: { A: 'from-caller' }, user: '0', cwd: '/tmp' });
      try {
        assert.ok(idleBefore.has(sb.id), 'the handle is one of the idle pool sandboxes');
        assert.equal(t.runtime.pools.idleIds().has(sb.id), false);
        await sb.start();
        const r = await sb.wait();
        assert.equal(r.reason, 'exited');
        assert.equal(r.stdout.toString(), 'from-caller\n0\n/tmp\n');
      } finally {
        await sb.destroy();
      }
      const timed = await t.runtime.createSandbox({ template: 'busybox', runtime, command: ['sleep', '30'], timeoutMs: 300, killGraceMs: 100 });
      try {
        await timed.start();
        assert.equal((await timed.wait()).reason, 'timeout');
      } finally {
        await timed.destroy();
      }
      await idleCount(t.runtime, 2);
      const now = t.runtime.pools.idleIds();
      assert.equal(now.has(sb.id) || now.has(timed.id), false, 'a used sandbox never goes back to the pool');
    });

    test('a caller’s id is claimed: listed, exec and files as its user, adoptable and destroyed by that id', async (c) => {
      if (skip) return c.skip(skip);
      const sb = await t.runtime.createSandbox({ id: `claimed-${runtime}`, template: 'busybox', runtime });
      try {
        assert.equal(sb.id, `claimed-${runtime}`);
        await sb.start();
        const ids = (await t.runtime.list()).map((s) => s.id);
        assert.deepEqual(ids, [`claimed-${runtime}`], 'idle pool sandboxes are not listed');
        await sb.files.write('note.txt', 'hi');
        const r = await (await sb.exec({ argv: ['sh', '-c', 'stat -c %U /home/sandbox/note.txt; id -un'] })).wait();
        assert.equal(r.stdout.toString(), 'sandbox\nsandbox\n');
        const again = await t.runtime.adopt(runtime, `claimed-${runtime}`);
        assert.equal(again.id, `claimed-${runtime}`);
        assert.equal((await again.files.read('/home/sandbox/note.txt')).toString(), 'hi');
        await assert.rejects(t.runtime.createSandbox({ id: `claimed-${runtime}`, template: 'busybox', runtime }), { code: 'conflict' });
      } finally {
        await sb.destroy();
      }
      assert.deepEqual(await t.runtime.list(), []);
    });

    test('other limits get a cold start; the pool keeps its sandboxes', async (c) => {
      if (skip) return c.skip(skip);
      await idleCount(t.runtime, 2);
      const idle = t.runtime.pools.idleIds();
      const sb = await t.runtime.createSandbox({ template: 'busybox', runtime, limits: { memoryMiB: 200 }, command: ['true'] });
      try {
        assert.equal(idle.has(sb.id), false);
        assert.deepEqual(t.runtime.pools.idleIds(), idle);
        await sb.start();
        assert.equal((await sb.wait()).exitCode, 0);
      } finally {
        await sb.destroy();
      }
    });

    test('counts the creates that matched and those it served; resizing grows and shrinks the idle sandboxes', async (c) => {
      if (skip) return c.skip(skip);
      await idleCount(t.runtime, 2);
      t.runtime.pools.stats({ take: true });
      const served = await t.runtime.createSandbox({ template: 'busybox', runtime, command: ['true'] });
      const cold = await t.runtime.createSandbox({ template: 'busybox', runtime, limits: { memoryMiB: 200 }, command: ['true'] });
      await Promise.all([served.destroy(), cold.destroy()]);
      const [taken] = t.runtime.pools.stats({ take: true });
      assert.deepEqual([taken?.demand, taken?.hits], [1, 1], 'the create with other limits matched no pool');
      assert.deepEqual([t.runtime.pools.stats()[0]?.demand, t.runtime.pools.stats()[0]?.hits], [0, 0], 'taking the counts zeroes them');
      const key = taken?.key ?? '';
      assert.equal(t.runtime.pools.resize('no/such/pool', 1), undefined);
      assert.equal(t.runtime.pools.resize(key, 3)?.size, 3);
      await idleCount(t.runtime, 3);
      assert.equal(t.runtime.pools.resize(key, 1)?.idle, 1, 'idle sandboxes past the new size are destroyed at once');
      assert.equal(t.runtime.pools.resize(key, 2)?.size, 2);
      await idleCount(t.runtime, 2);
    });
  });
}

test('an autoscale range must hold the starting size', () => {
  const rt = new Runtime({ stateDir: '/nonexistent-tartarus-pools' });
  assert.throws(
    () => rt.checkPools([{ template: 'busybox', runtime: 'container', size: 5, autoscale: { min: 0, max: 4 } }]),
    /pool busybox\/container: autoscale needs whole numbers min ≤ size ≤ max, got min 0, size 5, max 4/,
  );
  rt.checkPools([{ template: 'busybox', runtime: 'container', size: 1, autoscale: { min: 1, max: 4 } }]);
});

test('two pools alike (template, runtime, limits, network) are refused with what to change; differing limits make two pools', async () => {
  const rt = new Runtime({ stateDir: '/nonexistent-tartarus-pools' });
  assert.throws(
    () =>
      rt.checkPools([
        { template: 'busybox', runtime: 'container', size: 1, limits: { cpu: 1, memoryMiB: 256 } },
        { template: 'busybox', runtime: 'container', size: 2, limits: { memoryMiB: 256, cpu: 1 }, egress: 'all' },
      ]),
    /pools 1 and 2 \(busybox\/container\) have the same template, runtime, limits and network: merge them into one/,
  );
  rt.checkPools([
    { template: 'busybox', runtime: 'container', size: 1 },
    { template: 'busybox', runtime: 'container', size: 1, limits: { memoryMiB: 512 } },
    { template: 'busybox', runtime: 'container', size: 1, network: true },
  ]);
});
