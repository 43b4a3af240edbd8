/** Conformance: migrations, tenants, API keys, audit, nodes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError, NotFoundError } from '@tartarus/core';
import { openStore } from '../open.js';
import type { Store } from '../store.js';
import { NODE, withStore, type BackendFixture, runSpec } from './harness.js';

/** Defines the identity tests for a backend. */
export function identitySuite(fx: BackendFixture): void {
  describe('migrations and identity', () => {
    test('migrations apply, and re-open on migrated data is a no-op', () =>
      withStore(fx, async ({ store, replica }) => {
        const t = await store.tenants.create({ name: 'acme' });
        const again = await replica();
        assert.equal((await again.tenants.get(t.id)).name, 'acme');
        assert.equal(again.backend, fx.name);
      }));

    test('two replicas migrating one fresh database at once both come up', async () => {
      const target = await fx.target();
      const stores: Store[] = [];
      try {
        const opened = await Promise.allSettled([
          openStore(target.options),
          openStore(target.options),
        ]);
        for (const o of opened) if (o.status === 'fulfilled') stores.push(o.value);
        assert.deepEqual(
          opened.map((o) => o.status),
          ['fulfilled', 'fulfilled'],
        );
        const t = await stores[0]?.tenants.create({ name: 'x' });
        assert.equal((await stores[1]?.tenants.get(t?.id ?? ''))?.name, 'x');
      } finally {
        for (const s of stores) await s.close();
        await target.cleanup();
      }
    });

    test('tenants: create, get, update, list, duplicate name conflicts', () =>
      withStore(fx, async ({ store }) => {
        const a = await store.tenants.create({ name: 'a', maxQueuedRuns: 5 });
        await store.tenants.create({ name: 'b' });
        await assert.rejects(store.tenants.create({ name: 'a' }), ConflictError);
        assert.equal(
          (await store.tenants.update(a.id, { maxConcurrentSandboxes: 3 })).maxConcurrentSandboxes,
          3,
        );
        assert.equal((await store.tenants.get(a.id)).maxQueuedRuns, 5);
        const page = await store.tenants.list({ limit: 1 });
        assert.equal(page.items.length, 1);
        const rest = await store.tenants.list({ limit: 1, cursor: page.nextCursor ?? '' });
        assert.deepEqual([...page.items, ...rest.items].map((x) => x.name).sort(), ['a', 'b']);
        await assert.rejects(store.tenants.get('ten_missing'), NotFoundError);
      }));

    test('tenants: delete refuses while work is active, then cascades', () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 'gone' });
        const { run } = await store.runs.submit(t.id, runSpec({ command: ['true'] }));
        await store.apiKeys.create(t.id, { name: 'k', role: 'member' });
        await assert.rejects(store.tenants.delete(t.id), ConflictError);
        await store.runs.cancel(t.id, run.id);
        await store.tenants.delete(t.id);
        await assert.rejects(store.tenants.get(t.id), NotFoundError);
        await assert.rejects(store.runs.get(t.id, run.id), NotFoundError);
      }));

    test('API keys: secret shown once, verified by hash, revoked, scoped to the tenant', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        const { key, secret } = await store.apiKeys.create(t.id, { name: 'ci', role: 'admin' });
        assert.ok(secret.startsWith(key.prefix) && key.prefix.length < secret.length);
        assert.equal(JSON.stringify(key).includes(secret), false);
        clock.advance(1000);
        const verified = await store.apiKeys.verify(secret);
        assert.equal(verified?.id, key.id);
        assert.equal(verified?.role, 'admin');
        assert.equal(verified?.lastUsedAt, clock.now);
        assert.equal(await store.apiKeys.verify(`${secret}x`), null);
        await assert.rejects(store.apiKeys.revoke(other.id, key.id), NotFoundError);
        assert.equal((await store.apiKeys.list(other.id)).items.length, 0);
        const revoked = await store.apiKeys.revoke(t.id, key.id);
        assert.equal(revoked.revokedAt, clock.now);
        assert.equal(await store.apiKeys.verify(secret), null);
        const boot = await store.apiKeys.create(t.id, {
          name: 'boot',
          role: 'viewer',
          secret: 'bootstrap-secret-0123456789',
        });
        assert.equal((await store.apiKeys.verify('bootstrap-secret-0123456789'))?.id, boot.key.id);
      }));

    test('audit: append and list newest first, filtered and paged', () =>
      withStore(fx, async ({ store, clock }) => {
        const t = await store.tenants.create({ name: 't' });
        const other = await store.tenants.create({ name: 'o' });
        for (const action of ['run.submit', 'key.create', 'run.submit']) {
          clock.advance(10);
          await store.audit.append({ tenantId: t.id, action, target: 'x', details: { n: 1 } });
        }
        await store.audit.append({ tenantId: other.id, action: 'run.submit' });
        const all = await store.audit.list(t.id, { limit: 2 });
        assert.equal(all.items.length, 2);
        assert.ok((all.items[0]?.at ?? 0) > (all.items[1]?.at ?? 0));
        const rest = await store.audit.list(t.id, { limit: 2, cursor: all.nextCursor ?? '' });
        assert.equal(rest.items.length, 1);
        assert.equal(rest.nextCursor, null);
        assert.deepEqual(rest.items[0]?.details, { n: 1 });
        assert.equal((await store.audit.list(t.id, { action: 'run.submit' })).items.length, 2);
      }));

    test('nodes: register upserts by name, heartbeats, goes stale', () =>
      withStore(fx, async ({ store, clock }) => {
        const n = await store.nodes.register({ name: 'n1', ...NODE, labels: { zone: 'a' } });
        const again = await store.nodes.register({
          name: 'n1',
          ...NODE,
          capacity: { cpu: 4, memoryMiB: 1, slots: 1 },
        });
        assert.equal(again.id, n.id);
        assert.equal(again.capacity.cpu, 4);
        assert.deepEqual(again.labels, {});
        assert.equal(await store.nodes.heartbeat('node_missing'), false);
        clock.advance(30_000);
        assert.equal(
          await store.nodes.heartbeat(n.id, { cpu: 0.5, memoryMiB: 128, slots: 1 }),
          true,
        );
        assert.deepEqual((await store.nodes.get(n.id)).used, {
          cpu: 0.5,
          memoryMiB: 128,
          slots: 1,
        });
        assert.equal((await store.nodes.listStale(10_000)).length, 0);
        clock.advance(11_000);
        assert.deepEqual(
          (await store.nodes.listStale(10_000)).map((x) => x.id),
          [n.id],
        );
        assert.equal((await store.nodes.list({ status: 'up' })).length, 1);
      }));
  });
}
