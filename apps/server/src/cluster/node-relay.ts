/**
 * Requests for a node whose agent is connected to another server replica (distributed mode). Each
 * replica keeps, in Redis, which nodes it holds (`tartarus:node:<id>`: the replica and the node's
 * port proxy, refreshed every few seconds, expiring when the replica is gone) and listens on its
 * own channel. A call for a node held elsewhere is published on the holder's channel; the holder
 * makes it on its agent socket and publishes the call's events and reply back. So exec, files,
 * kill, cancel and the port proxy work whichever replica a client reaches.
 *
 * While Redis is down such requests answer 503 (RedisDownError); those for this replica's own
 * nodes do not need Redis. A holder that stops answering fails the call with `unavailable`.
 */
import { randomUUID } from 'node:crypto';
import {
  isErrorCode,
  SandboxNotRunningError,
  TartarusError,
  type AgentCallEvent,
  type AgentCallInput,
  type AgentCallName,
  type AgentCallOutput,
  type ServerMessage,
} from '@tartarus/core';
import type { AgentHub, NodeProxyRef, RemoteNodes } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { RedisDownError, type RedisLink } from './redis.js';

/** How often a holder refreshes its nodes' entries, ms; they expire after three missed refreshes. */
const REFRESH_MS = 5_000;
const ENTRY_TTL_MS = 3 * REFRESH_MS;
/** More than a call's own timeout that a caller waits for the holder's reply, ms. */
const SLACK_MS = 5_000;
/** How often a caller of a call without a time limit checks that its holder still holds the node, ms. */
const HOLDER_CHECK_MS = 5_000;

const nodeKey = (nodeId: string): string => `tartarus:node:${nodeId}`;

/** The replica an entry names no longer listens (it stopped or restarted; its node is about to be held anew): a 503 with Retry-After. */
class ReplicaGoneError extends TartarusError {
  readonly retryAfterMs = 1000;
}
function gone(nodeId: string): TartarusError {
  return new ReplicaGoneError('unavailable', `the server replica holding node ${nodeId} is gone (stopped or restarted); retry shortly, once the node has reconnected`, { retryable: true });
}
const replicaChannel = (replicaId: string): string => `tartarus:replica:${replicaId}`;

interface Entry {
  replica: string;
  proxy: { address: string; secret: string } | null;
}

type Request =
  | { t: 'call'; id: string; from: string; nodeId: string; name: AgentCallName; input: unknown; timeoutMs?: number; events: boolean }
  | { t: 'send'; nodeId: string; message: ServerMessage; release?: string };
type Reply = { t: 'event'; id: string; event: string; data: unknown } | { t: 'reply'; id: string; ok: boolean; result?: unknown; error?: { code: string; message: string } };

interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onEvent?: (e: { event: string; data: unknown }) => void;
  timers: NodeJS.Timeout[];
}

