/**
 * What the store conformance suite needs from a backend: a way to open a fresh, empty store per
 * test (and a second store on the same database, as another server replica would), plus a clock
 * the tests move by hand so leases expire and backoffs pass without sleeping.
 */
import { compileRun, type WorkloadSpec } from '@tartarus/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import type { Store, StoreOptions } from '../store.js';
import type { PostgresServer } from '../../testing/postgres.js';

/** A clock tests advance by hand. Starts at a fixed epoch-ms value. */
export class FakeClock {
  now = 1_800_000_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Where one test's store lives; `open` may be called again for another replica on the same data. */
export interface StoreTarget {
  options: StoreOptions;
  cleanup(): Promise<void>;
}

/** A backend the suite runs against. */
export interface BackendFixture {
  readonly name: 'sqlite' | 'postgres';
  /** Fresh empty database for one test. */
  target(
    extra?: Partial<Pick<StoreOptions, 'logCapBytes' | 'quotaRetryAfterMs'>>,
  ): Promise<StoreTarget>;
}

/** SQLite in a temp file (WAL needs a real file, not ':memory:'). */
export const sqliteFixture: BackendFixture = {
  name: 'sqlite',
  async target(extra) {
    const dir = mkdtempSync(join(tmpdir(), 'tartarus-store-'));
    return {
      options: { backend: 'sqlite', path: join(dir, 'store.db'), ...extra },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

/** PostgreSQL: one database per test on a server the suite started. */
export function postgresFixture(server: () => PostgresServer): BackendFixture {
  return {
    name: 'postgres',
    async target(extra) {
      const connectionString = await server().createDatabase();
      // The database goes with the server's directory when the suite stops it.
      return {
        options: { backend: 'postgres', connectionString, poolMax: 8, ...extra },
        cleanup: async () => {},
      };
    },
  };
}

/** Context handed to each test. */
export interface StoreTest {
  store: Store;
  clock: FakeClock;
  target: StoreTarget;
  /** Opens another store on the same database and clock (a second server replica); closed after the test. */
  replica(): Promise<Store>;
}

/** Runs `fn` with a fresh store; closes every store and removes the database in finally. */
export async function withStore(
  fixture: BackendFixture,
  fn: (t: StoreTest) => Promise<void>,
  extra?: Partial<Pick<StoreOptions, 'logCapBytes' | 'quotaRetryAfterMs'>>,
): Promise<void> {
  const target = await fixture.target(extra);
  const clock = new FakeClock();
  const opened: Store[] = [];
  try {
    const open = async () => {
      const s = await openStore({ ...target.options, clock: clock.read });
      opened.push(s);
      return s;
    };
    const store = await open();
    await fn({ store, clock, target, replica: open });
  } finally {
    for (const s of opened) await s.close();
    await target.cleanup();
  }
}

/** A node with room for work. */
export const NODE = { runtimes: ['container'], capacity: { cpu: 2, memoryMiB: 2048, diskMiB: 0, slots: 8 } };

/** A compiled run spec from the fields these tests vary (argv, runtime, env). */
export function runSpec(fields: {
  command: string[];
  runtime?: 'container' | 'gvisor' | 'microvm';
  env?: Record<string, string>;
}): WorkloadSpec {
  return compileRun(
    {
      argv: fields.command,
      ...(fields.runtime === undefined ? {} : { runtime: fields.runtime }),
      ...(fields.env === undefined ? {} : { env: fields.env }),
    },
    null,
  );
}

/** A run of the tenant, leased to `nodeId` and confirmed running: its id and lease epoch. */
export async function startRun(
  store: Store,
  tenantId: string,
  nodeId: string,
  spec: WorkloadSpec = runSpec({ command: ['echo', 'hi'] }),
): Promise<{ id: string; epoch: number }> {
  const { run } = await store.runs.submit(tenantId, spec);
  const lease = await store.queue.leaseRun(run.id, nodeId, 60_000);
  if (lease === null) throw new Error(`run ${run.id} could not be leased`);
  if (!(await store.queue.confirmStart(run.id, lease.epoch, nodeId, 60_000)))
    throw new Error(`run ${run.id} could not be started`);
  return { id: run.id, epoch: lease.epoch };
}
