/**
 * Distributed mode with two server replicas on one PostgreSQL and one Redis (both real, started
 * here), and a real agent (runc) connected to replica A only. A client that only ever talks to
 * replica B can create a sandbox, exec in it (buffered and streamed), use its files, kill it,
 * follow a run's logs and cancel a run: B relays to A through Redis. With Redis down, what needs
 * the relay answers 503 saying why, while runs are still accepted and finish; once Redis is back
 * the relay works again without a restart. The API's rate limit is one bucket across replicas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, RuntimeAdapter } from '@tartarus/agent';
import { Runtime } from '@tartarus/runtime';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { Sandbox, Tartarus } from '@tartarus/sdk';
import { bootstrap, openStore, startServer, type ServerHandle, type Store } from '@tartarus/server';
import { postgresUnavailable, startPostgres, type PostgresServer } from '@tartarus/server/testing/postgres';
import { redisUnavailable, startRedis, type RedisServer } from '@tartarus/server/testing/redis';
import { call, containerSkipReason, eventually } from './helpers.js';

const TOKEN = 'e2e-agent-token-cluster-0123456789abcdef';

interface Cluster {
  a: ServerHandle;
  b: ServerHandle;
  adminKey: string;
  redis: RedisServer;
  runtime: Runtime;
}

/** PostgreSQL, Redis, replicas A and B (each its own store pool, as two processes would have), and an agent on A when `agent`. */
async function withCluster(o: { agent: boolean; config?: Record<string, unknown> }, fn: (c: Cluster) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-cluster-'));
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  const stores: Store[] = [];
  const servers: ServerHandle[] = [];
  let agent: Agent | undefined;
  const runtime = new Runtime({ stateDir: join(dir, 'node-1'), templateDir: testTemplateDir() });
  try {
    pg = await startPostgres();
    redis = await startRedis();
    const db = await pg.createDatabase('cluster');
    for (let i = 0; i < 2; i++) stores.push(await openStore({ backend: 'postgres', connectionString: db }));
    const { adminKey } = await bootstrap(stores[0] as Store, dir);
    for (const store of stores) servers.push(await startServer({ store, config: { port: 0, agentTokens: [TOKEN], ...o.config }, redis: redis.url }));
    const [a, b] = servers as [ServerHandle, ServerHandle];
    if (o.agent) {
      agent = new Agent({ serverUrl: `ws://127.0.0.1:${a.port}/v1/agent/connect`, token: TOKEN, nodeId: 'node-1', name: 'node-1' }, new RuntimeAdapter(runtime));
      await agent.start();
    }
    await fn({ a, b, adminKey: adminKey ?? '', redis, runtime });
  } finally {
    if (agent !== undefined) {
      agent.close();
      await agent.settle();
      for (const info of await runtime.list().catch(() => [])) await runtime.destroy(info.runtime, info.id).catch(() => undefined);
      await agent.release().catch(() => undefined);
    }
    await runtime.cleanupOrphans().catch(() => undefined);
    for (const s of servers) await s.close();
    for (const s of stores) await s.close();
    await redis?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function skipReason(): string | undefined {
  return postgresUnavailable() ?? redisUnavailable() ?? undefined;
}

test('cluster: a client of replica B reaches the node connected to replica A; Redis down is a clear 503 and loses no run', async (t) => {
  const skip = skipReason() ?? (await containerSkipReason());
  if (skip) return t.skip(skip);
  await withCluster({ agent: true }, async ({ a, b, adminKey, redis, runtime }) => {
    const client = new Tartarus({ url: b.url, apiKey: adminKey });
    await eventually(async () => ((await client.nodes.list()).some((n) => n.status === 'up') ? true : undefined), 30_000, 'the node up');

    // B is ready without an agent of its own, and lists the node's templates through A.
    assert.equal((await fetch(`${b.url}/readyz`)).status, 200);
    const busybox = (await client.templates.list()).find((x) => x.name === 'busybox');
    assert.equal(busybox?.built, true, JSON.stringify(busybox));

    // A sandbox created, used and killed through B only.
    const sbx = await Sandbox.create({ url: b.url, apiKey: adminKey, template: 'busybox', timeoutMs: 120_000 });
    let streamed = '';
    const r = await sbx.commands.run('echo out; echo err >&2; exit 3', { onStdout: (d) => (streamed += d) });
    assert.deepEqual([r.exitCode, r.stdout, r.stderr, streamed], [3, 'out\n', 'err\n', 'out\n']);
    await sbx.files.write('/tmp/greeting', 'hello from B\n');
    assert.equal(await sbx.files.read('/tmp/greeting'), 'hello from B\n');
    const cat = await sbx.commands.run(['cat'], { background: true });
    cat.sendStdin('ping\n');
    cat.closeStdin();
    assert.equal((await cat.wait()).stdout, 'ping\n');

    // A run followed through B; another cancelled through B (its agent is told to stop it).
    const run = await client.runs.submit({ argv: ['sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.2; done'], template: 'busybox' });
    let out = '';
    for await (const e of client.runs.followLogs(run.id)) out += e.data;
    assert.equal(out, '1\n2\n3\n');
    const long = await client.runs.submit({ argv: ['sleep', '300'], template: 'busybox' });
    await eventually(async () => ((await client.runs.get(long.id)).state === 'running' ? true : undefined), 30_000, 'the long run running');
    await client.runs.cancel(long.id);
    await eventually(async () => ((await runtime.list()).some((s) => s.id.includes(long.id)) ? undefined : true), 30_000, "the cancelled run's sandbox gone from the node");

    // Redis down: B cannot reach the node, and says so; runs are still accepted and finish.
    await redis.halt();
    const refused = await call(b.url, adminKey, 'POST', `/v1/sandboxes/${sbx.id}/exec`, { body: { argv: ['true'] } });
    assert.equal(refused.status, 503, refused.text);
    assert.match((refused.json as { error: { message: string } }).error.message, /Redis cannot be reached/);
    const accepted = await client.runs.submit({ argv: ['echo', 'while Redis is down'], template: 'busybox' });
    const done = await eventually(async () => {
      const got = await client.runs.get(accepted.id, { output: true });
      return got.state === 'succeeded' ? got : undefined;
    }, 60_000, 'the run accepted while Redis is down to finish');
    assert.equal(done.stdout, 'while Redis is down\n');
    // A's own node needs no Redis.
    assert.equal((await call(a.url, adminKey, 'POST', `/v1/sandboxes/${sbx.id}/exec`, { body: { argv: ['true'] } })).status, 200);

    // Redis back: B relays again, with no restart of either replica.
    await redis.resume();
    const again = await eventually(async () => {
      const res = await call(b.url, adminKey, 'POST', `/v1/sandboxes/${sbx.id}/exec`, { body: { argv: ['echo', 'back'] } });
      return res.status === 200 ? res : undefined;
    }, 30_000, 'B relaying again after Redis came back');
    assert.match(again.text, /back/);

    await sbx.kill();
    await eventually(async () => ((await runtime.list()).some((s) => s.id === sbx.id) ? undefined : true), 30_000, 'the killed sandbox gone from the node');
    assert.equal((await client.sandboxes.get(sbx.id)).state, 'killed');
  });
});

test('cluster: one rate-limit bucket per key across replicas', async (t) => {
  const skip = skipReason();
  if (skip) return t.skip(skip);
  await withCluster({ agent: false, config: { rateLimitPerSec: 1, rateLimitBurst: 20 } }, async ({ a, b, adminKey }) => {
    // 30 requests, half to each replica: each alone would allow them all (15 < 20); together they pass 20.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => call(i % 2 === 0 ? a.url : b.url, adminKey, 'GET', '/v1/runs')));
    // The bucket refills 1 a second: a loaded machine that takes longer lets that many more through.
    const refilled = Math.ceil((Date.now() - started) / 1000);
    const limited = answers.filter((x) => x.status === 429);
    assert.ok(limited.length >= Math.max(1, 9 - refilled) && limited.length <= 12, `${limited.length} of 30 limited in ${Date.now() - started} ms`);
    assert.ok(answers.every((x) => x.status === 200 || x.status === 429), answers.map((x) => x.status).join(','));
    assert.match(limited[0]?.headers.get('retry-after') ?? '', /^\d+$/);
  });
});
