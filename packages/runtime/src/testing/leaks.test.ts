import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CGROUP_PARENT, CGROUP_ROOT } from '../cgroups/v1.js';
import { findLeaks, snapshotHost } from './leaks.js';
import { TEST_TMP_PREFIX, withTestRuntime } from './runtime.js';

const rootReason = process.getuid?.() === 0 ? false : 'needs root to make a cgroup';

test('the leak checker reports a new cgroup and temp dir, scoped to one test', { skip: rootReason }, async () => {
  const before = await snapshotHost();
  const id = `leakcheck-${process.pid}`;
  const cg = join(CGROUP_ROOT, 'pids', CGROUP_PARENT, id);
  const dir = await mkdtemp(join(tmpdir(), `${TEST_TMP_PREFIX}leakcheck-`));
  await mkdir(cg, { recursive: true });
  try {
    const leaks = await findLeaks(before, { idPrefix: 'leakcheck-' });
    assert.deepEqual(leaks.cgroups, [id]);
    assert.deepEqual(leaks.tempDirs, [dir]);
    assert.deepEqual(await findLeaks(before, { idPrefix: 'other-', path: '/nowhere' }), {});
  } finally {
    await rmdir(cg);
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(await findLeaks(before, { idPrefix: 'leakcheck-' }), {});
});

test('withTestRuntime removes its state dir even when the test fails', async () => {
  let stateDir = '';
  await assert.rejects(
    withTestRuntime(async (t) => {
      stateDir = t.stateDir;
      throw new Error('test failure');
    }),
    /test failure/,
  );
  await assert.rejects(mkdtemp(join(stateDir, 'x')), { code: 'ENOENT' });
});
