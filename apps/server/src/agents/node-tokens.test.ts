/**
 * Agent tokens bound to nodes, end to end against a real server, real SQLite and real WebSockets
 * (the test plays the agents): a token speaks only for its node, a shared token never for a node
 * with a token of its own, a revoked token's connection is closed at once, and a node's reports
 * about work placed on another node change nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap } from '../bootstrap.js';
import type { ServerConfigInput } from '../config.js';
import { startServer, type ServerHandle } from '../server.js';
import { openStore, type Store } from '../store/index.js';
import { attemptResult, openAgent, UpgradeRefused, type FakeAgent } from '../testing/fake-agent.js';

const SHARED = 'shared-agent-token-0123456789';
const BOUND_A = 'bound-agent-token-for-node-a-0123';

/** The fields of API answers these tests read. */
interface Answer {
  id: string;
  state: string;
  nodeId: string;
  attempts: number;
  stdout?: string;
  secret: string;
  createdAt: string;
  items: { id: string; nodeId?: string; action?: string; target?: string | null }[];
}

interface Env {
  server: ServerHandle;
  store: Store;
  /** Calls the API as the bootstrap admin. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Answer }>;
  /** Opens an agent socket (closed after the test). */
  agent(token: string): Promise<FakeAgent>;
}

async function withServer(config: ServerConfigInput, fn: (env: Env) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'tt-node-tokens-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const server = await startServer({ store, config: { port: 0, leaseMs: 60_000, ...config } });
  const agents: FakeAgent[] = [];
  try {
    const { adminKey } = await bootstrap(store, dir);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Answer };
    };
    const agent = async (token: string) => {
      const a = await openAgent(server.url, token);
      agents.push(a);
      return a;
    };
    await fn({ server, store, api, agent });
  } finally {
    for (const a of agents) a.ws.terminate();
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The agent connected as `nodeId` (asserts it was not refused). */
async function connected(env: Env, token: string, nodeId: string): Promise<FakeAgent> {
  const a = await env.agent(token);
  assert.equal(await a.hello(nodeId), 'reconciled', `${nodeId} connects`);
  return a;
}

/** Asserts the server closes `a`'s socket at `hello` as `nodeId` with a policy refusal. */
async function refused(env: Env, token: string, nodeId: string, says: RegExp): Promise<void> {
  const a = await env.agent(token);
  const r = await a.hello(nodeId);
  assert.notEqual(r, 'reconciled', `hello as ${nodeId} must be refused`);
  if (r === 'reconciled') return;
  assert.equal(r.code, 1008);
  assert.match(r.reason, says);
}

test('a node token speaks only for its node; the node it names keeps its connection', () =>
  withServer({}, async (env) => {
    const a = await env.store.nodeTokens.create('node-a');
    const b = await env.store.nodeTokens.create('node-b');
    const agentA = await connected(env, a.secret, 'node-a');
    await refused(
      env,
      b.secret,
      'node-a',
      /bound to node node-b; it cannot connect as node node-a/,
    );
    await refused(
      env,
      a.secret,
      'node-b',
      /bound to node node-a; it cannot connect as node node-b/,
    );
    assert.equal(env.server.hub.get('node-b'), undefined);
    // node-a's own connection was never replaced: it still gets the work.
    assert.equal(agentA.ws.readyState, agentA.ws.OPEN);
    const run = await env.api('POST', '/v1/runs', { argv: ['true'] });
    assert.equal((await agentA.next('start')).workId, run.json.id);
  }));

test('a shared token cannot connect as a node that has a token of its own', () =>
  withServer({ agentTokens: [SHARED, `node-d=${BOUND_A}`] }, async (env) => {
    const a = await env.store.nodeTokens.create('node-a');
    await connected(env, a.secret, 'node-a');
    await refused(env, SHARED, 'node-a', /node node-a has its own agent token/);
    await refused(env, SHARED, 'node-d', /node node-d has its own agent token/);
    assert.equal(env.server.hub.list().length, 1);
    await connected(env, SHARED, 'node-c');
    // Once node-a's only token is revoked, node-a is an unprovisioned node again.
    await env.store.nodeTokens.revoke(a.token.id);
    await connected(env, SHARED, 'node-a');
  }));

test('revoking a node token closes its connection at once and refuses it afterwards', () =>
  withServer({ sweepIntervalMs: 100 }, async (env) => {
    const created = await env.api('POST', '/v1/nodes/tokens', { nodeId: 'node-a' });
    assert.equal(created.status, 201);
    assert.match(created.json.secret, /^tt_node_/);
    const listed = await env.api('GET', '/v1/nodes/tokens');
    assert.deepEqual(listed.json.items, [
      { id: created.json.id, nodeId: 'node-a', createdAt: created.json.createdAt, revokedAt: null },
    ]);
    const agentA = await connected(env, created.json.secret, 'node-a');
    assert.equal((await env.api('DELETE', `/v1/nodes/tokens/${created.json.id}`)).status, 204);
    assert.deepEqual(await agentA.closedWithin(), { code: 1008, reason: 'agent token revoked' });
    // The server forgets the node once the closing handshake completes.
    for (let i = 0; i < 100 && env.server.hub.get('node-a') !== undefined; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(env.server.hub.get('node-a'), undefined);
    await assert.rejects(
      env.agent(created.json.secret),
      (e) => (e as UpgradeRefused).status === 401,
    );
    assert.equal((await env.api('DELETE', `/v1/nodes/tokens/${created.json.id}`)).status, 204);
    assert.equal((await env.api('DELETE', '/v1/nodes/tokens/ntk_missing')).status, 404);
    const audit = await env.api('GET', '/v1/audit');
    const entry = audit.json.items.find((e) => e.action === 'node.token.create');
    assert.equal(entry?.target, created.json.id);
    assert.ok(!JSON.stringify(audit.json).includes(created.json.secret), 'no secret in the audit');
    // Revoked through another replica (straight in the store): the sweeper closes it.
    const again = await env.store.nodeTokens.create('node-a');
    const agentA2 = await connected(env, again.secret, 'node-a');
    await env.store.nodeTokens.revoke(again.token.id);
    assert.deepEqual(await agentA2.closedWithin(), { code: 1008, reason: 'agent token revoked' });
  }));

test('a bound config token NODE_ID=TOKEN works for that node only', () =>
  withServer({ agentTokens: [`node-a=${BOUND_A}`] }, async (env) => {
    await refused(env, BOUND_A, 'node-b', /bound to node node-a/);
    await connected(env, BOUND_A, 'node-a');
    await assert.rejects(env.agent(`node-a=${BOUND_A}`), (e) => e instanceof UpgradeRefused);
  }));


test("reports from one node about another node's run or sandbox change nothing", () =>
  withServer({}, async (env) => {
    const [a, b] = [
      await env.store.nodeTokens.create('node-a'),
      await env.store.nodeTokens.create('node-b'),
    ];
    const agentA = await connected(env, a.secret, 'node-a');
    const run = (await env.api('POST', '/v1/runs', { argv: ['x'] })).json;
    const startRun = await agentA.next('start');
    const creating = env.api('POST', '/v1/sandboxes', {});
    const startSbx = await agentA.next('start');
    assert.deepEqual([startRun.workId, startSbx.workId.slice(0, 4)], [run.id, 'sbx_']);
    const agentB = await connected(env, b.secret, 'node-b');
    const [runRef, sbxRef] = [startRun, startSbx].map((s) => ({
      workId: s.workId,
      epoch: s.epoch,
    }));
    agentB.send({ type: 'started', ...runRef!, sandboxId: startRun.sandboxId });
    agentB.send({
      type: 'output',
      ...runRef!,
      stream: 'stdout',
      data: 'forged\n',
      timeMs: 0,
      seq: 1,
    });
    agentB.send({ type: 'finished', ...runRef!, result: attemptResult(0) });
    agentB.send({
      type: 'failed',
      ...runRef!,
      reason: 'error',
      code: 'internal',
      message: 'forged',
      retryable: false,
    });
    agentB.send({
      type: 'failed',
      ...sbxRef!,
      reason: 'error',
      code: 'internal',
      message: 'forged',
      retryable: false,
    });
    agentB.send({ type: 'finished', ...sbxRef!, result: attemptResult(0) });
    agentB.send({ type: 'started', ...sbxRef!, sandboxId: startSbx.sandboxId });
    agentB.send({ type: 'heartbeat', work: [runRef!] });
    // Reports are handled in order: three stops mean all of them were.
    const stops = [await agentB.next('stop'), await agentB.next('stop'), await agentB.next('stop')];
    assert.deepEqual(stops.map((s) => s.workId).sort(), [run.id, run.id, startSbx.workId].sort());
    const stillLeased = (await env.api('GET', `/v1/runs/${run.id}?output=true`)).json;
    assert.deepEqual([stillLeased.state, stillLeased.attempts], ['leased', 1]);
    assert.ok(!String(stillLeased.stdout ?? '').includes('forged'));
    const sbx = (await env.api('GET', `/v1/sandboxes/${startSbx.workId}`)).json;
    assert.deepEqual([sbx.state, sbx.nodeId], ['requested', 'node-a']);
    // node-a's own reports still count.
    agentA.send({ type: 'started', ...runRef!, sandboxId: startRun.sandboxId });
    agentA.send({
      type: 'output',
      ...runRef!,
      stream: 'stdout',
      data: 'real\n',
      timeMs: 0,
      seq: 1,
    });
    agentA.send({ type: 'finished', ...runRef!, result: attemptResult(0) });
    agentA.send({ type: 'started', ...sbxRef!, sandboxId: startSbx.sandboxId });
    const created = await creating;
    assert.deepEqual([created.status, created.json.state], [201, 'running']);
    let done = stillLeased;
    for (let i = 0; i < 100 && !['succeeded', 'failed', 'dead'].includes(done.state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      done = (await env.api('GET', `/v1/runs/${run.id}?output=true`)).json;
    }
    assert.deepEqual([done.state, done.stdout], ['succeeded', 'real\n']);
  }));

test('an agent whose name another node has is refused with the reason, not left waiting', () =>
  withServer({ agentTokens: [SHARED] }, async (env) => {
    await connected(env, SHARED, 'node-one');
    const twin = await env.agent(SHARED);
    const r = await twin.hello('node-two', 'node-one');
    assert.notEqual(r, 'reconciled');
    if (r === 'reconciled') return;
    assert.equal(r.code, 1008);
    assert.match(r.reason, /another node is registered as node-one/);
  }));
