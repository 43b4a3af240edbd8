/**
 * Usage metering in the store: agents' `usage` reports kept per tenant, and the sums of a window
 * by UTC day, tenant or runtime (`GET /v1/usage`).
 */
import { idKind, type UsageFigures, type UsageGroup, type UsageRow } from '@tartarus/core';
import { sql } from 'kysely';
import type { StoreContext } from './context.js';

/** One agent report, as the server got it. */
export interface UsageRecordInput {
  nodeId: string;
  /** The run or sandbox id. */
  workId: string;
  epoch: number;
  seq: number;
  runtime: string;
  /** End of the reported interval, epoch ms. */
  atMs: number;
  cpuSeconds: number;
  memoryGibSeconds: number;
  sandboxSeconds: number;
  egressBytes: number;
}

/** What a report sums. */
export interface UsageReportOptions {
  /** One tenant; undefined: every tenant. */
  tenantId?: string | undefined;
  /** The window, epoch ms, `from` included, `to` excluded. */
  fromMs: number;
  toMs: number;
  group: UsageGroup;
}

/** Usage records and their sums. */
export interface UsageStore {
  /**
   * Keeps a report, billed to the tenant of its run or sandbox. Returns that tenant, or undefined
   * when the report was stored already (a resend) or its work is unknown (nothing to bill).
   */
  record(entry: UsageRecordInput): Promise<string | undefined>;
  /** The window's rows in key order (every day of the window for `day`, zeros included) and their total. */
  report(options: UsageReportOptions): Promise<{ rows: UsageRow[]; total: UsageFigures }>;
}

const DAY_MS = 86_400_000;

/** Zero figures. */
export function noUsage(): UsageFigures {
  return { cpuSeconds: 0, memoryGibSeconds: 0, sandboxSeconds: 0, egressBytes: 0, sandboxes: 0 };
}

/** The UTC day of `ms` as `YYYY-MM-DD`. */
export function dayKey(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Builds the usage part of the store. */
export function createUsageStore(ctx: StoreContext): UsageStore {
  const { db } = ctx;
  return {
    async record(e) {
      const table = idKind(e.workId) === 'sbx' ? 'sandboxes' : 'runs';
      const owner = await db.selectFrom(table).select('tenant_id').where('id', '=', e.workId).executeTakeFirst();
      if (owner === undefined) return undefined;
      const inserted = await db
        .insertInto('usage_records')
        .values({
          id: `${e.workId}:${e.epoch}:${e.seq}:${e.atMs}`,
          tenant_id: owner.tenant_id,
          work_id: e.workId,
          runtime: e.runtime,
          node_id: e.nodeId,
          at: e.atMs,
          cpu_seconds: e.cpuSeconds,
          memory_gib_seconds: e.memoryGibSeconds,
          sandbox_seconds: e.sandboxSeconds,
          egress_bytes: e.egressBytes,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? owner.tenant_id : undefined;
    },

    async report(o) {
      const key =
        o.group === 'day'
          ? sql<string>`at / ${sql.lit(DAY_MS)}`
          : o.group === 'tenant'
            ? sql<string>`tenant_id`
            : sql<string>`runtime`;
      const inWindow = db
        .selectFrom('usage_records')
        .select([
          sql<number>`sum(cpu_seconds)`.as('cpu'),
          sql<number>`sum(memory_gib_seconds)`.as('mem'),
          sql<number>`sum(sandbox_seconds)`.as('wall'),
          sql<number>`sum(egress_bytes)`.as('egress'),
          sql<number>`count(distinct work_id)`.as('works'),
        ])
        .where('at', '>=', o.fromMs)
        .where('at', '<', o.toMs)
        .$if(o.tenantId !== undefined, (q) => q.where('tenant_id', '=', o.tenantId ?? ''));
      const [grouped, total] = await Promise.all([
        inWindow.select(key.as('key')).groupBy(key).execute(),
        inWindow.executeTakeFirstOrThrow(),
      ]);
      const found = new Map<string, UsageRow>();
      for (const r of grouped) {
        const k = o.group === 'day' ? dayKey(Number(r.key) * DAY_MS) : String(r.key);
        found.set(k, { key: k, ...figures(r) });
      }
      return { rows: rowsInOrder(found, o), total: figures(total) };
    },
  };
}

interface SumsRow {
  cpu: number | string | null;
  mem: number | string | null;
  wall: number | string | null;
  egress: number | string | null;
  works: number | string | null;
}

/** One row's figures. PostgreSQL answers sums of bigint and counts as strings, and null sums for no rows. */
function figures(r: SumsRow): UsageFigures {
  return {
    cpuSeconds: Number(r.cpu ?? 0),
    memoryGibSeconds: Number(r.mem ?? 0),
    sandboxSeconds: Number(r.wall ?? 0),
    egressBytes: Number(r.egress ?? 0),
    sandboxes: Number(r.works ?? 0),
  };
}

/** Rows by key; for `day`, every day of the window (zeros where nothing ran), oldest first. */
function rowsInOrder(found: Map<string, UsageRow>, o: UsageReportOptions): UsageRow[] {
  if (o.group !== 'day') return [...found.values()].sort((a, b) => a.key.localeCompare(b.key));
  const days: UsageRow[] = [];
  for (let d = Math.floor(o.fromMs / DAY_MS) * DAY_MS; d < o.toMs; d += DAY_MS)
    days.push(found.get(dayKey(d)) ?? { key: dayKey(d), ...noUsage() });
  return days;
}
