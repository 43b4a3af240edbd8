/**
 * The store conformance suite, run against every backend: SQLite in a temp file always, and
 * PostgreSQL on a private server this file starts (skipped, with the reason printed, when the
 * server binaries are missing).
 */
import { after, before, describe } from 'node:test';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../testing/postgres.js';
import { crashSuite } from './conformance/crash.js';
import { postgresFixture, sqliteFixture, type BackendFixture } from './conformance/harness.js';
import { identitySuite } from './conformance/identity.js';
import { logQuotaSuite } from './conformance/log-quota.js';
import { networkPoliciesSuite } from './conformance/network-policies.js';
import { nodeTokensSuite } from './conformance/node-tokens.js';
import { queueSuite } from './conformance/queue.js';
import { retentionSuite } from './conformance/retention.js';
import { runsSuite } from './conformance/runs.js';
import { sandboxesSuite } from './conformance/sandboxes.js';
import { snapshotsSuite } from './conformance/snapshots.js';
import { templatesSuite } from './conformance/templates.js';
import { usageSuite } from './conformance/usage.js';
import { poolIntervalsSuite } from './conformance/pool-intervals.js';
import { terminationsSuite } from './conformance/terminations.js';
import { eventsSuite } from './conformance/events.js';
import { logSearchSuite } from './conformance/log-search.js';
import { webhooksSuite } from './conformance/webhooks.js';

function conformance(fx: BackendFixture): void {
  identitySuite(fx);
  nodeTokensSuite(fx);
  runsSuite(fx);
  queueSuite(fx);
  sandboxesSuite(fx);
  snapshotsSuite(fx);
  templatesSuite(fx);
  retentionSuite(fx);
  logQuotaSuite(fx);
  networkPoliciesSuite(fx);
  usageSuite(fx);
  poolIntervalsSuite(fx);
  terminationsSuite(fx);
  eventsSuite(fx);
  logSearchSuite(fx);
  webhooksSuite(fx);
  crashSuite(fx);
}

describe('store conformance: sqlite', () => conformance(sqliteFixture));

const pgUnavailable = postgresUnavailable();
if (pgUnavailable !== null)
  console.log(`# skipping store conformance on PostgreSQL: ${pgUnavailable}`);

describe('store conformance: postgres', { skip: pgUnavailable ?? false }, () => {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  conformance(
    postgresFixture(() => {
      if (server === undefined) throw new Error('PostgreSQL did not start (see the before hook)');
      return server;
    }),
  );
});
