/**
 * A PostgreSQL outage under a running server (distributed mode's store), real runc: while the
 * database is down every API call that needs it answers 503 with Retry-After and a message that
 * says what is wrong (never a 500 or a stack), `/readyz` is 503 and `/healthz` 200; the loops and
 * the agent link log one warning per outage, no error; once PostgreSQL is back the same process
 * serves again by itself, and the run accepted before the outage — which ended while the database
 * was down — is committed once, with its output: neither its result nor its node (silent, for the
 * store, for longer than its deadline) is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, RuntimeAdapter } from '@tartarus/agent';
import { Runtime } from '@tartarus/runtime';
import {
  bootstrap,
  openStore,
  startServer,
  type Logger,
  type ServerHandle,
  type Store,
} from '@tartarus/server';
import {
  postgresUnavailable,
  startPostgres,
  type PostgresServer,
} from '@tartarus/server/testing/postgres';
import { call, containerSkipReason, eventually, type Reply } from './helpers.js';

const TOKEN = 'e2e-agent-token-outage-0123456789';
/** How long the run sleeps: it starts before the outage and ends during it. */
const RUN_SLEEP_S = 2;
/**
 * A node deadline shorter than the outage: the node's heartbeats of the outage could not be
 * written, and it must not be marked down (its run requeued) when the database is back.
 */
const LIVENESS = { heartbeatIntervalMs: 500, nodeDeadlineMs: 2000 };
/**
 * How long PostgreSQL stays down: the run ends meanwhile, the node deadline passes twice, and the
 * agent link's retries back off to their longest wait (so the sweeper could look first).
 */
const OUTAGE_MS = 5000;

/** A logger keeping every line, by level. */
function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg?: string) =>
    void lines.push({ level, msg: msg ?? '' });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** What every call needing the database answers while it is down. */
function assertUnavailable(r: Reply, what: string): void {
  assert.equal(r.status, 503, `${what}: ${r.text}`);
  assert.equal(r.json?.error?.code, 'unavailable', what);
  assert.match(
    r.json.error.message,
    /^the database cannot be reached \(.+\); retry shortly$/,
    what,
  );
  assert.ok(
    Number(r.headers.get('retry-after')) >= 1,
    `${what}: Retry-After ${r.headers.get('retry-after')}`,
  );
  // Neither a stack nor where the database is.
  assert.doesNotMatch(r.text, /\n\s+at |tartarus-pg|PGSQL/, what);
}

test('a PostgreSQL outage: 503 with Retry-After while it is down, recovery by itself, nothing lost', async (t) => {
  const skip = postgresUnavailable() ?? (await containerSkipReason());
  if (skip) return t.skip(skip);
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-outage-'));
  const runtime = new Runtime({
    stateDir: join(dir, 'runtime'),
    templateDir: join(dir, 'templates'),
  });
  const log = recordingLogger();
  let pg: PostgresServer | undefined;
  let store: Store | undefined;
  let server: ServerHandle | undefined;
  let agent: Agent | undefined;
  try {
    pg = await startPostgres();
    store = await openStore({
      backend: 'postgres',
      connectionString: await pg.createDatabase(),
      log,
    });
    const { adminKey } = await bootstrap(store, dir);
    server = await startServer({
      store,
      log,
      config: { port: 0, agentTokens: [TOKEN], ...LIVENESS },
    });
    const url = server.url;
    agent = new Agent(
      {
        serverUrl: `ws://127.0.0.1:${server.port}/v1/agent/connect`,
        token: TOKEN,
        nodeId: 'node-pg',
        maxReconnectDelayMs: 300,
      },
      new RuntimeAdapter(runtime),
    );
    await agent.start();
    await eventually(
      async () =>
        (await call(url, undefined, 'GET', '/readyz')).status === 200 ? true : undefined,
      30_000,
      'readyz',
    );

    const run = await call(url, adminKey, 'POST', '/v1/runs', {
      body: { command: `sleep ${RUN_SLEEP_S}; echo done` },
    });
    assert.equal(run.status, 201, run.text);
    await eventually(
      async () =>
        (await call(url, adminKey, 'GET', `/v1/runs/${run.json.id}`)).json.state === 'running'
          ? true
          : undefined,
      30_000,
      'the run to start',
    );

    await pg.halt();
    const downAt = Date.now();
    assertUnavailable(await call(url, adminKey, 'GET', '/v1/runs'), 'GET /v1/runs');
    assertUnavailable(
      await call(url, adminKey, 'POST', '/v1/runs', { body: { command: 'true' } }),
      'POST /v1/runs',
    );
    assertUnavailable(await call(url, undefined, 'GET', '/readyz'), 'GET /readyz');
    assert.equal((await call(url, undefined, 'GET', '/healthz')).status, 200, 'liveness stays up');
    // The run ends while the database is down: its output and result wait in the server.
    await delay(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));

    await pg.resume();
    const list = await eventually(
      async () => {
        const r = await call(url, adminKey, 'GET', '/v1/runs');
        return r.status === 200 ? r : undefined;
      },
      15_000,
      'the API to answer again',
    );
    assert.ok(list.json.items.some((r: { id: string }) => r.id === run.json.id));
    const final = await eventually(
      async () => {
        const r = (await call(url, adminKey, 'GET', `/v1/runs/${run.json.id}?output=true`)).json;
        return ['succeeded', 'failed', 'cancelled', 'dead'].includes(r.state) ? r : undefined;
      },
      15_000,
      'the run to finish',
    );
    assert.equal(final.state, 'succeeded', JSON.stringify(final));
    assert.equal(
      final.attempts,
      1,
      'the result of the attempt that ran through the outage is the one kept',
    );
    assert.equal(final.stdout, 'done\n');
    const after = await call(url, adminKey, 'POST', '/v1/runs', { body: { command: 'true' } });
    assert.equal(after.status, 201, after.text);

    const errors = log.lines.filter((l) => l.level === 'error');
    assert.deepEqual(errors, [], 'no error lines: the outage is expected, not a failure');
    const warned = log.lines
      .filter((l) => l.level === 'warn' && /database cannot be reached/.test(l.msg))
      .map((l) => l.msg.split(':')[0]);
    assert.ok(warned.length > 0, 'the outage is logged');
    assert.equal(
      new Set(warned).size,
      warned.length,
      `one warning per outage per loop: ${warned.join(', ')}`,
    );
  } finally {
    agent?.close();
    await server?.close();
    await store?.close();
    await pg?.stop();
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