/** This replica's side of the relay: the directory of its nodes, its channel, its calls waiting on others. */
export class NodeRelay implements RemoteNodes {
  private readonly waiting = new Map<string, Waiting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly redis: RedisLink,
    private readonly hub: AgentHub,
    readonly replicaId: string,
  ) {}

  /** Listens on this replica's channel and starts keeping its nodes' entries. */
  start(): void {
    this.redis.subscribe(replicaChannel(this.replicaId), (m) => this.onMessage(m));
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
    // Entries are written again as soon as Redis answers and this replica hears its channel (at start, and
    // after an outage: a Redis restarted empty). Replies due while it could not hear are lost: their calls fail now.
    this.redis.onListening(() => void this.refresh());
    this.redis.onDeaf(() => {
      for (const [id, w] of this.waiting) this.settle(id, w, new RedisDownError('the reply of a call relayed to another server replica was lost'));
    });
    void this.refresh();
  }

  /** Stops; this replica's entries are removed (its agents reconnect elsewhere). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.hub.list()) await this.left(c.nodeId);
    for (const [id, w] of this.waiting) this.settle(id, w, new TartarusError('unavailable', 'the server is shutting down; retry', { retryable: true }));
  }

  /** Writes the entry of every node connected here again (they expire unless refreshed). */
  private async refresh(): Promise<void> {
    for (const c of this.hub.list()) await this.joined(c.nodeId);
  }

  /** A node connected here: its entry names this replica at once. */
  async joined(nodeId: string): Promise<void> {
    const conn = this.hub.get(nodeId);
    if (conn === undefined || !this.redis.listening) return;
    const entry: Entry = { replica: this.replicaId, proxy: conn.proxy };
    await this.redis.commands.set(nodeKey(nodeId), JSON.stringify(entry), 'PX', ENTRY_TTL_MS).catch(() => undefined);
  }

  /** A node left this replica: its entry goes, if it is still this replica's. */
  async left(nodeId: string): Promise<void> {
    if (!this.redis.ready) return;
    const key = nodeKey(nodeId);
    const held = await this.entry(nodeId).catch(() => undefined);
    if (held?.replica === this.replicaId) await this.redis.commands.del(key).catch(() => undefined);
  }

  async call<N extends AgentCallName>(nodeId: string, name: N, input: AgentCallInput<N>, options: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void }): Promise<AgentCallOutput<N>> {
    const holder = await this.holder(nodeId, `the call to node ${nodeId} (connected to another server replica) cannot be routed`);
    const id = randomUUID();
    const timeoutMs = options.timeoutMs ?? this.ctx.config.agentRequestTimeoutMs;
    const reply = new Promise<unknown>((resolve, reject) => {
      const w: Waiting = { resolve, reject, timers: [], ...(options.onEvent ? { onEvent: options.onEvent as Waiting['onEvent'] } : {}) };
      if (timeoutMs > 0) {
        w.timers.push(setTimeout(() => this.settle(id, w, new TartarusError('unavailable', `the server replica holding node ${nodeId} did not answer within ${timeoutMs + SLACK_MS} ms; retry`, { retryable: true })), timeoutMs + SLACK_MS));
      } else {
        w.timers.push(setInterval(() => void this.checkHolder(id, w, nodeId, holder.replica), HOLDER_CHECK_MS));
      }
      this.waiting.set(id, w);
    });
    const request: Request = { t: 'call', id, from: this.replicaId, nodeId, name, input, events: options.onEvent !== undefined, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) };
    const heard = await this.redis.publish(replicaChannel(holder.replica), JSON.stringify(request));
    const w = this.waiting.get(id);
    if (heard < 0 && w) this.settle(id, w, new RedisDownError(`the call to node ${nodeId} (connected to another server replica) cannot be routed`));
    else if (heard === 0 && w) this.settle(id, w, gone(nodeId));
    return reply as Promise<AgentCallOutput<N>>;
  }

  async send(nodeId: string, message: ServerMessage, release?: string): Promise<void> {
    const holder = await this.holder(nodeId, `the message to node ${nodeId} (connected to another server replica) cannot be routed`);
    const request: Request = { t: 'send', nodeId, message, ...(release === undefined ? {} : { release }) };
    const heard = await this.redis.publish(replicaChannel(holder.replica), JSON.stringify(request));
    if (heard < 0) throw new RedisDownError(`the message to node ${nodeId} cannot be routed`);
    if (heard === 0) throw gone(nodeId);
  }

  async proxy(nodeId: string): Promise<NodeProxyRef | undefined> {
    if (!this.redis.listening) throw new RedisDownError(`node ${nodeId} (connected to another server replica) cannot be reached`);
    const e = await this.entry(nodeId).catch(() => {
      throw new RedisDownError(`node ${nodeId} (connected to another server replica) cannot be reached`);
    });
    return e === undefined ? undefined : { nodeId, proxy: e.proxy };
  }

  /** The entry of `nodeId`, or undefined when no replica holds it. */
  private async entry(nodeId: string): Promise<Entry | undefined> {
    const raw = await this.redis.commands.get(nodeKey(nodeId));
    return raw === null ? undefined : (JSON.parse(raw) as Entry);
  }

  /** The replica holding `nodeId`: a 503 while Redis is down, the usual "not connected" when none does. */
  private async holder(nodeId: string, what: string): Promise<Entry> {
    if (!this.redis.listening) throw new RedisDownError(what);
    const e = await this.entry(nodeId).catch(() => {
      throw new RedisDownError(what);
    });
    if (e === undefined || e.replica === this.replicaId) {
      throw new SandboxNotRunningError('the node holding this sandbox is not connected; retry once it is back', { retryable: true, context: { nodeId } });
    }
    return e;
  }

  private async checkHolder(id: string, w: Waiting, nodeId: string, replica: string): Promise<void> {
    if (!this.redis.ready) return;
    const e = await this.entry(nodeId).catch(() => undefined);
    if (e?.replica !== replica) this.settle(id, w, new TartarusError('unavailable', `the server replica holding node ${nodeId} went away during the call; retry`, { retryable: true }));
  }

  private settle(id: string, w: Waiting, err: Error | undefined, value?: unknown): void {
    if (this.waiting.get(id) !== w) return;
    this.waiting.delete(id);
    for (const t of w.timers) clearTimeout(t);
    if (err === undefined) w.resolve(value);
    else w.reject(err);
  }

  private onMessage(raw: string): void {
    let m: Request | Reply;
    try {
      m = JSON.parse(raw) as Request | Reply;
    } catch {
      return;
    }
    if (m.t === 'call') void this.serve(m);
    else if (m.t === 'send') {
      const conn = this.hub.get(m.nodeId);
      conn?.send(m.message);
      if (m.release !== undefined) conn?.release(m.release);
    } else if (m.t === 'event') this.waiting.get(m.id)?.onEvent?.({ event: m.event, data: m.data });
    else if (m.t === 'reply') {
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      const code = m.error !== undefined && isErrorCode(m.error.code) ? m.error.code : 'internal';
      this.settle(m.id, w, m.ok ? undefined : new TartarusError(code, m.error?.message ?? 'the call failed without a message', { retryable: code === 'unavailable' || code === 'sandbox_not_running' }), m.result);
    }
  }

  /** Makes a call another replica relayed here, on this replica's agent socket, and answers it. */
  private async serve(m: Extract<Request, { t: 'call' }>): Promise<void> {
    const to = replicaChannel(m.from);
    const answer = (r: Reply): void => void this.redis.publish(to, JSON.stringify(r));
    const conn = this.hub.get(m.nodeId);
    if (conn === undefined) {
      return answer({ t: 'reply', id: m.id, ok: false, error: { code: 'sandbox_not_running', message: 'the node holding this sandbox is not connected; retry once it is back' } });
    }
    try {
      const onEvent = m.events ? (e: { event: string; data: unknown }) => answer({ t: 'event', id: m.id, event: e.event, data: e.data }) : undefined;
      const result = await conn.call(m.name, m.input as never, { ...(m.timeoutMs === undefined ? {} : { timeoutMs: m.timeoutMs }), ...(onEvent ? { onEvent: onEvent as never } : {}) });
      answer({ t: 'reply', id: m.id, ok: true, result });
    } catch (err) {
      const e = err instanceof TartarusError ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error).message };
      answer({ t: 'reply', id: m.id, ok: false, error: e });
    }
  }
}
