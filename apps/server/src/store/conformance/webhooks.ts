/**
 * Conformance: outbound webhooks. A subscription starts at the newest event and gets its tenant's
 * events of its types in bus order; an attempt's delivery id stays the same across retries;
 * backoff doubles; failing longer than the limit disables it with `webhook.disabled` and an audit
 * entry in one transaction; leases fence dispatchers; two replicas claiming at once deliver every
 * event exactly once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError, type EventType } from '@tartarus/core';
import type { Store } from '../store.js';
import type { RetryPolicy } from '../webhook-queue.js';
import type { AttemptResult } from '../webhooks.js';
import { runSpec, withStore, type BackendFixture, type FakeClock } from './harness.js';

const POLICY: RetryPolicy = { retryBaseMs: 1000, retryMaxMs: 4000, disableAfterMs: 60_000 };
const LEASE_MS = 30_000;

const ok = (at: number): AttemptResult => ({ at, ok: true, statusCode: 200, error: null, excerpt: 'ok', durationMs: 3 });
const fail = (at: number): AttemptResult => ({ at, ok: false, statusCode: 500, error: 'HTTP 500', excerpt: 'boom', durationMs: 4 });

async function webhook(store: Store, tenantId: string, types: EventType[] = ['run.queued', 'run.finished'], id = `whk_${Math.random().toString(36).slice(2)}`) {
  return store.webhooks.create({ id, tenantId, url: 'https://hooks.example.com/x', types, sealedSecret: 'v1.sealed' });
}

/** A run submitted and cancelled (run.queued, run.finished), numbered. */
async function runLife(store: Store, tenantId: string): Promise<string> {
  const { run } = await store.runs.submit(tenantId, runSpec({ command: ['true'] }));
  await store.runs.cancel(tenantId, run.id);
  await store.events.sequence();
  return run.id;
}

/** Claims and delivers (every attempt succeeding) until nothing is due; returns `webhook event-seq` per delivery. */
async function drain(store: Store, owner: string, sent: string[]): Promise<void> {
  for (;;) {
    const ids = await store.webhookQueue.claim(owner, LEASE_MS, 3);
    if (ids.length === 0) return;
    await Promise.all(
      ids.map(async (id) => {
        for (;;) {
          const due = await store.webhookQueue.head(id, owner, LEASE_MS);
          if (due === null || due === 'lost') return;
          sent.push(`${id} ${due.event.seq}`);
          assert.equal((await store.webhookQueue.record(id, owner, due.delivery.id, ok(0), POLICY)).outcome, 'succeeded');
        }
      }),
    );
  }
}

async function failUntilDisabled(store: Store, clock: FakeClock, id: string): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < 40; i++) {
    const [claimed] = await store.webhookQueue.claim('d1', LEASE_MS, 1);
    if (claimed === undefined) {
      clock.advance(POLICY.retryMaxMs);
      continue;
    }
    const due = await store.webhookQueue.head(id, 'd1', LEASE_MS);
    assert.ok(due !== null && due !== 'lost');
    const r = await store.webhookQueue.record(id, 'd1', due.delivery.id, fail(clock.now), POLICY);
    outcomes.push(r.outcome);
    await store.webhookQueue.release(id, 'd1');
    if (r.outcome === 'disabled') return outcomes;
  }
  return outcomes;
}

