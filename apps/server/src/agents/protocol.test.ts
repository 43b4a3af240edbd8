/**
 * The agent protocol end to end against a real server and real SQLite, with the test speaking
 * the protocol itself over a WebSocket (as a remote agent would): handshake, lease → start →
 * output → finish, fencing of a stale epoch, and a node that goes silent being marked down with
 * its run requeued to the next node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGENT_PROTOCOL_VERSION,
  ServerMessageSchema,
  type AgentMessage,
  type InventoryItem,
  type ServerMessage,
} from '@tartarus/core';
import WebSocket from 'ws';
import { bootstrap } from '../bootstrap.js';
import { startServer } from '../server.js';
import { openStore } from '../store/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attemptResult } from '../testing/fake-agent.js';

const TOKEN = 'agent-token-for-tests-0123456789';


/** A protocol-speaking test agent. */
async function connectAgent(url: string, nodeId: string, inventory: InventoryItem[] = []) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/agent/connect`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const inbox: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (m: Buffer) => {
    const msg = ServerMessageSchema.parse(JSON.parse(m.toString()));
    // The server checks template names on submit; this agent knows busybox.
    if (msg.type === 'request' && msg.call.name === 'listTemplates') {
      const result = [{ name: 'busybox', description: '', built: true }];
      ws.send(JSON.stringify({ type: 'reply', requestId: msg.requestId, ok: true, result }));
      return;
    }
    inbox.push(msg);
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const send = (m: AgentMessage) => ws.send(JSON.stringify(m));
  const next = async <T extends ServerMessage['type']>(
    type: T,
  ): Promise<Extract<ServerMessage, { type: T }>> => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  send({
    type: 'hello',
    protocolVersion: AGENT_PROTOCOL_VERSION,
    nodeId,
    name: nodeId,
    runtimes: ['container'],
    capacity: { cpu: 1, memoryMiB: 1024, slots: 2 },
    labels: {},
    inventory,
  });
  await next('reconcile');
  // Heartbeats keep the node alive until the socket is gone.
  const beat = setInterval(() => send({ type: 'heartbeat', work: [] }), 50);
  ws.on('close', () => clearInterval(beat));
  return { ws, send, next };
}

async function until(fn: () => Promise<boolean>): Promise<void> {
  while (!(await fn())) await new Promise((r) => setTimeout(r, 50));
}

test('lease, start, output, finish; stale epochs are fenced; a silent node loses its run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tt-proto-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const server = await startServer({
    store,
    config: {
      port: 0,
      agentTokens: [TOKEN],
      nodeDeadlineMs: 2000, // a live node stalled by a loaded machine is not taken for dead
      sweepIntervalMs: 100,
      leaseMs: 60_000,
    },
  });
  const sockets: WebSocket[] = [];
  try {
    const { adminKey } = await bootstrap(store, dir);
    const H = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const submit = async () =>
      (await (
        await fetch(`${server.url}/v1/runs`, {
          method: 'POST',
          headers: H,
          body: JSON.stringify({ argv: ['x'] }),
        })
      ).json()) as { id: string };
    const state = async (id: string) =>
      (await (await fetch(`${server.url}/v1/runs/${id}?output=true`, { headers: H })).json()) as {
        state: string;
        stdout?: string;
        attempts: number;
      };

    const a = await connectAgent(server.url, 'node-a');
    sockets.push(a.ws);
    const run = await submit();
    const start = await a.next('start');
    assert.equal(start.workId, run.id);
    a.send({
      type: 'started',
      workId: run.id,
      epoch: start.epoch,
      sandboxId: start.sandboxId,
    });
    a.send({
      type: 'output',
      workId: run.id,
      epoch: start.epoch,
      stream: 'stdout',
      data: 'hi\n',
      timeMs: Date.now(),
      seq: 1,
    });
    await until(async () => (await state(run.id)).state === 'running');

    // node-a goes silent: past its deadline it is marked down and the run is requeued.
    a.ws.terminate();
    await new Promise((r) => a.ws.once('close', r));
    const b = await connectAgent(server.url, 'node-b');
    sockets.push(b.ws);
    const again = await b.next('start');
    assert.equal(again.workId, run.id);
    assert.ok(again.epoch > start.epoch);

    // A late result from the lost attempt is not committed.
    const late = attemptResult(1);
    b.send({ type: 'finished', workId: run.id, epoch: start.epoch, result: late });
    b.send({
      type: 'started',
      workId: run.id,
      epoch: again.epoch,
      sandboxId: again.sandboxId,
    });
    b.send({
      type: 'output',
      workId: run.id,
      epoch: again.epoch,
      stream: 'stdout',
      data: 'second\n',
      timeMs: Date.now(),
      seq: 1,
    });
    b.send({
      type: 'finished',
      workId: run.id,
      epoch: again.epoch,
      result: attemptResult(0),
    });
    await until(async () => (await state(run.id)).state === 'succeeded');
    const final = await state(run.id);
    assert.equal(final.stdout, 'second\n');
    assert.equal(final.attempts, 2);
  } finally {
    for (const s of sockets) s.terminate();
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a live agent that reconnects keeps its in-flight attempt', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tt-proto-'));
  const store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
  const server = await startServer({ store, config: { port: 0, agentTokens: [TOKEN] } });
  const sockets: WebSocket[] = [];
  try {
    const { adminKey } = await bootstrap(store, dir);
    const H = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const res = await fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: H,
      body: JSON.stringify({ argv: ['x'] }),
    });
    const run = (await res.json()) as { id: string };
    const a = await connectAgent(server.url, 'node-a');
    sockets.push(a.ws);
    const start = await a.next('start');
    a.send({
      type: 'started',
      workId: run.id,
      epoch: start.epoch,
      sandboxId: start.sandboxId,
    });
    a.ws.terminate();
    const again = await connectAgent(server.url, 'node-a', [
      { sandboxId: start.sandboxId, workId: run.id, epoch: start.epoch, state: 'running' },
    ]);
    sockets.push(again.ws);
    const result = attemptResult(0);
    again.send({ type: 'finished', workId: run.id, epoch: start.epoch, result });
    let final: { state: string; attempts: number } | undefined;
    await until(async () => {
      final = (await (await fetch(`${server.url}/v1/runs/${run.id}`, { headers: H })).json()) as {
        state: string;
        attempts: number;
      };
      return final.state === 'succeeded';
    });
    assert.equal(final?.attempts, 1);
  } finally {
    for (const s of sockets) s.terminate();
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
