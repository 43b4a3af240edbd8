/**
 * Opens the Kysely instance for a backend. SQLite: one better-sqlite3 connection in WAL mode with
 * a busy timeout and foreign keys on, and transactions that start with `BEGIN IMMEDIATE` (a
 * deferred transaction that reads then writes can fail with SQLITE_BUSY when another process holds
 * the write lock; taking it up front makes it wait for `busy_timeout` instead). PostgreSQL: a
 * `pg.Pool` that parses int8 as a JS number (epoch ms and counts fit in 2^53).
 */
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
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

/** How long a SQLite writer waits for another process's write lock, ms. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase.Database;
  constructor(database: SqliteDatabase.Database) {
    super({ database });
    this.#database = database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
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
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) });
}

const INT8_OID = 20;

/** Opens a PostgreSQL pool. */
export function openPostgres(connectionString: string, poolMax: number): Kysely<Database> {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString, max: poolMax, types });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
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
