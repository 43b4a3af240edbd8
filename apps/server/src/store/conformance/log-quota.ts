/**
 * Conformance: the tenant log quota. A tenant's kept output is counted in `logBytes` (UTF-8
 * bytes) as it is appended; once an append would pass `maxLogBytes`, that chunk and the run's
 * later ones are dropped and flagged per stream (`logsDropped`, reason `tenant-quota`) — never an
 * error — while the run's result is still committed and other tenants keep all of theirs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '@tartarus/core';
import type { LogChunkInput, Store } from '../store.js';
import { NODE, startRun, withStore, type BackendFixture } from './harness.js';

/** Appends `chunks` to a fresh running run of the tenant; the run's id and epoch. */
async function runWith(store: Store, tenantId: string, nodeId: string, chunks: LogChunkInput[]) {
  const r = await startRun(store, tenantId, nodeId);
  assert.equal(await store.runs.appendLogs(r.id, r.epoch, nodeId, chunks), true);
  return r;
}

const out = (data: string): LogChunkInput => ({ stream: 'stdout', data });
const err = (data: string): LogChunkInput => ({ stream: 'stderr', data });

/** Defines the log-quota tests for a backend. */
export function logQuotaSuite(fx: BackendFixture): void {
  describe('log quota', () => {
    test('appends past maxLogBytes are dropped and flagged, the result still commits; another tenant is unaffected', () =>
      withStore(fx, async ({ store }) => {
        const small = await store.tenants.create({ name: 'small', maxLogBytes: 10 });
        const big = await store.tenants.create({ name: 'big' });
        assert.equal(big.maxLogBytes, 1024 ** 3);
        assert.equal(big.logBytes, 0);
        const n = await store.nodes.register({ name: 'n', ...NODE });

        // 8 bytes fit; 'abc' would make 11: it and everything after it (even 1 byte) are dropped.
        const a = await runWith(store, small.id, n.id, [out('12345'), out('678')]);
        assert.equal(
          await store.runs.appendLogs(a.id, a.epoch, n.id, [out('abc'), err('x')]),
          true,
        );
        assert.equal(await store.runs.appendLogs(a.id, a.epoch, n.id, [err('y')]), true);
        assert.equal(await store.queue.completeAttempt(a.id, a.epoch, n.id, { exitCode: 0 }), true);
        const done = await store.runs.get(small.id, a.id);
        assert.equal(done.state, 'succeeded');
        assert.deepEqual(done.logsDropped, { reason: 'tenant-quota', stdout: true, stderr: true });
        assert.deepEqual(
          (await store.runs.readLogs(small.id, a.id)).map((c) => c.data),
          ['12345', '678'],
        );
        assert.equal((await store.tenants.get(small.id)).logBytes, 8);

        // Another run of the same tenant gets what room is left (2 bytes), then nothing.
        const b = await runWith(store, small.id, n.id, [err('zz'), err('z')]);
        assert.deepEqual(
          (await store.runs.readLogs(small.id, b.id)).map((c) => c.data),
          ['zz'],
        );
        assert.deepEqual((await store.runs.get(small.id, b.id)).logsDropped, {
          reason: 'tenant-quota',
          stdout: false,
          stderr: true,
        });
        const c = await runWith(store, small.id, n.id, [out('q')]);
        assert.deepEqual(await store.runs.readLogs(small.id, c.id), []);
        assert.equal((await store.tenants.get(small.id)).logBytes, 10);

        // The other tenant keeps all of its output; bytes are UTF-8 bytes ('é' is 2).
        const d = await runWith(store, big.id, n.id, [out('é'.repeat(50)), err('fine')]);
        assert.equal((await store.runs.readLogs(big.id, d.id)).length, 2);
        assert.equal((await store.runs.get(big.id, d.id)).logsDropped, null);
        assert.equal((await store.tenants.get(big.id)).logBytes, 104);
      }));

    test('maxLogBytes: raised, a new run keeps its output again; 0 keeps none; a bad value is refused', () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't', maxLogBytes: 0 });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const none = await runWith(store, t.id, n.id, [out('x')]);
        assert.equal((await store.runs.get(t.id, none.id)).logsDropped?.reason, 'tenant-quota');
        assert.equal((await store.tenants.update(t.id, { maxLogBytes: 100 })).maxLogBytes, 100);
        const kept = await runWith(store, t.id, n.id, [out('hello')]);
        assert.equal((await store.runs.get(t.id, kept.id)).logsDropped, null);
        // The run that already dropped output keeps dropping: its log stays a prefix.
        assert.equal(await store.runs.appendLogs(none.id, none.epoch, n.id, [out('y')]), true);
        assert.deepEqual(await store.runs.readLogs(t.id, none.id), []);
        assert.equal((await store.tenants.get(t.id)).logBytes, 5);
        await assert.rejects(store.tenants.update(t.id, { maxLogBytes: -1 }), InvalidArgumentError);
        await assert.rejects(
          store.tenants.create({ name: 'u', maxLogBytes: 1.5 }),
          InvalidArgumentError,
        );
      }));
  });
}