/** Defines the webhook tests for a backend. */
export function webhooksSuite(fx: BackendFixture): void {
  describe('webhooks', () => {
    test("a subscription gets its tenant's events of its types from its creation on, in bus order; tenants are apart", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        await runLife(store, t.id); // before the subscription: never delivered
        const w = await webhook(store, t.id, ['run.finished']);
        assert.equal(w.cursor, await store.events.lastSeq());
        await assert.rejects(store.webhooks.get(other.id, w.id), NotFoundError);
        const runs = [await runLife(store, t.id), await runLife(store, other.id), await runLife(store, t.id)];
        const sent: string[] = [];
        await drain(store, 'd1', sent);
        const finished = (await store.events.list({ after: 0, limit: 100, types: ['run.finished'], tenantId: t.id })).slice(1);
        assert.deepEqual(sent, finished.map((e) => `${w.id} ${e.seq}`));
        assert.deepEqual(finished.map((e) => e.objectId), [runs[0], runs[2]]);
        const log = await store.webhooks.deliveries(t.id, w.id);
        assert.deepEqual(log.items.map((d) => [d.state, d.attempts, d.eventType]), [['succeeded', 1, 'run.finished'], ['succeeded', 1, 'run.finished']]);
        // Caught up: the cursor is at the end of the bus, nothing is due.
        assert.equal((await store.webhooks.get(t.id, w.id)).cursor, await store.events.lastSeq());
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 10), []);
        await store.webhooks.delete(t.id, w.id);
        await assert.rejects(store.webhooks.deliveries(t.id, w.id), NotFoundError);
      }));

    test('a failing head keeps its delivery id, backs off, blocks later events, and is given up after disableAfterMs', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const w = await webhook(store, t.id);
        await runLife(store, t.id);
        const [id] = await store.webhookQueue.claim('d1', LEASE_MS, 5);
        assert.equal(id, w.id);
        const first = await store.webhookQueue.head(w.id, 'd1', LEASE_MS);
        assert.ok(first !== null && first !== 'lost');
        assert.equal(first.event.type, 'run.queued');
        const r1 = await store.webhookQueue.record(w.id, 'd1', first.delivery.id, fail(clock.now), POLICY);
        assert.deepEqual(r1, { outcome: 'retrying', nextAttemptAt: clock.now + 1000 });
        // Not due yet: nothing to do, and the lease is given back.
        assert.equal(await store.webhookQueue.head(w.id, 'd1', LEASE_MS), null);
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 5), []);
        assert.equal(await store.webhookQueue.nextDueAt(), clock.now + 1000);
        clock.advance(1000);
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 5), [w.id]);
        const again = await store.webhookQueue.head(w.id, 'd1', LEASE_MS);
        assert.ok(again !== null && again !== 'lost');
        assert.equal(again.delivery.id, first.delivery.id, 'the same delivery, attempted again');
        assert.equal(again.delivery.attempts, 1);
        const r2 = await store.webhookQueue.record(w.id, 'd1', again.delivery.id, fail(clock.now), POLICY);
        assert.deepEqual(r2, { outcome: 'retrying', nextAttemptAt: clock.now + 2000 }, 'the wait doubles');
        const failing = await store.webhooks.get(t.id, w.id);
        assert.equal(failing.failingSince, clock.now - 1000);

        const outcomes = await failUntilDisabled(store, clock, w.id);
        assert.equal(outcomes.at(-1), 'disabled');
        const off = await store.webhooks.get(t.id, w.id);
        assert.equal(off.enabled, false);
        assert.match(off.disabledReason ?? '', /^failing: .*HTTP 500/);
        const [head] = (await store.webhooks.deliveries(t.id, w.id)).items;
        assert.equal(head?.state, 'failed');
        assert.equal(head?.id, first.delivery.id);
        await store.events.sequence();
        const told = await store.events.list({ after: 0, limit: 10, types: ['webhook.disabled'] });
        assert.deepEqual(told.map((e) => [e.tenantId, e.objectId, e.data['reason']]), [[t.id, w.id, off.disabledReason]]);
        const audit = await store.audit.list(t.id, { action: 'webhook.disable' });
        assert.equal(audit.items[0]?.target, w.id);
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 5), [], 'a disabled webhook is never due');

        // Enabled again: it resumes with the blocked event, as a new delivery, and then the next.
        await store.webhooks.update(t.id, w.id, { enabled: true });
        const sent: string[] = [];
        await drain(store, 'd1', sent);
        assert.deepEqual(sent.map((s) => Number(s.split(' ')[1])), [first.event.seq, first.event.seq + 1]);
      }));

    test('a lease fences dispatchers: another cannot deliver meanwhile, and a late record after expiry is lost', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const w = await webhook(store, t.id);
        await runLife(store, t.id);
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 5), [w.id]);
        const due = await store.webhookQueue.head(w.id, 'd1', LEASE_MS);
        assert.ok(due !== null && due !== 'lost');
        assert.deepEqual(await store.webhookQueue.claim('d2', LEASE_MS, 5), []);
        assert.equal(await store.webhookQueue.head(w.id, 'd2', LEASE_MS), 'lost');
        // d1 dies mid-attempt; once its lease expired, d2 takes over the same delivery.
        clock.advance(LEASE_MS + 1);
        assert.deepEqual(await store.webhookQueue.claim('d2', LEASE_MS, 5), [w.id]);
        const taken = await store.webhookQueue.head(w.id, 'd2', LEASE_MS);
        assert.ok(taken !== null && taken !== 'lost');
        assert.equal(taken.delivery.id, due.delivery.id);
        assert.deepEqual(await store.webhookQueue.record(w.id, 'd1', due.delivery.id, ok(clock.now), POLICY), { outcome: 'lost' });
        assert.equal((await store.webhookQueue.record(w.id, 'd2', taken.delivery.id, ok(clock.now), POLICY)).outcome, 'succeeded');
        // Disabling while a dispatcher holds the head: its result no longer counts.
        const next = await store.webhookQueue.head(w.id, 'd2', LEASE_MS);
        assert.ok(next !== null && next !== 'lost');
        await store.webhooks.update(t.id, w.id, { enabled: false });
        assert.deepEqual(await store.webhookQueue.record(w.id, 'd2', next.delivery.id, ok(clock.now), POLICY), { outcome: 'lost' });
        const [d] = (await store.webhooks.deliveries(t.id, w.id, { state: 'failed' })).items;
        assert.equal(d?.lastError, 'the webhook was disabled');
      }));

    test('two replicas claiming at once deliver every event to every subscription exactly once, in order', () =>
      withStore(fx, async ({ store, replica }) => {
        const other = await replica();
        const t = await store.tenants.create({ name: 't' });
        const hooks = await Promise.all(Array.from({ length: 6 }, () => webhook(store, t.id)));
        for (let i = 0; i < 5; i++) await runLife(i % 2 === 0 ? store : other, t.id);
        const a = await store.webhookQueue.claim('a', LEASE_MS, 3);
        const b = await other.webhookQueue.claim('b', LEASE_MS, 6);
        assert.equal(a.length + b.length, 6);
        assert.deepEqual(a.filter((id) => b.includes(id)), [], 'no subscription claimed twice');
        for (const id of a) await store.webhookQueue.release(id, 'a');
        for (const id of b) await other.webhookQueue.release(id, 'b');

        const sent: string[] = [];
        await Promise.all([drain(store, 'a', sent), drain(other, 'b', sent), drain(store, 'c', sent)]);
        const events = await store.events.list({ after: 0, limit: 100, tenantId: t.id });
        for (const w of hooks) {
          const mine = sent.filter((s) => s.startsWith(`${w.id} `)).map((s) => Number(s.split(' ')[1]));
          assert.deepEqual(mine, events.map((e) => e.seq), `${w.id}: each event once, in bus order`);
        }
      }));

    test('manual deliveries are logged apart; finished deliveries expire', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const w = await webhook(store, t.id);
        const d = await store.webhooks.createManualDelivery(t.id, w.id, { kind: 'ping', eventSeq: null, eventType: 'ping', objectId: null, redeliveryOf: null });
        assert.equal(d.state, 'pending');
        const done = await store.webhooks.recordManualAttempt(d.id, fail(clock.now));
        assert.deepEqual([done.state, done.attempts, done.lastStatus, done.responseExcerpt], ['failed', 1, 500, 'boom']);
        assert.equal((await store.webhooks.getDelivery(t.id, w.id, d.id)).kind, 'ping');
        assert.deepEqual(await store.webhookQueue.claim('d1', LEASE_MS, 5), [], 'a ping moves nothing');
        clock.advance(10);
        assert.equal(await store.webhooks.expireDeliveries(clock.now, 100), 1);
        await assert.rejects(store.webhooks.getDelivery(t.id, w.id, d.id), NotFoundError);
      }));
  });
}
