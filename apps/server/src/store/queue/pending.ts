/**
 * The pending work the scheduler plans over: queued runs that are eligible now and sandboxes
 * waiting for a node, each tenant's backlog cut to its first `perTenant` items in queue order
 * (priority, then age). One query per kind: a window function ranks each tenant's backlog, so a
 * tenant with 100,000 queued runs costs the same read as one with ten.
 */
import type { StoreContext } from '../context.js';
import { parseSpec } from '../rows.js';
import type { PendingItem } from '../store.js';

/** A table's rows with each tenant's rank in queue order (priority, then age) as `rn`. */
function ranked(ctx: StoreContext, table: 'runs' | 'sandboxes') {
  return ctx.db
    .selectFrom(table)
    .select(['id', 'tenant_id', 'created_at', 'spec_json'])
    .select((eb) =>
      eb.fn
        .agg<number>('row_number')
        .over((ob) => ob.partitionBy('tenant_id').orderBy('priority').orderBy('created_at'))
        .as('rn'),
    );
}

/** Pending work, at most `perTenant` items per tenant and kind. */
export async function listPending(ctx: StoreContext, perTenant: number): Promise<PendingItem[]> {
  const { db } = ctx;
  const runs = ranked(ctx, 'runs')
    .where('state', '=', 'queued')
    .where('next_eligible_at', '<=', ctx.now());
  const sandboxes = ranked(ctx, 'sandboxes')
    .where('state', '=', 'requested')
    .where('node_id', 'is', null);
  const [r, s] = await Promise.all([
    db.selectFrom(runs.as('q')).selectAll().where('rn', '<=', perTenant).execute(),
    db.selectFrom(sandboxes.as('q')).selectAll().where('rn', '<=', perTenant).execute(),
  ]);
  const item = (kind: PendingItem['kind']) => (row: (typeof r)[number]) => ({
    kind,
    id: row.id,
    tenantId: row.tenant_id,
    createdAt: Number(row.created_at),
    spec: parseSpec(row.spec_json),
  });
  return [...r.map(item('run')), ...s.map(item('sandbox'))];
}
