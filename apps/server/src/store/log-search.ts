/**
 * The log search over what the store keeps: runs' output chunks (`run_logs`, through their run for
 * the tenant and expiry) and sandboxes' lifecycle lines (their numbered `sandbox.*` events, the
 * line being the event's type and data: `sandbox.ended {"state":"killed",…}`). Both sources are
 * read in one order — time, then source (runs first), then object id, then seq — each with a
 * keyset condition from the cursor and `limit + 1` rows, and merged; so a page costs two indexed
 * reads whatever its depth. Text is a case-insensitive substring (`LIKE` on SQLite, which folds
 * ASCII letters only; `ILIKE` on PostgreSQL), with `%`, `_` and `\` taken literally.
 */
import { InvalidArgumentError } from '@tartarus/core';
import { sql, type Expression, type SqlBool } from 'kysely';
import type { StoreContext } from './context.js';

/** Where a line sits in the search's order. */
export interface LogPosition {
  at: number;
  source: 'run' | 'sandbox';
  /** The run's or the sandbox's id. */
  objectId: string;
  /** The chunk's seq in its run, or the event's seq. */
  seq: number;
}

/** A line found. */
export interface FoundLogLine extends LogPosition {
  tenantId: string;
  /** The run's attempt (null for a sandbox line). */
  attempt: number | null;
  stream: 'stdout' | 'stderr' | 'lifecycle';
  data: string;
}

/** What to search. */
export interface LogSearchFilter {
  /** One tenant; undefined: every tenant. */
  tenantId: string | undefined;
  /** Only this run's output (and no sandbox line). */
  runId?: string | undefined;
  /** Only this sandbox's lines (and no run output). */
  sandboxId?: string | undefined;
  /** A substring the line must contain, case-insensitive. */
  text?: string | undefined;
  /** Epoch ms, included. */
  fromMs: number;
  /** Epoch ms, excluded. */
  toMs: number;
  order: 'newest' | 'oldest';
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
  /** 1..500. */
  limit: number;
}

/** The log search. */
export interface LogSearchStore {
  /** One page of lines matching `filter`, in its order; `nextCursor` is null on the last page. */
  search(filter: LogSearchFilter): Promise<{ items: FoundLogLine[]; nextCursor: string | null }>;
}

/** A run's chunk may carry a node's clock a little ahead of the server's `created_at`. */
const CLOCK_SKEW_MS = 5 * 60_000;

const RANK = { run: 0, sandbox: 1 } as const;

/** Encodes a position as an opaque cursor. */
function encodeCursor(p: LogPosition): string {
  return Buffer.from(JSON.stringify([p.at, p.source, p.objectId, p.seq])).toString('base64url');
}

/** Decodes a cursor; InvalidArgumentError when it is not one this store gave. */
export function decodeLogCursor(cursor: string): LogPosition {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 4) {
      const [at, source, objectId, seq] = v as unknown[];
      if (Number.isSafeInteger(at) && (source === 'run' || source === 'sandbox') && typeof objectId === 'string' && Number.isSafeInteger(seq))
        return { at: at as number, source, objectId, seq: seq as number };
    }
  } catch {
    // the error below
  }
  throw new InvalidArgumentError('cursor is not valid: pass the nextCursor of the previous page unchanged');
}

/** `text` as a LIKE pattern matching it anywhere, its wildcards escaped with `\`. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Rows of `source` strictly past `c` in the search's order: for newest first, before it; for
 * oldest first, after it. Columns: the row's time, object id and seq.
 */
function pastCursor(source: LogPosition['source'], c: LogPosition, order: LogSearchFilter['order'], cols: { at: string; object: string; seq: string }): Expression<SqlBool> {
  const at = sql.ref(cols.at);
  const cmp = sql.raw(order === 'newest' ? '<' : '>');
  const mine = RANK[source];
  const theirs = RANK[c.source];
  // The other source's rows at the cursor's time come before or after all of it, by rank.
  if (mine !== theirs) return (mine < theirs) === (order === 'newest') ? sql<SqlBool>`${at} ${cmp}= ${c.at}` : sql<SqlBool>`${at} ${cmp} ${c.at}`;
  const obj = sql.ref(cols.object);
  const seq = sql.ref(cols.seq);
  return sql<SqlBool>`(${at} ${cmp} ${c.at} or (${at} = ${c.at} and (${obj} ${cmp} ${c.objectId} or (${obj} = ${c.objectId} and ${seq} ${cmp} ${c.seq}))))`;
}

/** `expr` contains the filter's text (case-insensitive). */
function contains(ctx: StoreContext, expr: Expression<string>, text: string): Expression<SqlBool> {
  const op = sql.raw(ctx.backend === 'postgres' ? 'ilike' : 'like');
  return sql<SqlBool>`${expr} ${op} ${containsPattern(text)} escape '\\'`;
}

