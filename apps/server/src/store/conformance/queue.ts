/** Conformance: leases, fencing, visibility timeout, retry with backoff, dead letter, node loss, races. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NODE, withStore, type BackendFixture, runSpec } from './harness.js';
import type { Store } from '../store.js';

async function setup(store: Store, nodes = 1) {
  const tenant = await store.tenants.create({ name: 't' });
  const nodeIds: string[] = [];
  for (let i = 0; i < nodes; i++)
    nodeIds.push((await store.nodes.register({ name: `n${i}`, ...NODE })).id);
  return { tenant, nodeIds, node: nodeIds[0] ?? '' };
}

/** Defines the queue tests for a backend. */
export function queueSuite(fx: BackendFixture): void {
  describe('queue', () => {
    test('lease → confirm → complete; a non-zero exit is a final failure, not a retry', () =>
      withStore(fx, async ({ store, clock }) => {
        const { tenant, node } = await setup(store);
        const ok = (await store.runs.submit(tenant.id, runSpec({ command: ['true'] }))).run;
        clock.advance(1); // leases go oldest first; ids alone do not order runs of one millisecond
        const bad = (await store.runs.submit(tenant.id, runSpec({ command: ['false'] }))).run;
        const leases = await store.queue.leaseRuns(node, { max: 5, leaseMs: 1000 });
        assert.deepEqual(
          leases.map((l) => [l.run.id, l.epoch, l.attempt, l.run.state, l.leaseExpiresAt]),
          [
            [ok.id, 1, 1, 'leased', clock.now + 1000],
            [bad.id, 1, 1, 'leased', clock.now + 1000],
          ],
        );
        assert.equal(await store.queue.countReady(), 0);
        for (const l of leases)
          assert.equal(await store.queue.confirmStart(l.run.id, l.epoch, node, 5000), true);
        assert.equal(
          await store.queue.confirmStart(ok.id, 1, node, 5000),
          true,
          'confirm is idempotent',
        );
        assert.equal(
          await store.queue.completeAttempt(ok.id, 1, node, { exitCode: 0, stdoutTruncated: true }),
          true,
        );
        assert.equal(
          await store.queue.completeAttempt(bad.id, 1, node, { exitCode: 3, message: 'boom' }),
          true,
        );
        const done = await store.runs.get(tenant.id, ok.id);
        assert.equal(done.state, 'succeeded');
        assert.deepEqual(done.result, {
          exitCode: 0,
          reason: 'exit',
          stdoutTruncated: true,
          stderrTruncated: false,
          message: null,
        });
        const failed = await store.runs.get(tenant.id, bad.id);
        assert.equal(failed.state, 'failed');
        assert.equal(failed.result?.exitCode, 3);
        const [attempt] = await store.runs.attempts(tenant.id, ok.id);
        assert.equal(attempt?.nodeId, node);
        assert.equal(attempt?.exitCode, 0);
        assert.ok(attempt?.endedAt !== null && attempt?.startedAt !== null);
        assert.equal(
          await store.queue.completeAttempt(ok.id, 1, node, { exitCode: 1 }),
          false,
          'a final run takes no second result',
        );
      }));

    test('fencing: a late result from an expired attempt is not committed', () =>
      withStore(fx, async ({ store, clock }) => {
        const { tenant, nodeIds } = await setup(store, 2);
        const { run } = await store.runs.submit(
          tenant.id,
          runSpec({ command: ['work'] }),
          { backoff: { initialMs: 0, maxMs: 0 } },
        );
        const [n0, n1] = [nodeIds[0] ?? '', nodeIds[1] ?? ''];
        const first = await store.queue.leaseRun(run.id, n0, 1000);
        assert.equal(first?.epoch, 1);
        assert.equal(await store.queue.confirmStart(run.id, 1, n0, 1000), true);
        clock.advance(1001);
        assert.deepEqual(await store.queue.requeueExpiredLeases(), [
          { runId: run.id, epoch: 1, outcome: 'requeued', reason: 'heartbeat_missed' },
        ]);
        const second = await store.queue.leaseRun(run.id, n1, 1000);
        assert.equal(second?.epoch, 2);
        // The old attempt's node, with its old epoch: stale.
        assert.equal(await store.queue.completeAttempt(run.id, 1, n0, { exitCode: 0 }), false);
        assert.equal(
          await store.queue.failAttempt(run.id, 1, n0, { reason: 'error', retryable: true }),
          null,
        );
        assert.equal(await store.queue.extendLease(run.id, 1, n0, 1000), false);
        assert.equal(await store.queue.confirmStart(run.id, 1, n0, 1000), false);
        assert.equal(
          await store.runs.appendLogs(run.id, 1, n0, [{ stream: 'stdout', data: 'ghost' }]),
          false,
        );
        assert.equal(await store.queue.completeAttempt(run.id, 2, n1, { exitCode: 7 }), true);
        const final = await store.runs.get(tenant.id, run.id);
        assert.equal(final.result?.exitCode, 7);
        assert.deepEqual(
          (await store.runs.attempts(tenant.id, run.id)).map((a) => [
            a.attempt,
            a.epoch,
            a.nodeId,
            a.reason,
          ]),
          [
            [1, 1, nodeIds[0], 'heartbeat_missed'],
            [2, 2, nodeIds[1], 'exit'],
          ],
        );
      }));

    test('a report from a node the lease is not on changes nothing', () =>
      withStore(fx, async ({ store }) => {
        const { tenant, nodeIds } = await setup(store, 2);
        const [holder, other] = [nodeIds[0] ?? '', nodeIds[1] ?? ''];
        const { run } = await store.runs.submit(tenant.id, runSpec({ command: ['x'] }));
        const lease = await store.queue.leaseRun(run.id, holder, 1000);
        const epoch = lease?.epoch ?? 0;
        const q = store.queue;
        assert.equal(await q.confirmStart(run.id, epoch, other, 1000), false);
        assert.equal(await q.extendLease(run.id, epoch, other, 5000), false);
        const chunk = [{ stream: 'stdout' as const, data: 'forged' }];
        assert.equal(await store.runs.appendLogs(run.id, epoch, other, chunk), false);
        assert.equal(await q.completeAttempt(run.id, epoch, other, { exitCode: 0 }), false);
        const failure = { reason: 'error' as const, retryable: false };
        assert.equal(await q.failAttempt(run.id, epoch, other, failure), null);
        const after = await store.runs.get(tenant.id, run.id);
        assert.deepEqual([after.state, after.attempts, after.result], ['leased', 1, null]);
        assert.deepEqual(await store.runs.readLogs(tenant.id, run.id), []);
        assert.equal(await q.confirmStart(run.id, epoch, holder, 1000), true);
        assert.equal(await store.runs.appendLogs(run.id, epoch, holder, chunk), true);
        assert.equal(await q.completeAttempt(run.id, epoch, holder, { exitCode: 0 }), true);
        assert.equal((await store.runs.get(tenant.id, run.id)).state, 'succeeded');
      }));

    test('visibility timeout: unconfirmed leases and missed heartbeats are requeued; extended leases are not', () =>
      withStore(fx, async ({ store, clock }) => {
        const { tenant, node } = await setup(store);
        const a = (await store.runs.submit(tenant.id, runSpec({ command: ['a'] }))).run;
        const b = (await store.runs.submit(tenant.id, runSpec({ command: ['b'] }))).run;
        const c = (await store.runs.submit(tenant.id, runSpec({ command: ['c'] }))).run;
        await store.queue.leaseRuns(node, { max: 3, leaseMs: 1000 });
        await store.queue.confirmStart(b.id, 1, node, 1000);
        await store.queue.confirmStart(c.id, 1, node, 1000);
        clock.advance(900);
        assert.equal(await store.queue.extendLease(c.id, 1, node, 1000), true);
        assert.deepEqual(await store.queue.requeueExpiredLeases(), []);
        clock.advance(200);
        const moved = await store.queue.requeueExpiredLeases();
        assert.deepEqual(
          moved.map((m) => [m.runId, m.reason, m.outcome]).sort(),
          [
            [a.id, 'lease_expired', 'requeued'],
            [b.id, 'heartbeat_missed', 'requeued'],
          ].sort(),
        );
        assert.equal((await store.runs.get(tenant.id, a.id)).state, 'queued');
        assert.equal((await store.runs.get(tenant.id, c.id)).state, 'running');
        assert.deepEqual(await store.queue.requeueExpiredLeases(), [], 'the sweep is idempotent');
      }));

    test('retries back off exponentially, then the run is dead-lettered with its reason', () =>
      withStore(fx, async ({ store, clock }) => {
        const { tenant, node } = await setup(store);
        const { run } = await store.runs.submit(
          tenant.id,
          runSpec({ command: ['flaky'] }),
          { maxAttempts: 3, backoff: { initialMs: 1000, maxMs: 1500 } },
        );
        const delays: number[] = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
          const [lease] = await store.queue.leaseRuns(node, { max: 1, leaseMs: 1000 });
          assert.equal(lease?.attempt, attempt);
          const outcome = await store.queue.failAttempt(run.id, lease?.epoch ?? 0, node, {
            reason: 'start_failed',
            message: `no sandbox #${attempt}`,
            retryable: true,
          });
          assert.equal(outcome, attempt < 3 ? 'requeued' : 'dead');
          const now = await store.runs.get(tenant.id, run.id);
          if (outcome === 'dead') break;
          delays.push(now.nextEligibleAt - clock.now);
          assert.deepEqual(
            await store.queue.leaseRuns(node, { max: 1, leaseMs: 1000 }),
            [],
            'not eligible during backoff',
          );
          clock.advance(now.nextEligibleAt - clock.now);
        }
        assert.deepEqual(delays, [1000, 1500]);
        const dead = await store.runs.get(tenant.id, run.id);
        assert.equal(dead.state, 'dead');
        assert.equal(dead.result?.reason, 'start_failed');
        assert.equal(dead.result?.message, 'no sandbox #3');
        assert.equal((await store.runs.attempts(tenant.id, run.id)).length, 3);
        assert.deepEqual(await store.queue.leaseRuns(node, { max: 1, leaseMs: 1000 }), []);
      }));

    test('a non-retryable failure dead-letters at once', () =>
      withStore(fx, async ({ store }) => {
        const { tenant, node } = await setup(store);
        const { run } = await store.runs.submit(tenant.id, runSpec({ command: ['x'] }), { maxAttempts: 5 });
        const [lease] = await store.queue.leaseRuns(node, { max: 1, leaseMs: 1000 });
        assert.equal(
          await store.queue.failAttempt(run.id, lease?.epoch ?? 0, node, {
            reason: 'error',
            message: 'bad template',
            retryable: false,
          }),
          'dead',
        );
        assert.equal((await store.runs.get(tenant.id, run.id)).state, 'dead');
      }));

    test('node down: its runs are requeued, its sandboxes lost, and it gets no new leases', () =>
      withStore(fx, async ({ store, clock }) => {
        const { tenant, nodeIds } = await setup(store, 2);
        const [down, up] = [nodeIds[0] ?? '', nodeIds[1] ?? ''];
        const r1 = (await store.runs.submit(tenant.id, runSpec({ command: ['1'] }))).run;
        const r2 = (await store.runs.submit(tenant.id, runSpec({ command: ['2'] }))).run;
        await store.queue.leaseRun(r1.id, down, 1000);
        await store.queue.confirmStart(r1.id, 1, down, 1000);
        await store.queue.leaseRun(r2.id, up, 1000);
        const sbx = await store.sandboxes.create(tenant.id, {
          runtime: 'container',
          template: 'busybox',
          nodeId: down,
        });
        await store.sandboxes.transition(sbx.id, 'running');
        const result = await store.queue.handleNodeDown(down);
        assert.deepEqual(result.runs, [
          { runId: r1.id, epoch: 1, outcome: 'requeued', reason: 'node_lost' },
        ]);
        assert.deepEqual(result.lostSandboxes, [sbx.id]);
        assert.equal((await store.nodes.get(down)).status, 'down');
        assert.equal((await store.runs.get(tenant.id, r2.id)).state, 'leased');
        assert.deepEqual(await store.queue.leaseRuns(down, { max: 5, leaseMs: 1000 }), []);
        assert.equal(await store.queue.leaseRun(r1.id, down, 1000), null);
        assert.equal((await store.queue.handleNodeDown(down)).runs.length, 0, 'idempotent');
        clock.advance(1000); // the default backoff of the failed attempt
        assert.equal(
          (await store.queue.leaseRuns(up, { max: 5, leaseMs: 1000 }))[0]?.run.id,
          r1.id,
        );
        await store.nodes.register({ id: down, name: 'n0', ...NODE });
        assert.equal(
          (await store.sandboxes.transition(sbx.id, 'running')).state,
          'running',
          'a lost sandbox may be adopted',
        );
      }));

    test('leaseRuns filters by runtime; leaseRun takes only a queued, eligible run', () =>
      withStore(fx, async ({ store }) => {
        const { tenant, node } = await setup(store);
        const vm = (await store.runs.submit(tenant.id, runSpec({ command: ['x'], runtime: 'microvm' }))).run;
        const any = (await store.runs.submit(tenant.id, runSpec({ command: ['y'] }))).run;
        const leased = await store.queue.leaseRuns(node, {
          max: 5,
          leaseMs: 1000,
          runtimes: ['container'],
        });
        assert.deepEqual(
          leased.map((l) => l.run.id),
          [any.id],
        );
        assert.equal(await store.queue.leaseRun(any.id, node, 1000), null);
        assert.equal((await store.queue.leaseRun(vm.id, node, 1000))?.run.id, vm.id);
      }));

    test('concurrent leasing from two store replicas never gives one run to two nodes', () =>
      withStore(fx, async ({ store, replica }) => {
        const { tenant, nodeIds } = await setup(store, 4);
        await store.tenants.update(tenant.id, { maxQueuedRuns: 100 });
        const runIds = new Set<string>();
        for (let i = 0; i < 40; i++)
          runIds.add((await store.runs.submit(tenant.id, runSpec({ command: ['n', String(i)] }))).run.id);
        const other = await replica();
        const calls = [];
        for (let i = 0; i < 16; i++) {
          const s = i % 2 === 0 ? store : other;
          calls.push(s.queue.leaseRuns(nodeIds[i % 4] ?? '', { max: 4, leaseMs: 60_000 }));
        }
        const leased = (await Promise.all(calls)).flat().map((l) => l.run.id);
        assert.equal(new Set(leased).size, leased.length, 'no run leased twice');
        assert.equal(leased.length, 40, 'every run leased once');
        for (const id of leased) assert.ok(runIds.has(id));
        const attempts = await Promise.all(leased.map((id) => store.runs.attempts(tenant.id, id)));
        assert.ok(attempts.every((a) => a.length === 1));
      }));
  });
}
