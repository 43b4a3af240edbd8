/**
 * Which failures mean "the database cannot be reached", on errors node-postgres really throws:
 * a refused connect, a missing unix socket, a server that hangs up or never answers, and a real
 * PostgreSQL taken down under an open transaction (skipped, with the reason printed, when the
 * server binaries are missing) — which must neither crash the process nor leave the store broken
 * once it is back.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InternalError, NotFoundError } from '@tartarus/core';
import { sql } from 'kysely';
import pg from 'pg';
import { postgresUnavailable, startPostgres } from '../testing/postgres.js';
import { openPostgres } from './connect.js';
import { openStore } from './open.js';
import { asStoreUnavailable, StoreUnavailableError, unreachableReason } from './unreachable.js';

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A TCP server on loopback that does `onSocket` with each connection; its port. */
async function tcpServer(
  onSocket: (s: Socket) => void,
): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function closeServer(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  await new Promise((resolve) => s.server.close(resolve));
}

test('a refused connect, a missing socket, a hang-up and a connect timeout are unreachable', async () => {
  const closed = await tcpServer(() => {});
  await closeServer(closed);
  const refused = await rejection(
    new pg.Client({ host: '127.0.0.1', port: closed.port }).connect(),
  );
  assert.equal(unreachableReason(refused), 'connection refused', String(refused));

  const noSocket = await rejection(
    new pg.Client({ host: join(tmpdir(), `tt-no-pg-${process.pid}`), port: 5432 }).connect(),
  );
  assert.equal(unreachableReason(noSocket), 'no server at the socket', String(noSocket));

  const hangUp = await tcpServer((s) => s.destroy());
  try {
    const err = await rejection(new pg.Client({ host: '127.0.0.1', port: hangUp.port }).connect());
    assert.equal(unreachableReason(err), 'connection lost', String(err));
  } finally {
    await closeServer(hangUp);
  }

  const silent = await tcpServer(() => {});
  const pool = new pg.Pool({ host: '127.0.0.1', port: silent.port, connectionTimeoutMillis: 200 });
  try {
    const err = await rejection(pool.query('select 1'));
    assert.equal(unreachableReason(err), 'connection timed out', String(err));
  } finally {
    await pool.end();
    await closeServer(silent);
  }

  // Wrapped by our own code, it is still seen.
  assert.equal(
    unreachableReason(new InternalError('store call failed', { cause: refused })),
    'connection refused',
  );
  const mapped = asStoreUnavailable(refused);
  assert.ok(mapped instanceof StoreUnavailableError);
  assert.equal(mapped.code, 'unavailable');
  assert.equal(
    mapped.message,
    'the database cannot be reached (connection refused); retry shortly',
  );
});

test('PostgreSQL going or coming is unreachable; a missing file, a bad query or a typed error is not', async () => {
  const pgError = (code: string, message: string) =>
    Object.assign(new Error(message), { code, severity: 'FATAL' });
  assert.equal(
    unreachableReason(pgError('57P01', 'terminating connection due to administrator command')),
    'the database is shutting down',
  );
  assert.equal(
    unreachableReason(pgError('57P03', 'the database system is starting up')),
    'the database is starting up',
  );
  assert.equal(unreachableReason(pgError('08006', 'connection failure')), 'connection failed');

  const missingFile = await rejection(readFile(join(tmpdir(), `tt-no-file-${process.pid}`)));
  assert.equal((missingFile as { code?: string }).code, 'ENOENT');
  assert.equal(unreachableReason(missingFile), null);
  assert.equal(
    unreachableReason(pgError('23505', 'duplicate key value violates unique constraint')),
    null,
  );
  assert.equal(unreachableReason(pgError('42601', 'syntax error at or near "selec"')), null);
  assert.equal(unreachableReason(new NotFoundError('run r not found')), null);
  assert.equal(
    unreachableReason(new Error('Connection terminated unexpectedly, or so they say')),
    null,
  );
  assert.equal(asStoreUnavailable(new Error('boom')), undefined);
});

const pgSkip = postgresUnavailable();
if (pgSkip !== null) console.log(`# skipping the PostgreSQL outage cases: ${pgSkip}`);

test(
  'PostgreSQL stopped under an open transaction: no crash, calls fail as unreachable, then the same store recovers',
  { skip: pgSkip ?? false },
  async () => {
    const server = await startPostgres();
    const warnings: string[] = [];
    const log = { info() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const url = await server.createDatabase();
    const store = await openStore({ backend: 'postgres', connectionString: url });
    const db = openPostgres(url, 2, log);
    try {
      let halted!: () => void;
      const down = new Promise<void>((resolve) => (halted = resolve));
      // A client checked out (in a transaction) when the server goes: its 'error' must not end the process.
      const inTransaction = rejection(
        db.transaction().execute(async (trx) => {
          await sql`select 1`.execute(trx);
          await down;
          await sql`select 1`.execute(trx);
        }),
      );
      await sql`select 1`.execute(db);
      await store.nodes.list();
      await server.halt();
      halted();
      const err = await inTransaction;
      assert.notEqual(unreachableReason(err), null, String(err));
      const whileDown = await rejection(store.nodes.list());
      assert.equal(unreachableReason(whileDown), 'no server at the socket', String(whileDown));
      assert.ok(
        warnings.length >= 1 && warnings.every((w) => /cannot be reached/.test(w)),
        warnings.join('\n'),
      );

      await server.resume();
      assert.deepEqual(await store.nodes.list(), []);
      assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1);
    } finally {
      await db.destroy();
      await store.close();
      await server.stop();
    }
  },
);
