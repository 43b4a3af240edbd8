/**
 * What every part of the store shares: the database, the backend, the clock and the resolved
 * options. Built once by `openStore`; the parts are plain functions of it (no classes to wire).
 */
import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { StoreBackend } from './store.js';

/** Executor inside or outside a transaction. */
export type Db = Kysely<Database> | Transaction<Database>;

/** Shared state of one open store. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly backend: StoreBackend;
  /** Epoch ms. */
  now(): number;
  /** Log bytes kept per run. */
  readonly logCapBytes: number;
  /** Retry-After for a tenant over quota, ms. */
  readonly quotaRetryAfterMs: number;
  /** Called after a transaction that wrote events committed (the sequencer's wake-up; `events.ts`). */
  readonly eventListeners: Set<() => void>;
  /** Called with the first and last number of events this store numbered, after the commit (`events.ts`). */
  readonly sequencedListeners: Set<(first: number, last: number) => void>;
}

/** Callbacks to run once a transaction has committed, by transaction. */
const afterCommitHooks = new WeakMap<Transaction<Database>, Set<() => void>>();

/** Runs `hook` once `trx` has committed (never if it rolls back); deduplicated per transaction. */
export function afterCommit(trx: Db, hook: () => void): void {
  const hooks = afterCommitHooks.get(trx as Transaction<Database>);
  if (hooks) hooks.add(hook);
  else queueMicrotask(hook); // not in a transaction: the write has committed already
}

/**
 * Runs `fn` in one write transaction. Inside, use only `trx`: on SQLite the store has one
 * connection, and a query on `ctx.db` would wait for the transaction that is waiting for it.
 */
export async function inTransaction<T>(
  ctx: StoreContext,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  let hooks: Set<() => void> | undefined;
  const result = await ctx.db.transaction().execute((trx) => {
    hooks = new Set();
    afterCommitHooks.set(trx, hooks);
    return fn(trx);
  });
  for (const hook of hooks ?? []) hook();
  return result;
}

/**
 * Row lock for read-modify-write on PostgreSQL (`FOR UPDATE`, optionally `SKIP LOCKED` where
 * replicas compete for work). SQLite has no row locks and needs none: its write transaction
 * (`BEGIN IMMEDIATE`) already excludes every other writer.
 */
export function lockRows<DB, TB extends keyof DB, O>(
  ctx: StoreContext,
  query: SelectQueryBuilder<DB, TB, O>,
  mode: 'wait' | 'skip' = 'wait',
): SelectQueryBuilder<DB, TB, O> {
  if (ctx.backend === 'sqlite') return query;
  return mode === 'skip' ? query.forUpdate().skipLocked() : query.forUpdate();
}