/** Run output chunks matching `f`, at most `limit + 1`, in the order asked. */
async function runLines(ctx: StoreContext, f: LogSearchFilter, after: LogPosition | undefined): Promise<FoundLogLine[]> {
  const dir = f.order === 'newest' ? 'desc' : 'asc';
  const rows = await ctx.db
    .selectFrom('run_logs as l')
    .innerJoin('runs as r', 'r.id', 'l.run_id')
    .select(['l.run_id', 'l.seq', 'l.attempt', 'l.stream', 'l.at', 'l.data', 'r.tenant_id'])
    // Chunks of expired logs may still be there while the retention deletes them in batches.
    .where('r.logs_expired_at', 'is', null)
    .$if(f.tenantId !== undefined, (q) => q.where('r.tenant_id', '=', f.tenantId ?? ''))
    .$if(f.runId !== undefined, (q) => q.where('l.run_id', '=', f.runId ?? ''))
    // A run's output comes after it was submitted: runs_tenant (tenant, created_at) prunes.
    .where('r.created_at', '<', f.toMs + CLOCK_SKEW_MS)
    .where('l.at', '>=', f.fromMs)
    .where('l.at', '<', f.toMs)
    .$if(f.text !== undefined, (q) => q.where(contains(ctx, sql.ref('l.data'), f.text ?? '')))
    .$if(after !== undefined, (q) => q.where(pastCursor('run', after as LogPosition, f.order, { at: 'l.at', object: 'l.run_id', seq: 'l.seq' })))
    .orderBy('l.at', dir)
    .orderBy('l.run_id', dir)
    .orderBy('l.seq', dir)
    .limit(f.limit + 1)
    .execute();
  return rows.map((r) => ({
    at: Number(r.at),
    source: 'run',
    objectId: r.run_id,
    seq: Number(r.seq),
    tenantId: r.tenant_id,
    attempt: Number(r.attempt),
    stream: r.stream === 'stderr' ? 'stderr' : 'stdout',
    data: r.data,
  }));
}

/** Sandbox lifecycle lines matching `f`, at most `limit + 1`, in the order asked. */
async function sandboxLines(ctx: StoreContext, f: LogSearchFilter, after: LogPosition | undefined): Promise<FoundLogLine[]> {
  const dir = f.order === 'newest' ? 'desc' : 'asc';
  const line = sql<string>`${sql.ref('type')} || ' ' || ${sql.ref('data_json')}`;
  const rows = await ctx.db
    .selectFrom('events')
    .select(['seq', 'tenant_id', 'object_id', 'at'])
    .select(line.as('line'))
    .where('seq', 'is not', null)
    .where('type', 'like', 'sandbox.%')
    .$if(f.tenantId !== undefined, (q) => q.where('tenant_id', '=', f.tenantId ?? ''))
    .$if(f.sandboxId !== undefined, (q) => q.where('object_id', '=', f.sandboxId ?? ''))
    .where('at', '>=', f.fromMs)
    .where('at', '<', f.toMs)
    .$if(f.text !== undefined, (q) => q.where(contains(ctx, line, f.text ?? '')))
    .$if(after !== undefined, (q) => q.where(pastCursor('sandbox', after as LogPosition, f.order, { at: 'at', object: 'object_id', seq: 'seq' })))
    .orderBy('at', dir)
    .orderBy('object_id', dir)
    .orderBy('seq', dir)
    .limit(f.limit + 1)
    .execute();
  return rows.map((r) => ({
    at: Number(r.at),
    source: 'sandbox',
    objectId: r.object_id,
    seq: Number(r.seq),
    tenantId: r.tenant_id,
    attempt: null,
    stream: 'lifecycle',
    data: r.line,
  }));
}

/**
 * Merges two lists, each already in the search's order, by (time, source rank) only: within one
 * source the database's order (and its collation of ids) stands.
 */
function merge(a: FoundLogLine[], b: FoundLogLine[], order: LogSearchFilter['order'], limit: number): FoundLogLine[] {
  const out: FoundLogLine[] = [];
  let i = 0;
  let j = 0;
  const sign = order === 'newest' ? -1 : 1;
  while (out.length < limit && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && sign * (x.at - y.at || RANK[x.source] - RANK[y.source]) <= 0)) {
      out.push(x as FoundLogLine);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/** Builds the log search. */
export function createLogSearch(ctx: StoreContext): LogSearchStore {
  return {
    async search(f) {
      if (f.runId !== undefined && f.sandboxId !== undefined)
        throw new InvalidArgumentError('give run or sandbox, not both');
      const after = f.cursor === undefined ? undefined : decodeLogCursor(f.cursor);
      const [runs, sandboxes] = await Promise.all([
        f.sandboxId === undefined ? runLines(ctx, f, after) : [],
        f.runId === undefined ? sandboxLines(ctx, f, after) : [],
      ]);
      const merged = merge(runs, sandboxes, f.order, f.limit + 1);
      const items = merged.slice(0, f.limit);
      const last = items.at(-1);
      return { items, nextCursor: merged.length > f.limit && last !== undefined ? encodeCursor(last) : null };
    },
  };
}
