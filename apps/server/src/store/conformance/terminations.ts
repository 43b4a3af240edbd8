/** Conformance: a sandbox's termination — pending and replaceable, cancelled once, claimed by one replica under a lease, due again past it, gone when the sandbox ends. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSandbox } from '@tartarus/core';
import { NODE, withStore, type BackendFixture } from './harness.js';

/** Defines the termination tests for a backend. */
export function terminationsSuite(fx: BackendFixture): void {
  describe('terminations', () => {
    test('pending, replaced, cancelled; claimed by one replica, due again after its lease; cleared when the sandbox ends', () =>
      withStore(fx, async ({ store, clock, replica }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const s = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox', spec: compileSandbox({}, null) });
        await store.sandboxes.assignNode(s.id, n.id);
        await store.sandboxes.transitionOnNode(n.id, s.id, 'running');
        const at = clock.now + 60_000;
        const first = await store.sandboxes.setTermination(t.id, s.id, { at, graceMs: 5000, reason: 'nightly', requestedAt: clock.now });
        assert.deepEqual([first.termination, first.terminateDueAt], [{ at, graceMs: 5000, reason: 'nightly', requestedAt: clock.now, begun: false }, at]);
        const sooner = await store.sandboxes.setTermination(t.id, s.id, { at: clock.now + 1000, graceMs: 0, reason: null, requestedAt: clock.now });
        assert.deepEqual([sooner.termination?.reason, sooner.terminateDueAt], [null, clock.now + 1000]);
        assert.deepEqual(await store.sandboxes.listTerminationsDue(), [], 'not due yet');
        assert.equal((await store.sandboxes.cancelTermination(t.id, s.id)).outcome, 'cancelled');
        assert.equal((await store.sandboxes.cancelTermination(t.id, s.id)).outcome, 'none');

        const dueAt = clock.now + 1000;
        await store.sandboxes.setTermination(t.id, s.id, { at: dueAt, graceMs: 2000, reason: 'r', requestedAt: clock.now });
        clock.advance(1000);
        assert.deepEqual((await store.sandboxes.listTerminationsDue()).map((x) => x.id), [s.id]);
        const other = await replica();
        const claims = await Promise.all([store.sandboxes.claimTermination(s.id, dueAt, clock.now + 32_000), other.sandboxes.claimTermination(s.id, dueAt, clock.now + 32_000)]);
        assert.deepEqual(claims.sort(), [false, true], 'one replica takes it');
        assert.equal((await store.sandboxes.get(t.id, s.id)).termination?.begun, true);
        assert.equal((await store.sandboxes.cancelTermination(t.id, s.id)).outcome, 'begun');
        await assert.rejects(store.sandboxes.setTermination(t.id, s.id, { at: clock.now + 1, graceMs: 0, reason: null, requestedAt: clock.now }), { code: 'conflict' });
        assert.deepEqual(await store.sandboxes.listTerminationsDue(), [], 'leased');
        clock.advance(32_000);
        assert.deepEqual((await store.sandboxes.listTerminationsDue()).map((x) => x.id), [s.id], 'due again once the lease ran out');

        const ended = await store.sandboxes.transition(s.id, 'killed', { exitCode: null, reason: 'killed', message: 'terminated: r' });
        assert.deepEqual([ended.termination, ended.terminateDueAt], [null, null]);
        assert.deepEqual(await store.sandboxes.listTerminationsDue(), []);
        await assert.rejects(store.sandboxes.setTermination(t.id, s.id, { at: clock.now + 1, graceMs: 0, reason: null, requestedAt: clock.now }), { code: 'conflict' });
      }));
  });
}
