// A sandbox ends at its deadline even when the process that started it is gone (killed with
// SIGKILL, no timer left anywhere on the host): the sandbox's init (a microVM's guest agent)
// holds it — a run's timeout given at start, and a long-lived sandbox's deadline set later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RuntimeName } from '../../driver.js';
import { assertNoLeaks, snapshotHost } from '../../testing/leaks.js';
import { testRuntime, testTemplateDir } from '../../testing/runtime.js';

const RUNTIME_JS = new URL('../../runtime.js', import.meta.url).href;

// The "host process": starts the sandbox with a 300 ms timeout (mode `timeout`), or with none
// and then a deadline 300 ms ahead (mode `deadline`), then dies without cleaning up.
const CHILD = `
import { Runtime } from ${JSON.stringify(RUNTIME_JS)};
const [stateDir, templateDir, runtime, id, mode] = process.argv.slice(1);
const rt = new Runtime({ stateDir, templateDir });
const timeoutMs = mode === 'timeout' ? 300 : 0;
const sb = await rt.createSandbox({ id, template: 'busybox', runtime, command: ['sleep', '600'], timeoutMs, killGraceMs: 100 });
await sb.start();
if (mode === 'deadline') await sb.setDeadline(Date.now() + 300);
if (mode === 'moved') {
  await sb.setDeadline(Date.now() + 300);
  await sb.setDeadline(Date.now() + 600000);
}
process.stdout.write('started\\n');
process.kill(process.pid, 'SIGKILL');
`;

const CASES: [RuntimeName, 'timeout' | 'deadline'][] = [
  ['container', 'timeout'],
  ['container', 'deadline'],
  ['gvisor', 'timeout'],
  ['gvisor', 'deadline'],
  ['microvm', 'deadline'],
];

test('container: a deadline moved later is the one that holds', async (t) => {
  const tr = await testRuntime();
  try {
    const a = await tr.runtime.driver('container').available();
    if (!a.ok) return t.skip(`container is unavailable here: ${a.reason}`);
    const id = 'deadline-container-moved';
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, tr.stateDir, testTemplateDir(), 'container', id, 'moved'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(child.stdout, 'started\n', child.stderr);
    // The first deadline (300 ms + the 2 s margin) has long passed: the sandbox still runs.
    await new Promise((r) => setTimeout(r, 5000));
    const state = (await tr.runtime.driver('container').list()).find((s) => s.id === id)?.state;
    assert.equal(state, 'running');
  } finally {
    await tr.dispose();
  }
});

for (const [runtime, mode] of CASES) {
  test(`${runtime}: the ${mode === 'timeout' ? 'timeout given at start' : 'deadline set later'} holds after the starting process died`, async (t) => {
    const before = await snapshotHost();
    const tr = await testRuntime();
    try {
      const a = await tr.runtime.driver(runtime).available();
      if (!a.ok) return t.skip(`${runtime} is unavailable here: ${a.reason}`);
      const id = `deadline-${runtime}-${mode}`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, tr.stateDir, testTemplateDir(), runtime, id, mode], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(child.stdout, 'started\n', child.stderr);
      assert.equal(child.signal, 'SIGKILL');
      let state = '';
      // The init's deadline is the timeout plus a 2 s margin; give it ample time on a loaded machine.
      for (let i = 0; i < 600 && state !== 'exited'; i++) {
        state = (await tr.runtime.driver(runtime).list()).find((s) => s.id === id)?.state ?? 'gone';
        if (state !== 'exited') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(state, 'exited', 'the sandbox ended by itself at its deadline');
    } finally {
      await tr.dispose();
    }
    await assertNoLeaks(before, { path: tr.stateDir });
  });
}
