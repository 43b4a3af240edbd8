/**
 * Conformance: lifecycle. Idempotent destroy (before start, after exit, twice), bad input,
 * duplicate ids, and crash recovery: a second Runtime over the same state dir lists the
 * sandboxes, adopts a running one (exec, files, kill work) and removes orphans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../runtime.js';
import { testTemplateDir } from '../testing/runtime.js';
import type { SuiteContext } from './suite.js';
import { CONFORMANCE_TEMPLATE } from './suite.js';

/** Registers the lifecycle tests. */
export function lifecycleTests(s: SuiteContext): void {
  const create = (id = s.newId()) => s.rt().createSandbox({ id, template: CONFORMANCE_TEMPLATE, runtime: s.runtime });

  test('destroy is idempotent: before start, after exit, twice', async () => {
    const a = await create();
    await a.destroy();
    await a.destroy();
    assert.equal(a.state(), 'destroyed');
    assert.equal((await a.wait()).reason, 'killed');
    const b = await s.rt().createSandbox({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, command: 'true' });
    try {
      await b.start();
      assert.equal((await b.wait()).exitCode, 0);
    } finally {
      await b.destroy();
      await b.destroy();
    }
    await s.rt().driver(s.runtime).destroy(s.newId());
  });

  test('bad input is rejected with a message saying what to change', async () => {
    await assert.rejects(s.rt().createSandbox({ id: 'Bad Id', template: CONFORMANCE_TEMPLATE, runtime: s.runtime }), { code: 'invalid_argument', message: /sandbox id/ });
    await assert.rejects(s.rt().createSandbox({ template: CONFORMANCE_TEMPLATE, runtime: s.runtime, limits: { cpu: -1 } }), { code: 'invalid_argument', message: /limits.cpu/ });
    await assert.rejects(s.rt().createSandbox({ template: CONFORMANCE_TEMPLATE, runtime: s.runtime, cwd: 'relative' }), { code: 'invalid_argument' });
    await assert.rejects(s.rt().createSandbox({ template: CONFORMANCE_TEMPLATE, runtime: s.runtime, user: 'nobody-here' }), { code: 'invalid_argument', message: /does not exist/ });
    await assert.rejects(s.rt().createSandbox({ template: 'no-such-template', runtime: s.runtime }), { code: 'invalid_argument' });
  });

  test('an id in use is a conflict', async () => {
    const id = s.newId();
    const a = await create(id);
    try {
      await assert.rejects(create(id), { code: 'conflict' });
    } finally {
      await a.destroy();
    }
  });

  test('after a restart: list, adopt a running sandbox, remove orphans', async () => {
    const running = await create();
    const exited = await s.rt().createSandbox({ id: s.newId(), template: CONFORMANCE_TEMPLATE, runtime: s.runtime, command: 'true' });
    const unstarted = await create();
    try {
      await running.start();
      await running.files.write('/tmp/before', 'kept');
      await exited.start();
      await exited.wait();
      // A second Runtime over the same state dir stands for the restarted process.
      const again = new Runtime({ stateDir: s.fixture().stateDir, templateDir: testTemplateDir() });
      const listed = await again.driver(s.runtime).list();
      const byId = new Map(listed.map((i) => [i.id, i.state]));
      assert.equal(byId.get(running.id), 'running');
      assert.equal(byId.get(exited.id), 'exited');
      // Never started: `created` (both states mean "only destroy() is useful").
      assert.ok(['created', 'exited'].includes(byId.get(unstarted.id) ?? ''), byId.get(unstarted.id));
      const adopted = await again.adopt(s.runtime, running.id);
      assert.equal(adopted.state(), 'running');
      assert.equal((await adopted.files.read('/tmp/before')).toString(), 'kept');
      assert.equal((await (await adopted.exec({ argv: ['echo', 'hi'] })).wait()).stdout.toString(), 'hi\n');
      await assert.rejects(again.adopt(s.runtime, exited.id), { code: 'sandbox_not_running' });
      const removed = await again.cleanupOrphans(new Set([running.id]));
      assert.deepEqual(removed.sort(), [exited.id, unstarted.id].sort());
      await adopted.kill({ graceMs: 0 });
      assert.equal((await adopted.wait()).reason, 'killed');
      await adopted.destroy();
    } finally {
      await running.destroy();
      await exited.destroy();
      await unstarted.destroy();
    }
  });

  test('after a restart the adopted main process still reports its own exit', async () => {
    const sb = await s.rt().createSandbox({
      id: s.newId(),
      template: CONFORMANCE_TEMPLATE,
      runtime: s.runtime,
      command: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 1; done; echo bye; exit 7'],
    });
    try {
      await sb.start();
      // A second Runtime over the same state dir stands for the restarted process.
      const again = new Runtime({ stateDir: s.fixture().stateDir, templateDir: testTemplateDir() });
      const adopted = await again.adopt(s.runtime, sb.id);
      await adopted.files.write('/tmp/go', '');
      const r = await adopted.wait();
      assert.equal(r.reason, 'exited');
      assert.equal(r.exitCode, 7);
      assert.equal(r.stdout.toString(), 'bye\n');
      await adopted.destroy();
    } finally {
      await sb.destroy();
    }
  });
}
