/** Conformance: submission (idempotency, quota), tenant isolation, listing, cancel, logs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  QuotaExceededError,
} from '@tartarus/core';
import { NODE, withStore, type BackendFixture, runSpec } from './harness.js';

const SPEC = runSpec({ command: ['echo', 'hi'], env: { A: '1', B: '2' } });

/** Defines the run tests for a backend. */
export function runsSuite(fx: BackendFixture): void {
  describe('runs', () => {
    test('idempotency: same key and body → same run; other body → ConflictError; keys are per tenant', () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        const first = await store.runs.submit(t.id, SPEC, { idempotencyKey: 'k1' });
        assert.equal(first.created, true);
        // Same body with keys in another order and the default made explicit.
        const replay = await store.runs.submit(
          t.id,
          runSpec({ env: { B: '2', A: '1' }, command: ['echo', 'hi'] }),
          { idempotencyKey: 'k1', maxAttempts: 3 },
        );
        assert.equal(replay.created, false);
        assert.equal(replay.run.id, first.run.id);
        await assert.rejects(
          store.runs.submit(t.id, runSpec({ command: ['echo', 'bye'] }), { idempotencyKey: 'k1' }),
          ConflictError,
        );
        await assert.rejects(
          store.runs.submit(t.id, SPEC, { idempotencyKey: 'k1', maxAttempts: 5 }),
          ConflictError,
        );
        const elsewhere = await store.runs.submit(other.id, SPEC, { idempotencyKey: 'k1' });
        assert.notEqual(elsewhere.run.id, first.run.id);
        const noKey = [await store.runs.submit(t.id, SPEC), await store.runs.submit(t.id, SPEC)];
        assert.notEqual(noKey[0]?.run.id, noKey[1]?.run.id);
      }));

    test('quota: past maxQueuedRuns → QuotaExceededError with retryAfterMs; leasing frees room; replays still answer', () =>
      withStore(
        fx,
        async ({ store }) => {
          const t = await store.tenants.create({ name: 't', maxQueuedRuns: 2 });
          await store.runs.submit(t.id, SPEC, { idempotencyKey: 'a' });
          await store.runs.submit(t.id, SPEC);
          await assert.rejects(
            store.runs.submit(t.id, SPEC),
            (e: unknown) => e instanceof QuotaExceededError && e.retryAfterMs === 1234,
          );
          assert.equal(
            (await store.runs.submit(t.id, SPEC, { idempotencyKey: 'a' })).created,
            false,
          );
          const n = await store.nodes.register({ name: 'n', ...NODE });
          assert.equal((await store.queue.leaseRuns(n.id, { max: 1, leaseMs: 1000 })).length, 1);
          assert.equal((await store.runs.submit(t.id, SPEC)).created, true);
          await assert.rejects(store.runs.submit('ten_missing', SPEC), NotFoundError);
        },
        { quotaRetryAfterMs: 1234 },
      ));

    test('concurrent submissions from two replicas: one run per key, and the quota holds', () =>
      withStore(fx, async ({ store, replica }) => {
        const t = await store.tenants.create({ name: 't', maxQueuedRuns: 5 });
        const other = await replica();
        const same = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? store : other).runs.submit(t.id, SPEC, { idempotencyKey: 'dup' }),
          ),
        );
        assert.equal(new Set(same.map((s) => s.run.id)).size, 1);
        assert.equal(same.filter((s) => s.created).length, 1);
        const flood = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? store : other).runs.submit(t.id, SPEC),
          ),
        );
        assert.equal(flood.filter((r) => r.status === 'fulfilled').length, 4);
        assert.ok(
          flood.every((r) => r.status === 'fulfilled' || r.reason instanceof QuotaExceededError),
        );
        assert.equal((await store.runs.list(t.id, { state: 'queued' })).items.length, 5);
      }));

    test("tenant isolation: another tenant's run is not found", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        const { run } = await store.runs.submit(t.id, SPEC);
        await assert.rejects(store.runs.get(other.id, run.id), NotFoundError);
        await assert.rejects(store.runs.cancel(other.id, run.id), NotFoundError);
        await assert.rejects(store.runs.attempts(other.id, run.id), NotFoundError);
        await assert.rejects(store.runs.readLogs(other.id, run.id), NotFoundError);
        assert.equal((await store.runs.list(other.id)).items.length, 0);
        assert.equal((await store.runs.get(t.id, run.id)).state, 'queued');
      }));

    test('list: newest first, cursor pages without gaps or repeats, state filter', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          // Pairs share a timestamp, so the id tie-break of the cursor is exercised too.
          if (i % 2 === 0) clock.advance(5);
          ids.push((await store.runs.submit(t.id, runSpec({ command: ['n', String(i)] }))).run.id);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.runs.list(t.id, {
            limit: 3,
            ...(cursor !== undefined && { cursor }),
          });
          seen.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor !== undefined);
        assert.equal(pages, 3);
        await assert.rejects(
          store.runs.list(t.id, { cursor: 'not-a-cursor' }),
          InvalidArgumentError,
        );
        assert.deepEqual([...seen].sort(), [...ids].sort());
        assert.equal(seen[0], (await store.runs.list(t.id, { limit: 1 })).items[0]?.id);
        await store.runs.cancel(t.id, ids[0] ?? '');
        assert.deepEqual(
          (await store.runs.list(t.id, { state: 'cancelled' })).items.map((r) => r.id),
          [ids[0]],
        );
        assert.equal((await store.runs.list(t.id, { state: 'queued' })).items.length, 6);
      }));

    test('cancel: a queued run is cancelled; a running attempt learns it from a false report', () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const { run } = await store.runs.submit(t.id, SPEC);
        const [lease] = await store.queue.leaseRuns(n.id, { max: 1, leaseMs: 1000 });
        assert.ok(lease);
        assert.equal(await store.queue.confirmStart(run.id, lease.epoch, n.id, 1000), true);
        const cancelled = await store.runs.cancel(t.id, run.id);
        assert.equal(cancelled.state, 'cancelled');
        assert.equal(cancelled.result?.reason, 'cancelled');
        assert.equal(await store.queue.extendLease(run.id, lease.epoch, n.id, 1000), false);
        assert.equal(
          await store.queue.completeAttempt(run.id, lease.epoch, n.id, { exitCode: 0 }),
          false,
        );
        assert.equal((await store.runs.get(t.id, run.id)).state, 'cancelled');
        assert.equal((await store.runs.cancel(t.id, run.id)).state, 'cancelled');
        assert.equal((await store.runs.attempts(t.id, run.id))[0]?.reason, 'cancelled');
      }));

    test('logs: append fenced by epoch, read since seq or time, capped per run', () =>
      withStore(
        fx,
        async ({ store, clock }) => {
          const t = await store.tenants.create({ name: 't' });
          const n = await store.nodes.register({ name: 'n', ...NODE });
          const { run } = await store.runs.submit(t.id, SPEC);
          const [lease] = await store.queue.leaseRuns(n.id, { max: 1, leaseMs: 1000 });
          assert.ok(lease);
          assert.equal(
            await store.runs.appendLogs(run.id, lease.epoch, n.id, [
              { stream: 'stdout', data: 'one\n' },
              { stream: 'stderr', data: 'two\n' },
            ]),
            true,
          );
          clock.advance(100);
          const mark = clock.now;
          assert.equal(
            await store.runs.appendLogs(run.id, lease.epoch, n.id, [
              { stream: 'stdout', data: 'three\n' },
            ]),
            true,
          );
          assert.equal(
            await store.runs.appendLogs(run.id, lease.epoch + 1, n.id, [
              { stream: 'stdout', data: 'late\n' },
            ]),
            false,
          );
          const all = await store.runs.readLogs(t.id, run.id);
          assert.deepEqual(
            all.map((c) => [c.seq, c.stream, c.data, c.attempt]),
            [
              [1, 'stdout', 'one\n', 1],
              [2, 'stderr', 'two\n', 1],
              [3, 'stdout', 'three\n', 1],
            ],
          );
          assert.deepEqual(
            (await store.runs.readLogs(t.id, run.id, { sinceSeq: 1 })).map((c) => c.seq),
            [2, 3],
          );
          assert.deepEqual(
            (await store.runs.readLogs(t.id, run.id, { sinceTime: mark })).map((c) => c.seq),
            [3],
          );
          assert.deepEqual(
            (await store.runs.readLogs(t.id, run.id, { limit: 1 })).map((c) => c.seq),
            [1],
          );
          // Cap is 20 bytes: 14 used; 'xxxxxxx' (7) does not fit, nor anything after it.
          assert.equal(
            await store.runs.appendLogs(run.id, lease.epoch, n.id, [
              { stream: 'stdout', data: 'xxxxxxx' },
              { stream: 'stdout', data: 'y' },
            ]),
            true,
          );
          assert.equal((await store.runs.readLogs(t.id, run.id)).length, 3);
          assert.deepEqual((await store.runs.get(t.id, run.id)).logsDropped, {
            reason: 'run-cap',
            stdout: true,
            stderr: false,
          });
        },
        { logCapBytes: 20 },
      ));
  });
}
