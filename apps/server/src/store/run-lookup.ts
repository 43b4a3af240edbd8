/** Tenant-scoped lookup of one run, shared by the run and log parts. */
import { NotFoundError } from '@tartarus/core';
import type { Db } from './context.js';
import { toRun } from './rows.js';
import type { Run } from './types.js';

/**
 * A run of the tenant, or NotFoundError (also for another tenant's run). Without a tenant (the
 * scheduler and agents' reports, which act for the platform): any run.
 */
export async function requireRun(db: Db, tenantId: string | null, runId: string): Promise<Run> {
  const row = await db
    .selectFrom('runs')
    .selectAll()
    .where('id', '=', runId)
    .$if(tenantId !== null, (q) => q.where('tenant_id', '=', tenantId ?? ''))
    .executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`run ${runId} not found`, { context: { runId } });
  return toRun(row);
}
