/** Tenants' snapshots of sandboxes in the store (the files stay on their node: `digest`). */
import { NotFoundError } from '@tartarus/core';
import type { Selectable } from 'kysely';
import { inTransaction, lockRows, type Db, type StoreContext } from './context.js';
import type { SnapshotsTable } from './schema.js';

/** A snapshot's record. */
export interface SnapshotRecord {
  id: string;
  tenantId: string;
  sandboxId: string;
  nodeId: string;
  template: string;
  image: string | null;
  runtime: string;
  digest: string;
  sizeBytes: number;
  /** Memory and processes kept too. */
  memory: boolean;
  createdAt: number;
}

/** The snapshots. */
export interface SnapshotStore {
  /** Records a snapshot under `s.id` (made by the caller before its files were kept). */
  create(s: Omit<SnapshotRecord, 'createdAt' | 'memory'> & { memory?: boolean }): Promise<SnapshotRecord>;
  /** The tenant's snapshot `id`; NotFoundError (also for another tenant's). */
  get(tenantId: string, id: string): Promise<SnapshotRecord>;
  /** The tenant's snapshots, newest first. */
  list(tenantId: string): Promise<SnapshotRecord[]>;
  /** Deletes the tenant's snapshot `id`, and clears it as any sandbox's `finalSnapshotId`; returns it. */
  delete(tenantId: string, id: string): Promise<SnapshotRecord>;
  /** Bytes of the tenant's snapshots. */
  bytes(tenantId: string): Promise<number>;
}

function toRecord(r: Selectable<SnapshotsTable>): SnapshotRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    sandboxId: r.sandbox_id,
    nodeId: r.node_id,
    template: r.template,
    image: r.image,
    runtime: r.runtime,
    digest: r.digest,
    sizeBytes: Number(r.size_bytes),
    memory: Number(r.memory) === 1,
    createdAt: Number(r.created_at),
  };
}

/** Builds the snapshot part of the store. */
export function createSnapshotStore(ctx: StoreContext): SnapshotStore {
  const { db } = ctx;
  const find = async (from: Db, tenantId: string, id: string, lock = false) => {
    const query = from.selectFrom('snapshots').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId);
    const row = await (lock ? lockRows(ctx, query) : query).executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`snapshot ${id} not found`, { context: { snapshotId: id } });
    return toRecord(row);
  };
  const get = (tenantId: string, id: string) => find(db, tenantId, id);
  return {
    async create(s) {
      const row = {
        id: s.id,
        tenant_id: s.tenantId,
        sandbox_id: s.sandboxId,
        node_id: s.nodeId,
        template: s.template,
        image: s.image,
        runtime: s.runtime,
        digest: s.digest,
        size_bytes: s.sizeBytes,
        created_at: ctx.now(),
        memory: s.memory === true ? 1 : 0,
      };
      await db.insertInto('snapshots').values(row).execute();
      return toRecord(row);
    },
    get,
    async list(tenantId) {
      const rows = await db.selectFrom('snapshots').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toRecord);
    },
    delete: (tenantId, id) =>
      inTransaction(ctx, async (trx) => {
        // Locked: of two deletes, the second finds nothing (404) rather than dropping the files twice.
        const snapshot = await find(trx, tenantId, id, true);
        await trx.deleteFrom('snapshots').where('id', '=', id).execute();
        // An ended sandbox's final snapshot goes with it: nothing could start from that id any more.
        await trx.updateTable('sandboxes').set({ final_snapshot_id: null }).where('final_snapshot_id', '=', id).where('tenant_id', '=', tenantId).execute();
        return snapshot;
      }),
    async bytes(tenantId) {
      const r = await db.selectFrom('snapshots').select((eb) => eb.fn.sum<number | string | null>('size_bytes').as('total')).where('tenant_id', '=', tenantId).executeTakeFirst();
      return Number(r?.total ?? 0);
    },
  };
}
