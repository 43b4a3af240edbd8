/**
 * Test fixture: an agent that speaks the protocol itself over a real WebSocket, with whatever
 * token and node id a test gives it — so tests can also play an agent that lies about its node.
 * It answers `listTemplates` (busybox) so runs and sandboxes pass admission; everything else the
 * server sends waits in its inbox for `next`.
 */
import {
  AGENT_PROTOCOL_VERSION,
  ServerMessageSchema,
  type AgentMessage,
  type ServerMessage,
} from '@tartarus/core';
import WebSocket from 'ws';

/** How a socket ended. */
export interface Closed {
  code: number;
  reason: string;
}

/** One fake agent's socket. */
export interface FakeAgent {
  ws: WebSocket;
  send(m: AgentMessage): void;
  /** The next message of `type` from the server (waits up to `timeoutMs`, default 5 s). */
  next<T extends ServerMessage['type']>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>>;
  /** Resolves when the socket closes, with the server's code and reason. */
  closed: Promise<Closed>;
  /** `closed`, or `open` when the socket is still open after `timeoutMs` (default 5 s). */
  closedWithin(timeoutMs?: number): Promise<Closed | 'open'>;
  /** Says `hello` as `nodeId`: `reconciled`, or how the server closed the socket instead. */
  /** Says hello as `nodeId`, named `name` (default: the id). */
  hello(nodeId: string, name?: string): Promise<'reconciled' | Closed>;
}

/** Thrown by `openAgent` when the server refuses the upgrade (e.g. 401 for a bad token). */
export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`agent socket refused with HTTP ${status}`);
  }
}

function helloMessage(nodeId: string, name = nodeId): AgentMessage {
  return {
    type: 'hello',
    protocolVersion: AGENT_PROTOCOL_VERSION,
    nodeId,
    name,
    runtimes: ['container'],
    capacity: { cpu: 1, memoryMiB: 1024, diskMiB: 0, slots: 4 },
    labels: {},
    capabilities: {},
    inventory: [],
  };
}

/** Opens `/v1/agent/connect` of `url` with `token`. Rejects with `UpgradeRefused` when refused. */
export async function openAgent(url: string, token: string): Promise<FakeAgent> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent/connect`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const inbox: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const closed = new Promise<Closed>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => {
      resolve({ code, reason: reason.toString() });
      wake();
    }),
  );
  const send = (m: AgentMessage) => ws.send(JSON.stringify(m));
  ws.on('message', (raw: Buffer) => {
    const msg = ServerMessageSchema.parse(JSON.parse(raw.toString()));
    if (msg.type === 'request' && msg.call.name === 'listTemplates') {
      const result = [{ name: 'busybox', description: '', built: true }];
      return ws.send(JSON.stringify({ type: 'reply', requestId: msg.requestId, ok: true, result }));
    }
    inbox.push(msg);
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new UpgradeRefused(res.statusCode ?? 0));
    });
    ws.once('error', reject);
  });
  const next = async <T extends ServerMessage['type']>(type: T, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>;
      if (ws.readyState >= WebSocket.CLOSING) throw new Error(`socket closed waiting for ${type}`);
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  const hello = async (nodeId: string, name?: string) => {
    send(helloMessage(nodeId, name));
    return Promise.race([next('reconcile').then(() => 'reconciled' as const), closed]);
  };
  const closedWithin = (timeoutMs = 5000) =>
    Promise.race([
      closed,
      new Promise<'open'>((r) => setTimeout(() => r('open'), timeoutMs).unref()),
    ]);
  return { ws, send, next, closed, closedWithin, hello };
}

/** What an agent reports when an attempt's process exits with `exitCode`. */
export function attemptResult(exitCode: number) {
  return {
    exitCode,
    reason: 'exited' as const,
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    startedAtMs: 0,
    finishedAtMs: 0,
    durationMs: 0,
  };
}
