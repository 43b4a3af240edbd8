/**
 * Conformance: the event bus's outbox. Events exist exactly when their change committed, are
 * numbered once each (also with two replicas numbering and writing at once), keep each object's
 * order, and expire without ever reusing a number.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSandbox, QuotaExceededError } from '@tartarus/core';
import type { Store } from '../store.js';
import { NODE, runSpec, startRun, withStore, type BackendFixture } from './harness.js';

/** Every numbered event, oldest first, as `type objectId`. */
async function all(store: Store): Promise<{ seq: number; line: string; data: Record<string, unknown> }[]> {
  await store.events.sequence();
  return (await store.events.list({ after: 0, limit: 1000 })).map((e) => ({ seq: e.seq, line: `${e.type} ${e.objectId}`, data: e.data }));
}

/** Defines the event tests for a backend. */
export function eventsSuite(fx: BackendFixture): void {
  describe('events', () => {
    test("a run's life and a sandbox's, in order; a refused change writes nothing", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't', maxQueuedRuns: 1 });
        const node = await store.nodes.register({ name: 'n1', ...NODE });
        const { id, epoch } = await startRun(store, t.id, node.id);
        await store.queue.completeAttempt(id, epoch, node.id, { exitCode: 3 });
        await store.runs.submit(t.id, runSpec({ command: ['sleep', '1'] }));
        // Over the quota: the submit rolls back, and its event with it.
        await assert.rejects(store.runs.submit(t.id, runSpec({ command: ['true'] })), QuotaExceededError);
        const s = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox', spec: compileSandbox({}, null), nodeId: node.id });
        await store.sandboxes.transitionOnNode(node.id, s.id, 'running', undefined);
        await store.sandboxes.transitionOnNode(node.id, s.id, 'killed', { exitCode: null, reason: 'killed', message: null });
        await store.queue.handleNodeDown(node.id);
        const events = await all(store);
        assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'numbered 1, 2, 3, … in order');
        const lines = events.map((e) => e.line);
        assert.deepEqual(lines.slice(0, 4), [`node.up ${node.id}`, `run.queued ${id}`, `run.started ${id}`, `run.finished ${id}`]);
        assert.deepEqual(events[3]?.data, { state: 'failed', exitCode: 3, reason: 'exit', attempt: 1 });
        assert.equal(lines.filter((l) => l.startsWith('run.queued')).length, 2, 'the refused submit left no event');
        assert.deepEqual(lines.slice(-4), [`sandbox.created ${s.id}`, `sandbox.started ${s.id}`, `sandbox.ended ${s.id}`, `node.down ${node.id}`]);
        // Filters: one tenant, one type, one object.
        assert.equal((await store.events.list({ after: 0, limit: 100, tenantId: t.id })).length, events.length - 2);
        assert.deepEqual((await store.events.list({ after: 0, limit: 100, types: ['run.finished'] })).map((e) => e.objectId), [id]);
        assert.deepEqual((await store.events.list({ after: 2, limit: 100, objectId: id })).map((e) => e.type), ['run.started', 'run.finished']);
      }));

    test('two replicas writing and numbering at once: every event numbered once, per object in order', () =>
      withStore(fx, async ({ store, replica }) => {
        const other = await replica();
        const t = await store.tenants.create({ name: 't' });
        const node = await store.nodes.register({ name: 'n1', ...NODE });
        const lives = Array.from({ length: 12 }, (_, i) => (async () => {
          const s = i % 2 === 0 ? store : other;
          const { run } = await s.runs.submit(t.id, runSpec({ command: ['echo', String(i)] }));
          await Promise.all([store.events.sequence(), other.events.sequence()]);
          await s.runs.cancel(t.id, run.id);
          await Promise.all([store.events.sequence(5), other.events.sequence(5)]);
          return run.id;
        })());
        const ids = await Promise.all(lives);
        const events = await all(store);
        assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'no number twice, none skipped');
        for (const id of ids) {
          const mine = events.filter((e) => e.line.endsWith(id)).map((e) => e.line.split(' ')[0]);
          assert.deepEqual(mine, ['run.queued', 'run.finished'], `${id} in order`);
        }
        assert.equal(await other.events.lastSeq(), events.length);
        void node;
      }));

    test('expiry deletes old events but never the newest: numbers are never reused', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        for (let i = 0; i < 3; i++) await store.runs.submit(t.id, runSpec({ command: ['true'] }));
        await store.events.sequence();
        clock.advance(10_000);
        assert.equal(await store.events.expire(clock.now, 100), 2);
        await store.runs.submit(t.id, runSpec({ command: ['true'] }));
        const left = await all(store);
        assert.deepEqual(left.map((e) => e.seq), [3, 4]);
      }));
  });
}
