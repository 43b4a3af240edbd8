/** Tenants' own templates: a name claimed `pending`, then recorded `ready` or `failed`. */
import {
  ConflictError,
  InvalidArgumentError,
  MAX_TEMPLATE_CONTEXT_BYTES,
  NotFoundError,
} from '@tartarus/core';
import type { Selectable } from 'kysely';
import { isUniqueViolation } from './connect.js';
import { inTransaction, type Db, type StoreContext } from './context.js';
import { emitEvent } from './events.js';
import type { TemplatesTable } from './schema.js';
import type { TemplateObjectStore } from './store.js';
import { requireTenant } from './tenants.js';
import type {
  TemplateImageConfig,
  TenantTemplate,
  TenantTemplateSource,
  TenantTemplateStatus,
} from './types.js';
import { parseJson } from './util.js';

/** Every column but the build context, which only a rebuild reads. */
const COLUMNS = [
  'tenant_id',
  'name',
  'source',
  'image',
  'digest',
  'size_bytes',
  'config_json',
  'dockerfile',
  'status',
  'error',
  'created_at',
  'built_at',
] as const;

type Row = Omit<Selectable<TemplatesTable>, 'context'>;

/** `templates` row → TenantTemplate. */
function toTemplate(r: Row): TenantTemplate {
  return {
    tenantId: r.tenant_id,
    name: r.name,
    source: r.source as TenantTemplateSource,
    image: r.image,
    digest: r.digest,
    sizeBytes: r.size_bytes,
    config: r.config_json === null ? null : parseJson<TemplateImageConfig>(r.config_json),
    dockerfile: r.dockerfile,
    status: r.status as TenantTemplateStatus,
    error: r.error,
    createdAt: r.created_at,
    builtAt: r.built_at,
  };
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`template "${name}" not found`, { context: { template: name } });
}

async function find(db: Db, tenantId: string, name: string): Promise<TenantTemplate | null> {
  const row = await db
    .selectFrom('templates')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row === undefined ? null : toTemplate(row);
}

/** Builds the template part of the store. */
export function createTemplateObjectStore(ctx: StoreContext): TemplateObjectStore {
  const { db } = ctx;
  const get = async (tenantId: string, name: string) => {
    const t = await find(db, tenantId, name);
    if (t === null) throw notFound(name);
    return t;
  };
  /** Ends a build: `set` and its `template.built` event in one transaction. */
  const built = (tenantId: string, name: string, set: Partial<TemplatesTable>) =>
    inTransaction(ctx, async (trx) => {
      const r = await trx.updateTable('templates').set(set).where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw notFound(name);
      const t = await find(trx, tenantId, name);
      if (t === null) throw notFound(name);
      await emitEvent(ctx, trx, { tenantId, type: 'template.built', objectId: `${tenantId}/${name}`, data: { name, status: t.status, digest: t.digest, error: t.error } });
      return t;
    });
  return {
    async create(tenantId, o) {
      const context = o.context ?? null;
      if (context !== null && context.length > MAX_TEMPLATE_CONTEXT_BYTES)
        throw new InvalidArgumentError(
          `the build context is larger than ${MAX_TEMPLATE_CONTEXT_BYTES} bytes`,
        );
      await requireTenant(db, tenantId);
      const row = {
        tenant_id: tenantId,
        name: o.name,
        source: o.source,
        image: o.image,
        digest: null,
        size_bytes: null,
        config_json: null,
        dockerfile: o.dockerfile ?? null,
        context,
        status: 'pending',
        error: null,
        created_at: ctx.now(),
        built_at: null,
      };
      try {
        await db.insertInto('templates').values(row).execute();
      } catch (error) {
        if (!isUniqueViolation(error, ctx.backend)) throw error;
        throw new ConflictError(
          `template "${o.name}" exists: delete it first, rebuild it, or choose another name`,
          { cause: error, context: { template: o.name } },
        );
      }
      const { context: _kept, ...listed } = row;
      return toTemplate(listed);
    },

    get,
    find: (tenantId, name) => find(db, tenantId, name),

    async list(tenantId) {
      const rows = await db
        .selectFrom('templates')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map(toTemplate);
    },

    async context(tenantId, name) {
      const row = await db
        .selectFrom('templates')
        .select('context')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (row === undefined) throw notFound(name);
      return row.context === null ? null : Buffer.from(row.context);
    },

    markReady: (tenantId, name, result) =>
      built(tenantId, name, {
        status: 'ready',
        error: null,
        digest: result.digest,
        size_bytes: result.sizeBytes,
        config_json: JSON.stringify(result.config),
        built_at: ctx.now(),
      }),

    async markPending(tenantId, name) {
      await db
        .updateTable('templates')
        .set({ status: 'pending', error: null })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .where('status', '=', 'failed')
        .execute();
      return get(tenantId, name);
    },

    markFailed: (tenantId, name, error) => built(tenantId, name, { status: 'failed', error }),

    async delete(tenantId, name) {
      const t = await get(tenantId, name);
      await db
        .deleteFrom('templates')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .execute();
      return t;
    },
  };
}
