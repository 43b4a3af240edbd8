// A container or gVisor sandbox ends at its deadline even when the process that started it is
// gone (killed with SIGKILL, no timer left anywhere on the host): the sandbox's init holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RuntimeName } from '../../driver.js';
import { assertNoLeaks, snapshotHost } from '../../testing/leaks.js';
import { testRuntime, testTemplateDir } from '../../testing/runtime.js';

const RUNTIME_JS = new URL('../../runtime.js', import.meta.url).href;

// The "host process": starts the sandbox with a 300 ms timeout, then dies without cleaning up.
const CHILD = `
import { Runtime } from ${JSON.stringify(RUNTIME_JS)};
const [stateDir, templateDir, runtime, id] = process.argv.slice(1);
const rt = new Runtime({ stateDir, templateDir });
const sb = await rt.createSandbox({ id, template: 'busybox', runtime, command: ['sleep', '600'], timeoutMs: 300, killGraceMs: 100 });
await sb.start();
process.stdout.write('started\\n');
process.kill(process.pid, 'SIGKILL');
`;

for (const runtime of ['container', 'gvisor'] as RuntimeName[]) {
  test(`${runtime}: the deadline holds after the starting process died`, async (t) => {
    const before = await snapshotHost();
    const tr = await testRuntime();
    try {
      const a = await tr.runtime.driver(runtime).available();
      if (!a.ok) return t.skip(`${runtime} is unavailable here: ${a.reason}`);
      const id = `deadline-${runtime}`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, tr.stateDir, testTemplateDir(), runtime, id], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.stdout, 'started\n', child.stderr);
      assert.equal(child.signal, 'SIGKILL');
      let state = '';
      // The init's deadline is the timeout plus a 2 s margin; give it ample time on a loaded machine.
      for (let i = 0; i < 300 && state !== 'exited'; i++) {
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
