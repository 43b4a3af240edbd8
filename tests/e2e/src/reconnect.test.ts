/**
 * A server restart under a live agent (distributed mode's case): the agent reconnects, reports
 * its in-flight attempt in `hello`, keeps running it, and the output and result it produced while
 * disconnected are committed — one attempt, nothing rerun, nothing lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, RuntimeAdapter } from '@tartarus/agent';
import { Runtime } from '@tartarus/runtime';
import { bootstrap, openStore, startServer, type ServerHandle } from '@tartarus/server';
import { call, containerSkipReason, eventually } from './helpers.js';

const TOKEN = 'e2e-agent-token-0123456789abcdef';

test('a live agent survives a server restart with its run', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-reconnect-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const runtime = new Runtime({
    stateDir: join(dir, 'runtime'),
    templateDir: join(dir, 'templates'),
  });
  let server: ServerHandle | undefined;
  let agent: Agent | undefined;
  try {
    const { adminKey } = await bootstrap(store, dir);
    server = await startServer({ store, config: { port: 0, agentTokens: [TOKEN] } });
    const port = server.port;
    agent = new Agent(
      {
        serverUrl: `ws://127.0.0.1:${port}/v1/agent/connect`,
        token: TOKEN,
        nodeId: 'node-r',
        maxReconnectDelayMs: 300,
      },
      new RuntimeAdapter(runtime),
    );
    await agent.start();
    const url = server.url;
    const run = await call(url, adminKey, 'POST', '/v1/runs', {
      body: { command: 'echo before; sleep 3; echo after' },
    });
    await eventually(
      async () =>
        (await call(url, adminKey, 'GET', `/v1/runs/${run.json.id}`)).json.state === 'running'
          ? true
          : undefined,
      60_000,
      'the run to start',
    );

    await server.close();
    server = await startServer({ store, config: { port, agentTokens: [TOKEN] } });

    const final = await eventually(
      async () => {
        const r = (await call(url, adminKey, 'GET', `/v1/runs/${run.json.id}?output=true`)).json;
        return ['succeeded', 'failed', 'cancelled', 'dead'].includes(r.state) ? r : undefined;
      },
      60_000,
      'the run to finish',
    );
    assert.equal(final.state, 'succeeded', JSON.stringify(final));
    assert.equal(final.attempts, 1);
    assert.equal(final.stdout, 'before\nafter\n');
  } finally {
    agent?.close();
    await server?.close();
    await store.close();
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
