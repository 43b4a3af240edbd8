/**
 * Opens the Kysely instance for a backend. SQLite: one better-sqlite3 connection in WAL mode with
 * a busy timeout and foreign keys on, and transactions that start with `BEGIN IMMEDIATE` (a
 * deferred transaction that reads then writes can fail with SQLITE_BUSY when another process holds
 * the write lock; taking it up front makes it wait for `busy_timeout` instead). PostgreSQL: a
 * `pg.Pool` that parses int8 as a JS number (epoch ms and counts fit in 2^53).
 */
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { resolve } from 'node:path';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
} from 'kysely';
import type { Database } from './schema.js';
import type { StoreBackend } from './store.js';
import { StoreOutageLog, type OutageLogger } from './outage-log.js';

/** How long a SQLite writer waits for another process's write lock, ms. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * One lock per database file for the whole process. better-sqlite3 is synchronous: if two stores
 * in one process opened the same file and one waited on the other's write lock, it would block
 * the event loop the holder needs to finish. Serializing them here turns that into an await.
 */
const fileLocks = new Map<string, { tail: Promise<void> }>();

function fileLock(path: string): { tail: Promise<void> } {
  let lock = fileLocks.get(path);
  if (lock === undefined) fileLocks.set(path, (lock = { tail: Promise.resolve() }));
  return lock;
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #lock: { tail: Promise<void> };
  #release: (() => void) | undefined;

  constructor(database: SqliteDatabase.Database, path: string) {
    super({ database });
    this.#lock = fileLock(path);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // Our own driver mutex is taken first, so at most one waiter per store queues on the file lock.
    const connection = await super.acquireConnection();
    const previous = this.#lock.tail;
    let release!: () => void;
    this.#lock.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#release = release;
    return connection;
  }

  override async releaseConnection(): Promise<void> {
    this.#release?.();
    this.#release = undefined;
    await super.releaseConnection();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Prepared statements kept per connection (by SQL text), least recently used dropped past this. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * The connection as Kysely sees it, with prepared statements kept by SQL text: Kysely prepares
 * every query anew, which cost ≈ 3 ms of CPU per run (about twenty statements). A statement still
 * busy (an unfinished iterate) is never handed out twice: a fresh one is prepared instead.
 */
function withStatementCache(db: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = (sql: string): SqliteDatabase.Statement => {
    const kept = cache.get(sql);
    if (kept && !kept.busy) {
      cache.delete(sql);
      cache.set(sql, kept);
      return kept;
    }
    const stmt = db.prepare(sql);
    if (!kept) {
      cache.set(sql, stmt);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    return stmt;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase.Database;
  readonly #path: string;
  constructor(database: SqliteDatabase.Database, path: string) {
    super({ database });
    this.#database = database;
    this.#path = path;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#database, this.#path);
  }
}

/** Opens a SQLite file (created if missing; ':memory:' for a throwaway). */
export function openSqlite(path: string): Kysely<Database> {
  const database = new SqliteDatabase(path);
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma('foreign_keys = ON');
  // WAL + NORMAL is durable against process crashes (the test kills the server), which is the
  // failure the control plane must survive; FULL only adds power-loss safety at a fsync per commit.
  database.pragma('synchronous = NORMAL');
  return new Kysely<Database>({
    dialect: new ImmediateSqliteDialect(
      withStatementCache(database),
      path === ':memory:' ? `:memory:${Math.random()}` : resolve(path),
    ),
  });
}

const INT8_OID = 20;

/**
 * How long a query waits for a connection (a new one, or a free one of a full pool), ms: past it
 * the call fails as "cannot be reached" (503) instead of hanging on a host that does not answer.
 */
const PG_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a PostgreSQL pool. While the server is down or restarting, queries fail at once
 * (`unreachable.ts` classifies them); a client whose connection broke is dropped when released
 * (pg-pool does not keep one that is not queryable) and the next query connects anew, so the
 * store recovers by itself.
 */
export function openPostgres(connectionString: string, poolMax: number, log?: OutageLogger): Kysely<Database> {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (v: string) => Number(v)
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    types,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    // A connection to a host that vanished without closing it is noticed, not waited on forever.
    keepAlive: true,
  });
  // A connection that breaks emits 'error' on its client: an idle one's reaches the pool's
  // listener, but a client checked out between two queries (in a transaction) has none of the
  // pool's, and an 'error' nobody listens to would end the process. Both are only logged: the
  // query in flight fails on its own, and the broken client is not reused.
  const logger = log ?? { info() {}, warn() {} };
  const outage = new StoreOutageLog(logger, 'store connection');
  const noted = (err: Error) => {
    if (!outage.failed(err)) logger.warn({ err }, 'store connection failed; the pool drops it');
  };
  pool.on('error', noted);
  pool.on('connect', (client) => {
    client.on('error', noted);
    outage.succeeded();
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Is this error a unique-constraint violation, on either backend? */
export function isUniqueViolation(error: unknown, backend: StoreBackend): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  switch (backend) {
    case 'sqlite':
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    case 'postgres':
      return code === '23505';
  }
}
