/**
 * Conformance: snapshots in the store. A tenant's own snapshot quota (`maxSnapshotBytes`: null
 * means the server's) is set, shown and cleared like its other quotas; a deleted snapshot is
 * cleared as the `finalSnapshotId` of the sandbox that named it, in the delete's transaction, and
 * migration 0023 clears the ids left by deletes before it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import { sql, type Kysely } from 'kysely';
import { openPostgres, openSqlite } from '../connect.js';
import { openStore } from '../open.js';
import type { Database } from '../schema.js';
import type { Store, StoreOptions } from '../store.js';
import { NODE, withStore, type BackendFixture } from './harness.js';

/** An ended sandbox of the tenant whose termination kept snapshot `snapshotId` (recorded first). */
async function endedWithSnapshot(store: Store, tenantId: string, nodeId: string, snapshotId: string) {
  const s = await store.sandboxes.create(tenantId, { runtime: 'container', template: 'busybox' });
  await store.sandboxes.assignNode(s.id, nodeId);
  await store.sandboxes.transitionOnNode(nodeId, s.id, 'running');
  await store.snapshots.create({ id: snapshotId, tenantId, sandboxId: s.id, nodeId, template: 'busybox', image: null, runtime: 'container', digest: `sha256:${snapshotId}`, sizeBytes: 100 });
  await store.sandboxes.setFinalSnapshot(s.id, snapshotId);
  await store.sandboxes.transition(s.id, 'killed', { exitCode: null, reason: 'killed', message: 'terminated by request' });
  return s.id;
}

/**
 * Closes `store`, takes its database back to before migration 0022 (what 0022 and later added
 * undone), lets `before` change it as an older server would have, then opens it again (migrating
 * it to the latest) for `check`.
 */
async function remigrateFrom0022(store: Store, options: StoreOptions, before: (db: Kysely<Database>) => Promise<void>, check: (again: Store) => Promise<void>): Promise<void> {
  await store.close();
  const db = options.backend === 'sqlite' ? openSqlite(options.path) : openPostgres(options.connectionString, 2);
  try {
    await db.schema.dropIndex('sandboxes_final_snapshot').execute();
    await db.schema.alterTable('tenants').dropColumn('max_snapshot_bytes').execute();
    await sql`delete from kysely_migration where name >= '0022'`.execute(db);
    await before(db);
  } finally {
    await db.destroy();
  }
  const again = await openStore(options);
  try {
    await check(again);
  } finally {
    await again.close();
  }
}

/** Defines the snapshot tests for a backend. */
export function snapshotsSuite(fx: BackendFixture): void {
  describe('snapshots', () => {
    test("a tenant's maxSnapshotBytes: null (the server's) unless set; set, cleared, and refused unless a positive whole number", () =>
      withStore(fx, async ({ store }) => {
        const plain = await store.tenants.create({ name: 'plain' });
        assert.equal(plain.maxSnapshotBytes, null);
        const own = await store.tenants.create({ name: 'own', maxSnapshotBytes: 5 * 1024 ** 4 });
        assert.equal(own.maxSnapshotBytes, 5 * 1024 ** 4, 'past 32 bits, kept exactly');
        assert.equal((await store.tenants.get(own.id)).maxSnapshotBytes, 5 * 1024 ** 4);
        assert.equal((await store.tenants.update(plain.id, { maxSnapshotBytes: 1 })).maxSnapshotBytes, 1);
        assert.equal((await store.tenants.update(plain.id, { maxLogBytes: 7 })).maxSnapshotBytes, 1, 'a patch without it keeps it');
        assert.equal((await store.tenants.update(plain.id, { maxSnapshotBytes: null })).maxSnapshotBytes, null);
        for (const bad of [0, -1, 1.5, Number.NaN]) {
          await assert.rejects(store.tenants.update(own.id, { maxSnapshotBytes: bad }), InvalidArgumentError, String(bad));
          await assert.rejects(store.tenants.create({ name: `bad-${bad}`, maxSnapshotBytes: bad }), /maxSnapshotBytes must be a positive whole number of bytes/);
        }
        assert.equal((await store.tenants.get(own.id)).maxSnapshotBytes, 5 * 1024 ** 4, 'a refused patch changes nothing');
      }));

    test("deleting a snapshot clears the finalSnapshotId naming it, and only that one; a final snapshot recorded after its delete is not kept", () =>
      withStore(fx, async ({ store, replica }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const a = await endedWithSnapshot(store, t.id, n.id, 'snp_a');
        const b = await endedWithSnapshot(store, t.id, n.id, 'snp_b');
        assert.equal((await store.sandboxes.get(t.id, a)).finalSnapshotId, 'snp_a');

        assert.equal((await store.snapshots.delete(t.id, 'snp_a')).id, 'snp_a');
        assert.equal((await store.sandboxes.get(t.id, a)).finalSnapshotId, null);
        assert.equal((await store.sandboxes.get(t.id, b)).finalSnapshotId, 'snp_b', "another sandbox's is kept");
        await assert.rejects(store.snapshots.delete(t.id, 'snp_a'), NotFoundError);

        // Two replicas deleting the same snapshot: one deletes it, the other finds it gone.
        const other = await replica();
        const both = await Promise.allSettled([store.snapshots.delete(t.id, 'snp_b'), other.snapshots.delete(t.id, 'snp_b')]);
        assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        assert.ok(both.some((r) => r.status === 'rejected' && r.reason instanceof NotFoundError));
        assert.equal((await store.sandboxes.get(t.id, b)).finalSnapshotId, null);

        // A termination that records its snapshot once it was deleted records nothing.
        const s = await store.sandboxes.create(t.id, { runtime: 'container', template: 'busybox' });
        await store.sandboxes.setFinalSnapshot(s.id, 'snp_a');
        assert.equal((await store.sandboxes.get(t.id, s.id)).finalSnapshotId, null);
      }));

    test("migration 0022: a tenant from before it has no quota of its own (the server's)", () =>
      withStore(fx, async ({ store, target }) => {
        const t = await store.tenants.create({ name: 't', maxSnapshotBytes: 10 });
        await remigrateFrom0022(store, target.options, async () => {}, async (again) => {
          assert.equal((await again.tenants.get(t.id)).maxSnapshotBytes, null);
          assert.equal((await again.tenants.update(t.id, { maxSnapshotBytes: 10 })).maxSnapshotBytes, 10);
        });
      }));

    test('migration 0023 clears the finalSnapshotId of snapshots deleted before it', () =>
      withStore(fx, async ({ store, target }) => {
        const t = await store.tenants.create({ name: 't' });
        const n = await store.nodes.register({ name: 'n', ...NODE });
        const gone = await endedWithSnapshot(store, t.id, n.id, 'snp_gone');
        const kept = await endedWithSnapshot(store, t.id, n.id, 'snp_kept');
        // Deleted as before the fix: the row only, the sandbox still naming it.
        const deleteOnly = async (db: Kysely<Database>) => {
          await db.deleteFrom('snapshots').where('id', '=', 'snp_gone').execute();
        };
        await remigrateFrom0022(store, target.options, deleteOnly, async (again) => {
          assert.equal((await again.sandboxes.get(t.id, gone)).finalSnapshotId, null);
          assert.equal((await again.sandboxes.get(t.id, kept)).finalSnapshotId, 'snp_kept');
        });
      }));
  });
}
