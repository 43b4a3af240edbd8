// Orphan collection on the real runtimes: a sandbox whose data dir was deleted after its host
// process died is found from the host alone and removed (processes, VM, cgroups); one whose
// data dir exists — a live Runtime's, or a stopped one's — is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeName } from '../driver.js';
import { assertNoLeaks, snapshotHost } from '../testing/leaks.js';
import { testRuntime } from '../testing/runtime.js';
import { startAndDie } from '../testing/crash.js';
import { collectOrphans, ownersDir } from './owners.js';

for (const runtime of ['container', 'gvisor', 'microvm'] as RuntimeName[]) {
  test(`${runtime}: a sandbox whose data dir is gone is removed; an owned one is kept`, async (t) => {
    const before = await snapshotHost();
    const gone = await testRuntime();
    const kept = await testRuntime();
    try {
      const a = await gone.runtime.driver(runtime).available();
      if (!a.ok) return t.skip(`${runtime} is unavailable here: ${a.reason}`);
      startAndDie(gone.stateDir, runtime, `orphan-${runtime}`);
      startAndDie(kept.stateDir, runtime, `owned-${runtime}`);
      await rm(gone.stateDir, { recursive: true, force: true });

      const collected = await collectOrphans();
      assert.ok(collected.sandboxes.includes(`orphan-${runtime}`), JSON.stringify(collected));
      assert.ok(collected.processes > 0);
      assert.ok(!collected.sandboxes.includes(`owned-${runtime}`));
      // The kept one (its `up` is stopped, its data dir remains) is still there to re-adopt.
      const adopted = await kept.runtime.adopt(runtime, `owned-${runtime}`);
      assert.equal((await (await adopted.exec({ argv: ['echo', 'kept'] })).wait()).stdout.toString(), 'kept\n');
      await adopted.destroy();
    } finally {
      await gone.dispose();
      await kept.dispose();
    }
    await assertNoLeaks(before, { path: gone.stateDir });
    await assertNoLeaks(before, { path: kept.stateDir });
  });
}

test("a record's temp file whose writer died before renaming it is removed; a live writer's is kept", async () => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const deadTemp = join(ownersDir(), `.tmp-test-dead.${dead}.tmp`);
  const liveTemp = join(ownersDir(), `.tmp-test-live.${process.pid}.tmp`);
  await mkdir(ownersDir(), { recursive: true });
  await Promise.all([writeFile(deadTemp, '{}'), writeFile(liveTemp, '{}')]);
  try {
    await collectOrphans();
    assert.equal(existsSync(deadTemp), false);
    assert.equal(existsSync(liveTemp), true);
  } finally {
    await rm(liveTemp, { force: true });
    await rm(deadTemp, { force: true });
  }
});
