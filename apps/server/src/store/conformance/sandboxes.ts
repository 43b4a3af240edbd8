/** Conformance: sandbox records, quota and state machine. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileSandbox,
  ConflictError,
  NotFoundError,
  QuotaExceededError,
} from '@tartarus/core';
import { NODE, withStore, type BackendFixture } from './harness.js';

/** Defines the sandbox tests for a backend. */
export function sandboxesSuite(fx: BackendFixture): void {
  describe('sandboxes', () => {
    test("a sandbox without a timeout gets its spec's, counted from its first start, by the change that records the start", () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const spec = compileSandbox({ timeoutMs: 60_000 }, null);
        const s = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox', spec });
        assert.equal(s.timeoutAt, null);
        await store.sandboxes.assignNode(s.id, n.id);
        clock.advance(500);
        const running = await store.sandboxes.transitionOnNode(n.id, s.id, 'running');
        assert.equal(running?.timeoutAt, clock.now + 60_000);
        clock.advance(500);
        assert.equal((await store.sandboxes.transition(s.id, 'paused')).timeoutAt, running?.timeoutAt);
        assert.equal((await store.sandboxes.transition(s.id, 'running')).timeoutAt, running?.timeoutAt, 'a resume keeps it');
      }));

    test('create within quota, place, run, pause, exit; illegal transitions conflict', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't', maxConcurrentSandboxes: 2 });
        const other = await store.tenants.create({ name: 'o' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const a = await store.sandboxes.create(t.id, {
          runtime: 'container',
          template: 'busybox',
          spec: compileSandbox({}, null),
          timeoutAt: clock.now + 1000,
        });
        const b = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox' });
        await assert.rejects(
          store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox' }),
          QuotaExceededError,
        );
        await assert.rejects(store.sandboxes.get(other.id, a.id), NotFoundError);
        assert.equal((await store.sandboxes.assignNode(a.id, n.id)).nodeId, n.id);
        clock.advance(10);
        const running = await store.sandboxes.transition(a.id, 'running');
        assert.equal(running.startedAt, clock.now);
        assert.equal(running.timeoutAt, clock.now - 10 + 1000, 'a timeout set before the start is kept');
        await assert.rejects(store.sandboxes.assignNode(a.id, n.id), ConflictError);
        assert.equal((await store.sandboxes.transition(a.id, 'paused')).state, 'paused');
        assert.deepEqual(
          (await store.sandboxes.listByNode(n.id)).map((s) => s.id),
          [a.id],
        );
        const exited = await store.sandboxes.transition(a.id, 'exited', {
          exitCode: 0,
          reason: 'exit',
          message: null,
        });
        assert.deepEqual(exited.exit, { exitCode: 0, reason: 'exit', message: null });
        assert.equal(exited.endedAt, clock.now);
        await assert.rejects(store.sandboxes.transition(a.id, 'running'), ConflictError);
        assert.equal(
          (await store.sandboxes.transition(a.id, 'exited')).state,
          'exited',
          'same state is a no-op',
        );
        await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox' });
        assert.equal((await store.sandboxes.list(t.id)).items.length, 3);
        assert.deepEqual(
          (await store.sandboxes.list(t.id, { state: 'exited' })).items.map((s) => s.id),
          [a.id],
        );
        await store.sandboxes.transition(b.id, 'killed');
      }));

    test("a node's report moves only a sandbox placed on that node", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const a = await store.nodes.register({ name: 'a', ...NODE });
        const b = await store.nodes.register({ name: 'b', ...NODE });
        const s = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox' });
        const onB = (to: 'running' | 'error') => store.sandboxes.transitionOnNode(b.id, s.id, to);
        assert.equal(await onB('running'), null, 'not placed yet: on no node');
        await store.sandboxes.assignNode(s.id, a.id);
        assert.equal(await onB('running'), null);
        assert.equal(await onB('error'), null);
        assert.equal((await store.sandboxes.get(t.id, s.id)).state, 'requested');
        const moved = await store.sandboxes.transitionOnNode(a.id, s.id, 'running');
        assert.equal(moved?.state, 'running');
        await assert.rejects(
          store.sandboxes.transitionOnNode(a.id, s.id, 'requested'),
          ConflictError,
          'the state machine still applies',
        );
        assert.equal(await store.sandboxes.transitionOnNode(a.id, 'sbx_missing', 'running'), null);
        await assert.rejects(store.sandboxes.transition('sbx_missing', 'running'), NotFoundError);
      }));

    test('timeouts: expired live sandboxes are listed; the timeout can be moved', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const s = await store.sandboxes.create(t.id, {
          runtime: 'container',
          template: 'busybox',
          timeoutAt: clock.now + 1000,
        });
        assert.equal((await store.sandboxes.listExpired()).length, 0);
        clock.advance(1000);
        assert.deepEqual(
          (await store.sandboxes.listExpired()).map((x) => x.id),
          [s.id],
        );
        await store.sandboxes.setTimeout(t.id, s.id, clock.now + 5000);
        assert.equal((await store.sandboxes.listExpired()).length, 0);
        await store.sandboxes.setTimeout(t.id, s.id, null);
        clock.advance(1_000_000);
        assert.equal((await store.sandboxes.listExpired()).length, 0);
      }));
  });
}
