/**
 * Conformance: retention. Run logs of runs that ended past the retention are expired (the run
 * stays, with `logsExpiredAt`; its bytes leave the tenant's counter) and their chunks deleted in
 * bounded batches; recent and running runs keep theirs; old audit entries go, newer stay; two
 * replicas sweeping at once expire and delete each row once. The clock is moved, never slept on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '@tartarus/core';
import type { Store } from '../store.js';
import { NODE, startRun, withStore, type BackendFixture } from './harness.js';

const DAY = 86_400_000;

/** A run of the tenant that wrote `chunks` (stdout) and exited 0. */
async function finishedRun(store: Store, tenantId: string, nodeId: string, chunks: string[]) {
  const r = await startRun(store, tenantId, nodeId);
  const data = chunks.map((d) => ({ stream: 'stdout' as const, data: d }));
  assert.equal(await store.runs.appendLogs(r.id, r.epoch, nodeId, data), true);
  assert.equal(await store.queue.completeAttempt(r.id, r.epoch, nodeId, { exitCode: 0 }), true);
  return r;
}

/** Sweeps until nothing is left; the totals. */
async function sweepAll(store: Store, retentionMs: number, batch: number) {
  const total = { expiredRuns: 0, deletedChunks: 0, steps: 0 };
  for (let more = true; more; total.steps++) {
    const step = await store.retention.expireRunLogs(retentionMs, batch);
    total.expiredRuns += step.expiredRuns;
    total.deletedChunks += step.deletedChunks;
    more = step.more;
  }
  return total;
}

/** Defines the retention tests for a backend. */
export function retentionSuite(fx: BackendFixture): void {
  describe('retention', () => {
    test('run logs: expired past the retention in bounded batches; recent and running runs keep theirs; the counter decreases', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const old = await finishedRun(store, t.id, n.id, ['aaaa', 'bbbb', 'cccc']);
        clock.advance(5 * DAY);
        const recent = await finishedRun(store, t.id, n.id, ['ddddd']);
        const running = await startRun(store, t.id, n.id);
        assert.equal(
          await store.runs.appendLogs(running.id, running.epoch, n.id, [
            { stream: 'stderr', data: 'ee' },
          ]),
          true,
        );
        assert.equal((await store.tenants.get(t.id)).logBytes, 12 + 5 + 2);
        clock.advance(3 * DAY);

        // Batches of 2 rows: the old run is marked and 2 of its 3 chunks go; then the last one.
        const first = await store.retention.expireRunLogs(7 * DAY, 2);
        assert.deepEqual(first, { expiredRuns: 1, deletedChunks: 2, more: true });
        assert.equal((await store.tenants.get(t.id)).logBytes, 5 + 2);
        const expired = await store.runs.get(t.id, old.id);
        assert.equal(expired.logsExpiredAt, clock.now);
        assert.equal(expired.state, 'succeeded', 'the run and its result stay');
        assert.deepEqual(
          await store.runs.readLogs(t.id, old.id),
          [],
          'left-over chunks are invisible',
        );
        assert.deepEqual(await store.retention.expireRunLogs(7 * DAY, 2), {
          expiredRuns: 0,
          deletedChunks: 1,
          more: false,
        });
        assert.deepEqual(await store.retention.expireRunLogs(7 * DAY, 2), {
          expiredRuns: 0,
          deletedChunks: 0,
          more: false,
        });
        // A late report for the expired run adds nothing.
        assert.equal(
          await store.runs.appendLogs(old.id, old.epoch, n.id, [
            { stream: 'stdout', data: 'late' },
          ]),
          false,
        );
        assert.equal((await store.tenants.get(t.id)).logBytes, 5 + 2);
        assert.deepEqual(
          (await store.runs.readLogs(t.id, recent.id)).map((c) => c.data),
          ['ddddd'],
        );
        assert.deepEqual(
          (await store.runs.readLogs(t.id, running.id)).map((c) => c.data),
          ['ee'],
        );
        assert.equal((await store.runs.get(t.id, recent.id)).logsExpiredAt, null);

        // Past the recent run's retention too; the running run never ended, so it keeps its logs.
        clock.advance(5 * DAY);
        assert.deepEqual(await store.retention.expireRunLogs(7 * DAY), {
          expiredRuns: 1,
          deletedChunks: 1,
          more: false,
        });
        assert.equal((await store.tenants.get(t.id)).logBytes, 2);
        assert.deepEqual(
          (await store.runs.readLogs(t.id, running.id)).map((c) => c.data),
          ['ee'],
        );
      }));

    test('audit: entries older than the retention are deleted in bounded batches, newer ones kept', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        for (const action of ['a.1', 'a.2']) await store.audit.append({ tenantId: t.id, action });
        await store.audit.append({ tenantId: other.id, action: 'o.1' });
        clock.advance(50 * DAY);
        await store.audit.append({ tenantId: t.id, action: 'a.3' });
        clock.advance(45 * DAY);
        assert.equal(await store.retention.deleteOldAudit(90 * DAY, 2), 2);
        assert.equal(await store.retention.deleteOldAudit(90 * DAY, 2), 1);
        assert.equal(await store.retention.deleteOldAudit(90 * DAY, 2), 0);
        assert.deepEqual(
          (await store.audit.list(t.id)).items.map((e) => e.action),
          ['a.3'],
        );
        assert.deepEqual((await store.audit.list(other.id)).items, []);
        await assert.rejects(store.retention.deleteOldAudit(0), InvalidArgumentError);
        await assert.rejects(store.retention.expireRunLogs(DAY, 0), InvalidArgumentError);
      }));

    test('two replicas sweeping at once expire each run and delete each chunk once', () =>
      withStore(fx, async ({ store, clock, replica }) => {
        const other = await replica();
        const tenants = [
          await store.tenants.create({ name: 'a' }),
          await store.tenants.create({ name: 'b' }),
        ];
        const n = await store.nodes.register({ name: 'n', ...NODE });
        for (let i = 0; i < 12; i++) {
          const t = tenants[i % 2];
          assert.ok(t);
          await finishedRun(store, t.id, n.id, ['x1', 'x2', 'x3']);
        }
        clock.advance(8 * DAY);
        const [a, b] = await Promise.all([
          sweepAll(store, 7 * DAY, 5),
          sweepAll(other, 7 * DAY, 5),
        ]);
        assert.equal(a.expiredRuns + b.expiredRuns, 12);
        assert.equal(a.deletedChunks + b.deletedChunks, 36);
        for (const t of tenants) assert.equal((await store.tenants.get(t.id)).logBytes, 0);
      }));
  });
}
