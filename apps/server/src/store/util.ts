/** Small helpers shared by the store's parts: ids, hashes, JSON columns, flags and cursors. */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@tartarus/core';
import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { JsonObject, Page, PageOptions } from './types.js';

/** The one id generator lives in core; re-exported for the store's parts. */
export { newId } from '@tartarus/core';

/** SHA-256 hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values hash equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

/** Parses a `*_json` column written by this store. */
export function parseJson<T = JsonObject>(text: string): T {
  return JSON.parse(text) as T;
}

/** 0/1 column → boolean. */
export function flag(value: number): boolean {
  return value !== 0;
}

/** Default and largest page size. */
const PAGE_DEFAULT = 50;
const PAGE_MAX = 500;

/** Resolved page size; InvalidArgumentError if not a positive integer. */
export function pageLimit(options: PageOptions | undefined): number {
  const limit = options?.limit ?? PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, PAGE_MAX);
}

interface Cursor {
  t: number;
  id: string;
}

function decodeCursor(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    // `t` is compared with an integer ms column: 1e400 (Infinity) or 1.5 must not reach the SQL.
    if (Number.isSafeInteger(c.t) && typeof c.id === 'string')
      return { t: c.t as number, id: c.id };
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(
    'cursor is not valid: pass the nextCursor of the previous page unchanged',
  );
}

/**
 * Keyset condition for newest-first listings ordered by (`timeColumn` desc, id desc): rows
 * strictly after the cursor. Stable under inserts, unlike OFFSET.
 */
export function beforeCursor(cursor: string, timeColumn: string): Expression<SqlBool> {
  const { t, id } = decodeCursor(cursor);
  const ts = sql.ref(timeColumn);
  return sql<SqlBool>`(${ts} < ${t} or (${ts} = ${t} and ${sql.ref('id')} < ${id}))`;
}

/** Cuts a fetched `limit + 1` rows into a page with the cursor of its last item. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  key: (row: R) => Cursor,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  const nextCursor =
    more && last !== undefined
      ? Buffer.from(JSON.stringify(key(last))).toString('base64url')
      : null;
  return { items: kept.map(map), nextCursor };
}

/**
 * One page of a newest-first listing, the way every `list` of the store pages: `query` (already
 * filtered) from after `options.cursor`, ordered by (`timeColumn` desc, id desc), at most
 * `pageLimit(options)` rows, each mapped by `map`.
 */
export async function newestFirstPage<DB, TB extends keyof DB, R extends { id: string }, T>(
  query: SelectQueryBuilder<DB, TB, R>,
  timeColumn: { [K in keyof R]: R[K] extends number ? K : never }[keyof R] & string,
  options: PageOptions | undefined,
  map: (row: R) => T,
): Promise<Page<T>> {
  const limit = pageLimit(options);
  const cursor = options?.cursor;
  const rows = await query
    .$if(cursor !== undefined, (q) => q.where(beforeCursor(cursor ?? '', timeColumn)))
    .orderBy(sql.ref(timeColumn), 'desc')
    .orderBy(sql.ref('id'), 'desc')
    .limit(limit + 1)
    .execute();
  return toPage(rows, limit, map, (r) => ({ t: r[timeColumn] as number, id: r.id }));
}
