/**
 * Conformance: the log search. Runs' chunks and sandboxes' lifecycle lines of a tenant are found
 * by text (case-insensitive; `%`, `_` and `\` literal), by run, by sandbox and by time window, in
 * one order (time, runs before sandboxes at the same time, then id and seq), newest or oldest
 * first; pages by cursor give every line once whatever the page size; another tenant's lines and
 * expired logs are never found; a bad cursor is an InvalidArgumentError.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSandbox, InvalidArgumentError } from '@tartarus/core';
import type { FoundLogLine, LogSearchFilter } from '../log-search.js';
import type { Store } from '../store.js';
import { NODE, startRun, withStore, type BackendFixture } from './harness.js';

const T0 = 1_800_000_000_000;

/** Every line of a search, following cursors, pages of `limit`. */
async function all(store: Store, f: Partial<LogSearchFilter> & { tenantId: string | undefined }, limit = 500): Promise<FoundLogLine[]> {
  const out: FoundLogLine[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.logs.search({ fromMs: 0, toMs: 8.64e15, order: 'oldest', limit, ...f, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return out;
}

const show = (ls: FoundLogLine[]): string[] => ls.map((l) => `${l.at - T0} ${l.source} ${l.data}`);

/**
 * Tenant A: run 1 writes at +0 (stdout "Hello World"), +10 ("100% done_ok"), +20 (stderr "back\\slash");
 * run 2 at +10 ("hello again"); a sandbox created at +10, started at +15, killed at +30.
 * Tenant B: one run at +10 ("hello from b").
 */
async function seed(store: Store, clock: { now: number }) {
  const a = await store.tenants.create({ name: 'a' });
  const b = await store.tenants.create({ name: 'b' });
  const n = await store.nodes.register({ name: 'n', ...NODE });
  const r1 = await startRun(store, a.id, n.id);
  const r2 = await startRun(store, a.id, n.id);
  const rb = await startRun(store, b.id, n.id);
  const chunk = (stream: 'stdout' | 'stderr', data: string, dt: number) => ({ stream, data, at: T0 + dt });
  await store.runs.appendLogs(r1.id, r1.epoch, n.id, [chunk('stdout', 'Hello World\n', 0), chunk('stdout', '100% done_ok\n', 10), chunk('stderr', 'back\\slash\n', 20)]);
  await store.runs.appendLogs(r2.id, r2.epoch, n.id, [chunk('stdout', 'hello again\n', 10)]);
  await store.runs.appendLogs(rb.id, rb.epoch, n.id, [chunk('stdout', 'hello from b\n', 10)]);
  clock.now = T0 + 10;
  const s = await store.sandboxes.create(a.id, { runtime: 'container', template: 'busybox', spec: compileSandbox({}, null), nodeId: n.id });
  clock.now = T0 + 15;
  await store.sandboxes.transitionOnNode(n.id, s.id, 'running', undefined);
  clock.now = T0 + 30;
  await store.sandboxes.transitionOnNode(n.id, s.id, 'killed', { exitCode: null, reason: 'timeout', message: 'the sandbox reached its timeout' });
  await store.events.sequence();
  return { a, b, n, r1, r2, rb, s };
}

/** Defines the log search tests for a backend. */
export function logSearchSuite(fx: BackendFixture): void {
  describe('log search', () => {
    test("a tenant's run chunks and sandbox lines in one order, either way; another tenant's never", () =>
      withStore(fx, async ({ store, clock }) => {
        const { a, b, s, r1, r2 } = await seed(store, clock);
        const lines = await all(store, { tenantId: a.id });
        const [first, second] = [r1.id, r2.id].sort();
        const dataOf = (id: string | undefined) => (id === r1.id ? '100% done_ok\n' : 'hello again\n');
        assert.deepEqual(show(lines), [
          '0 run Hello World\n',
          `10 run ${dataOf(first)}`,
          `10 run ${dataOf(second)}`,
          '10 sandbox sandbox.created {"state":"requested","template":"busybox","runtime":"container"}',
          `15 sandbox sandbox.started {"state":"running","nodeId":"${s.nodeId}"}`,
          '20 run back\\slash\n',
          '30 sandbox sandbox.ended {"state":"killed","exitCode":null,"reason":"timeout","message":"the sandbox reached its timeout"}',
        ]);
        assert.deepEqual(lines[0], { at: T0, source: 'run', objectId: r1.id, seq: 1, tenantId: a.id, attempt: 1, stream: 'stdout', data: 'Hello World\n' });
        assert.equal(lines[3]?.stream, 'lifecycle');
        const newest = await all(store, { tenantId: a.id, order: 'newest' });
        assert.deepEqual(show(newest), show(lines).reverse());
        // Every page size gives every line once, both ways.
        for (const limit of [1, 2, 3]) {
          assert.deepEqual(show(await all(store, { tenantId: a.id }, limit)), show(lines), `oldest, pages of ${limit}`);
          assert.deepEqual(show(await all(store, { tenantId: a.id, order: 'newest' }, limit)), show(newest), `newest, pages of ${limit}`);
        }
        assert.deepEqual(show(await all(store, { tenantId: b.id })), ['10 run hello from b\n']);
        assert.equal((await all(store, { tenantId: undefined })).length, lines.length + 1, 'every tenant');
      }));

    test('by text (any case, wildcards literal), by run, by sandbox, by window', () =>
      withStore(fx, async ({ store, clock }) => {
        const { a, s, r1 } = await seed(store, clock);
        const find = async (f: Partial<LogSearchFilter>) => show(await all(store, { tenantId: a.id, ...f }));
        assert.deepEqual(await find({ text: 'HELLO' }), ['0 run Hello World\n', '10 run hello again\n']);
        assert.deepEqual(await find({ text: '0% d' }), ['10 run 100% done_ok\n']);
        assert.deepEqual(await find({ text: '%' }), ['10 run 100% done_ok\n'], '% is a character');
        assert.deepEqual(await find({ text: 'e_o' }), ['10 run 100% done_ok\n'], '_ is a character');
        assert.deepEqual(await find({ text: 'k\\s' }), ['20 run back\\slash\n'], '\\ is a character');
        assert.deepEqual(await find({ text: 'reason":"timeout' }), ['30 sandbox sandbox.ended {"state":"killed","exitCode":null,"reason":"timeout","message":"the sandbox reached its timeout"}']);
        assert.deepEqual(await find({ text: 'nothing like it' }), []);
        assert.deepEqual(await find({ runId: r1.id }), ['0 run Hello World\n', '10 run 100% done_ok\n', '20 run back\\slash\n']);
        assert.deepEqual((await find({ sandboxId: s.id })).map((l) => l.split(' ')[2]), ['sandbox.created', 'sandbox.started', 'sandbox.ended']);
        assert.deepEqual(await find({ fromMs: T0 + 10, toMs: T0 + 20, text: 'hello' }), ['10 run hello again\n']);
        assert.deepEqual((await find({ fromMs: T0 + 15, toMs: T0 + 30 })).length, 2, 'from included, to excluded');
        await assert.rejects(store.logs.search({ tenantId: a.id, fromMs: 0, toMs: T0 * 2, order: 'newest', limit: 5, cursor: 'nope' }), InvalidArgumentError);
        await assert.rejects(store.logs.search({ tenantId: a.id, runId: r1.id, sandboxId: s.id, fromMs: 0, toMs: T0 * 2, order: 'newest', limit: 5 }), InvalidArgumentError);
      }));

    test('what each replica numbered is told to it once: together every event, none twice (sandbox lines ship this way)', () =>
      withStore(fx, async ({ store, replica }) => {
        const other = await replica();
        const told: number[] = [];
        const listen = (s: Store) => s.events.onSequenced((first, last) => {
          for (let seq = first; seq <= last; seq++) told.push(seq);
        });
        const stop = [listen(store), listen(other)];
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const s = i % 2 === 0 ? store : other;
            await s.sandboxes.create(t.id, { runtime: 'container', template: 'busybox', spec: compileSandbox({}, null), nodeId: n.id });
            await Promise.all([store.events.sequence(2), other.events.sequence(3)]);
          }),
        );
        while ((await store.events.sequence()) + (await other.events.sequence()) > 0);
        for (const s of stop) s();
        const last = await store.events.lastSeq();
        assert.deepEqual([...told].sort((x, y) => x - y), Array.from({ length: last }, (_, i) => i + 1));
      }));

    test('expired logs are not found, even while their chunks are still being deleted', () =>
      withStore(fx, async ({ store, clock }) => {
        const { a, r1, n } = await seed(store, clock);
        assert.equal(await store.queue.completeAttempt(r1.id, r1.epoch, n.id, { exitCode: 0 }), true);
        clock.now += 10 * 86_400_000;
        // Marks the run's logs expired and deletes no chunk yet (batch of 0 would be refused: 1 chunk at most).
        await store.retention.expireRunLogs(86_400_000, 1);
        const left = await all(store, { tenantId: a.id, runId: r1.id });
        assert.deepEqual(left, []);
        assert.equal((await all(store, { tenantId: a.id, text: 'hello' })).length, 1, "the other run's line stays");
      }));
  });
}
