/**
 * Cordon, drain and uncordon with two real nodes (a server and two agents in this process, each
 * agent with its own runtime, real runc): a deployment's replica on a drained node is started on
 * the other node first, then the drained one's is stopped, and the service never has fewer replicas
 * running than it wants; a cordoned node takes no new work while what runs there goes on; with
 * every node closed, new work waits queued and runs once one is opened again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, RuntimeAdapter } from '@tartarus/agent';
import { Runtime } from '@tartarus/runtime';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { Tartarus } from '@tartarus/sdk';
import { bootstrap, openStore, startServer, type ServerHandle } from '@tartarus/server';
import { call, containerSkipReason, eventually } from './helpers.js';

const TOKEN = 'e2e-agent-token-drain-0123456789abcdef';

const SPEC = `version: v1
deployment: moving
services:
  web:
    rtype: service
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["while true; do sleep 1; done"]
    scale:
      mode: fixed
      replicas: 1
`;

test('nodes: a drained node hands its replicas over; a cordoned one takes no new work', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const dir = await mkdtemp(join(tmpdir(), 'tt-e2e-drain-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const runtimes = ['node-a', 'node-b'].map((n) => new Runtime({ stateDir: join(dir, n), templateDir: testTemplateDir() }));
  const agents: Agent[] = [];
  let server: ServerHandle | undefined;
  try {
    const { adminKey } = await bootstrap(store, dir);
    server = await startServer({ store, config: { port: 0, agentTokens: [TOKEN] } });
    for (const [i, nodeId] of ['node-a', 'node-b'].entries()) {
      const agent = new Agent({ serverUrl: `ws://127.0.0.1:${server.port}/v1/agent/connect`, token: TOKEN, nodeId, name: nodeId }, new RuntimeAdapter(runtimes[i] as Runtime));
      agents.push(agent);
      await agent.start();
    }
    const url = server.url;
    const client = new Tartarus({ url, apiKey: adminKey });
    await eventually(async () => ((await client.nodes.list()).filter((n) => n.status === 'up').length === 2 ? true : undefined), 30_000, 'both nodes up');
    const nodeOf = async (runId: string): Promise<string | undefined> => (await call(url, adminKey, 'GET', `/v1/runs/${runId}/attempts`)).json.items.at(-1)?.nodeId;

    await client.deployments.apply(SPEC, { file: 'moving.yaml' });
    const first = await eventually(async () => (await client.deployments.runs('moving', { live: true })).find((r) => r.state === 'running'), 60_000, 'the replica running');
    const from = await nodeOf(first.runId);
    assert.ok(from === 'node-a' || from === 'node-b', String(from));
    const to = from === 'node-a' ? 'node-b' : 'node-a';

    // Drain: a replica starts on the other node, then the first one stops; never none running.
    const drained = await client.nodes.drain(from);
    assert.equal(drained.scheduling, 'draining');
    let sawNone = false;
    const moved = await eventually(async () => {
      const live = await client.deployments.runs('moving', { live: true });
      if (!live.some((r) => r.state === 'running')) sawNone = true;
      const fresh = live.find((r) => r.runId !== first.runId && r.state === 'running');
      return fresh !== undefined && !live.some((r) => r.runId === first.runId) ? fresh : undefined;
    }, 60_000, 'the replica moved');
    assert.equal(await nodeOf(moved.runId), to);
    assert.equal(sawNone, false, 'the service always had a replica running');
    assert.equal((await client.runs.get(first.runId)).state, 'cancelled');
    await client.deployments.stop('moving');

    // Cordon the other node too: new work waits queued while no node takes it; what ran goes on.
    assert.equal((await client.nodes.cordon(to)).scheduling, 'cordoned');
    assert.deepEqual((await client.nodes.list()).map((n) => [n.id, n.scheduling]).sort(), [[from, 'draining'], [to, 'cordoned']].sort());
    const waiting = await call(url, adminKey, 'POST', '/v1/runs', { body: { command: 'echo placed' } });
    assert.equal(waiting.status, 201, waiting.text);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await client.runs.get(waiting.json.id)).state, 'queued');

    // Uncordon one: the run is placed there and finishes.
    assert.equal((await client.nodes.uncordon(from)).scheduling, 'active');
    const done = await eventually(async () => {
      const r = await client.runs.get(waiting.json.id);
      return r.state === 'succeeded' ? r : undefined;
    }, 60_000, 'the queued run to run');
    assert.equal(await nodeOf(done.id), from);
    await eventually(async () => ((await client.deployments.get('moving')).state === 'stopped' ? true : undefined), 60_000, 'the deployment stopped');
  } finally {
    for (const a of agents) {
      a.close();
      await a.release().catch(() => undefined);
    }
    await server?.close();
    await store.close();
    for (const r of runtimes) await r.cleanupOrphans().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
