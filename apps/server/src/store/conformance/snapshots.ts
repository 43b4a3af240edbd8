/**
 * Conformance: snapshots in the store. A tenant's own snapshot quota (`maxSnapshotBytes`: null
 * means the server's) is set, shown and cleared like its other quotas.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '@tartarus/core';
import { sql, type Kysely } from 'kysely';
import { openPostgres, openSqlite } from '../connect.js';
import { openStore } from '../open.js';
import type { Database } from '../schema.js';
import type { Store, StoreOptions } from '../store.js';
import { withStore, type BackendFixture } from './harness.js';

/**
 * Closes `store`, takes its database back to before migration 0022 (what 0022 and later added
 * undone), lets `before` change it as an older server would have, then opens it again (migrating
 * it to the latest) for `check`.
 */
async function remigrateFrom0022(store: Store, options: StoreOptions, before: (db: Kysely<Database>) => Promise<void>, check: (again: Store) => Promise<void>): Promise<void> {
  await store.close();
  const db = options.backend === 'sqlite' ? openSqlite(options.path) : openPostgres(options.connectionString, 2);
  try {
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

    test("migration 0022: a tenant from before it has no quota of its own (the server's)", () =>
      withStore(fx, async ({ store, target }) => {
        const t = await store.tenants.create({ name: 't', maxSnapshotBytes: 10 });
        await remigrateFrom0022(store, target.options, async () => {}, async (again) => {
          assert.equal((await again.tenants.get(t.id)).maxSnapshotBytes, null);
          assert.equal((await again.tenants.update(t.id, { maxSnapshotBytes: 10 })).maxSnapshotBytes, 10);
        });
      }));

  });
}
