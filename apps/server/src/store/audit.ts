/** The audit log: append-only, listed newest first per tenant. */
import type { Db, StoreContext } from './context.js';
import { toAuditEntry } from './rows.js';
import type { AppendAuditOptions, AuditStore } from './store.js';
import type { AuditEntry } from './types.js';
import { newestFirstPage, newId } from './util.js';

/** Appends `entry` through `db` (a transaction of the change it records, or the store itself). */
export async function appendAudit(ctx: StoreContext, db: Db, entry: AppendAuditOptions): Promise<AuditEntry> {
  const row = {
    id: newId('aud'),
    tenant_id: entry.tenantId,
    key_id: entry.keyId ?? null,
    action: entry.action,
    target: entry.target ?? null,
    at: ctx.now(),
    details_json: JSON.stringify(entry.details ?? {}),
  };
  await db.insertInto('audit').values(row).execute();
  return toAuditEntry(row);
}

/** Builds the audit part of the store. */
export function createAuditStore(ctx: StoreContext): AuditStore {
  const { db } = ctx;
  return {
    append: (entry) => appendAudit(ctx, db, entry),

    list: (tenantId, options) =>
      newestFirstPage(
        db
          .selectFrom('audit')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .$if(options?.action !== undefined, (q) => q.where('action', '=', options?.action ?? '')),
        'at',
        options,
        toAuditEntry,
      ),
  };
}
