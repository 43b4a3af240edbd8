/** The audit log: append-only, listed newest first per tenant. */
import type { StoreContext } from './context.js';
import { toAuditEntry } from './rows.js';
import type { AuditStore } from './store.js';
import { newestFirstPage, newId } from './util.js';

/** Builds the audit part of the store. */
export function createAuditStore(ctx: StoreContext): AuditStore {
  const { db } = ctx;
  return {
    async append(entry) {
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
    },

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
