/** Conformance: tenants' network policies, the tenants' network settings, a sandbox's egress. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSandbox, ConflictError, InvalidArgumentError, NotFoundError } from '@tartarus/core';
import { withStore, type BackendFixture } from './harness.js';

/** Defines the network-policy tests for a backend. */
export function networkPoliciesSuite(fx: BackendFixture): void {
  describe('network policies', () => {
    test('create, get, list by name, delete; names are per tenant; duplicates conflict', () =>
      withStore(fx, async ({ store, clock }) => {
        const a = await store.tenants.create({ name: 'a' });
        const b = await store.tenants.create({ name: 'b' });
        const web = await store.networkPolicies.create(a.id, {
          name: 'web',
          egress: ['pypi.org:443', '10.0.0.0/8'],
          description: 'pip',
        });
        assert.deepEqual(web, {
          tenantId: a.id,
          name: 'web',
          egress: ['pypi.org:443', '10.0.0.0/8'],
          description: 'pip',
          createdAt: clock.now,
        });
        await store.networkPolicies.create(a.id, { name: 'all', egress: 'all' });
        await assert.rejects(
          store.networkPolicies.create(a.id, { name: 'web', egress: 'none' }),
          (e: unknown) => e instanceof ConflictError && /"web" exists/.test(e.message),
        );
        // Another tenant's namespace is its own.
        await store.networkPolicies.create(b.id, { name: 'web', egress: 'none' });
        assert.equal((await store.networkPolicies.get(b.id, 'web')).egress, 'none');
        assert.deepEqual(
          (await store.networkPolicies.list(a.id)).map((p) => [p.name, p.egress, p.description]),
          [
            ['all', 'all', ''],
            ['web', ['pypi.org:443', '10.0.0.0/8'], 'pip'],
          ],
        );
        assert.equal((await store.networkPolicies.delete(a.id, 'web')).name, 'web');
        await assert.rejects(store.networkPolicies.get(a.id, 'web'), NotFoundError);
        await assert.rejects(store.networkPolicies.delete(a.id, 'web'), NotFoundError);
        await assert.rejects(
          store.networkPolicies.create('ten_missing', { name: 'x', egress: 'all' }),
          NotFoundError,
        );
        // They go with their tenant.
        await store.tenants.delete(b.id);
        assert.deepEqual(await store.networkPolicies.list(b.id), []);
      }));

    test("a tenant's network settings: unset by default, set, cleared; a default beyond the maximum is refused", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        assert.deepEqual(
          [t.defaultSandboxEgress, t.defaultRunEgress, t.maxEgress],
          [null, null, null],
        );
        const set = await store.tenants.update(t.id, {
          maxEgress: ['10.0.0.0/8'],
          defaultSandboxEgress: ['10.1.0.0/16'],
          defaultRunEgress: 'none',
        });
        assert.deepEqual(
          [set.defaultSandboxEgress, set.defaultRunEgress, set.maxEgress],
          [['10.1.0.0/16'], 'none', ['10.0.0.0/8']],
        );
        // Lowering the maximum under the default is refused; both in one patch is fine.
        await assert.rejects(
          store.tenants.update(t.id, { maxEgress: ['10.2.0.0/16'] }),
          (e: unknown) =>
            e instanceof InvalidArgumentError && /defaultSandboxEgress/.test(e.message),
        );
        await store.tenants.update(t.id, {
          maxEgress: ['10.2.0.0/16'],
          defaultSandboxEgress: null,
        });
        await assert.rejects(
          store.tenants.create({ name: 'u', maxEgress: 'none', defaultRunEgress: 'all' }),
          InvalidArgumentError,
        );
        const cleared = await store.tenants.update(t.id, {
          maxEgress: null,
          defaultRunEgress: null,
        });
        assert.deepEqual(
          [cleared.defaultSandboxEgress, cleared.defaultRunEgress, cleared.maxEgress],
          [null, null, null],
        );
      }));

    test("a sandbox's egress is recorded in its spec; another tenant's is not found", () =>
      withStore(fx, async ({ store }) => {
        const t = await store.tenants.create({ name: 't' });
        const o = await store.tenants.create({ name: 'o' });
        const s = await store.sandboxes.create(t.id, {
          runtime: 'container',
          template: 'busybox',
          spec: compileSandbox({}, null),
        });
        assert.equal(s.spec.egress, 'all');
        const changed = await store.sandboxes.setEgress(t.id, s.id, ['10.0.0.1:80']);
        assert.deepEqual(changed.spec, { ...s.spec, egress: ['10.0.0.1:80'] });
        assert.deepEqual((await store.sandboxes.get(t.id, s.id)).spec.egress, ['10.0.0.1:80']);
        await assert.rejects(store.sandboxes.setEgress(o.id, s.id, 'none'), NotFoundError);
      }));
  });
}
