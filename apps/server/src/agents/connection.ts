/**
 * The server's side of one agent's WebSocket: handshake (`hello`, checked against the node its
 * token is bound to, → reconcile), then the agent's reports in arrival order (one at a time, so
 * log chunks keep their order), and the server's requests with their replies. Reports are fenced
 * in the store by epoch and node; a stale one is answered with `stop` so the agent stops work
 * nobody will commit. While the database cannot be reached a report is tried again until it is
 * stored, and the ones behind it wait: the agent sent it once and will not send it again.
 */
import type { WebSocket } from '@fastify/websocket';
import {
  AGENT_PROTOCOL_VERSION,
  AgentMessageSchema,
  ConflictError,
  NODE_ID_LABEL,
  type AgentCallEvent,
  type AgentCallInput,
  type AgentCallName,
  type AgentCallOutput,
  type AgentMessage,
  type ResourceRequests,
  type ServerMessage,
} from '@tartarus/core';
import type { ServerContext } from '../context.js';
import { agentMaxMessageBytes } from '../http/app.js';
import type { NodeResources } from '../store/index.js';
import { StoreOutageLog } from '../store/outage-log.js';
import { helloRefusal, type AgentAuth } from './agent-auth.js';
import { appendOutput, handleWorkReport, type OutputMessage } from './work-reports.js';
import { reconcileNode, type Hello } from './reconcile.js';
import { PendingCalls } from './pending.js';

/** Work placed on a node: what it reserves and whose it is (fair share counts it). */
export interface PlacedWork {
  workId: string;
  tenantId: string;
  requests: ResourceRequests;
}

/** A message as received: validated, or why it is not valid. */
type Parsed = { ok: true; msg: AgentMessage } | { ok: false; error: string };

/** Validates one message as it arrives (so that messages waiting in the inbox can be batched). */
function parse(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'message is not JSON' };
  }
  const parsed = AgentMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, msg: parsed.data }
    : { ok: false, error: `invalid message: ${parsed.error.issues[0]?.message ?? ''}` };
}

/** WebSocket close code of a refused `hello` or a revoked token (RFC 6455: policy violation). */
export const CLOSE_POLICY = 1008;
/** WebSocket close code "try again later" (RFC 6455 registry): too many reports held for the database. */
const CLOSE_TRY_AGAIN_LATER = 1013;

/** First and longest wait before a report the database could not take is applied again, ms. */
const STORE_RETRY_FIRST_MS = 250;
const STORE_RETRY_MAX_MS = 2000;
/**
 * Messages one connection holds while the database cannot be reached; past this the agent is
 * told to reconnect later (as many as the agent itself keeps while disconnected).
 */
const MAX_HELD_MESSAGES = 10_000;

/** One outage log per server for all its agents' reports: one warning per outage, not one per node. */
const outages = new WeakMap<ServerContext, StoreOutageLog>();
function outageLog(ctx: ServerContext): StoreOutageLog {
  let log = outages.get(ctx);
  if (log === undefined) outages.set(ctx, (log = new StoreOutageLog(ctx.log, 'agent reports')));
  return log;
}

/** What the hub learns about a connection. */
export interface ConnectionEvents {
  /** The agent's `hello` was accepted and reconciled. */
  ready(c: AgentConnection): void;
  /** The socket closed (whether or not it got ready). */
  closed(c: AgentConnection): void;
}

/** One connected agent. */
export class AgentConnection {
  nodeId = '';
  runtimes: string[] = [];
  capacity: NodeResources = { cpu: 0, memoryMiB: 0, slots: 0 };
  labels: Record<string, string> = {};
  /** Where the node's proxy takes port tunnels (`host:port`) and the secret it wants; null: none advertised. */
  proxy: { address: string; secret: string } | null = null;
  /** Work (runs and sandboxes) placed on this node and not yet ended, by work id. */
  readonly work = new Map<string, PlacedWork>();
  private readonly pending = new PendingCalls();
  /** Messages received, validated, and not yet handled (handled one at a time, in order). */
  private readonly inbox: Parsed[] = [];
  private draining = false;
  private ready = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly socket: WebSocket,
    /** What the agent's token proves (bound node, store token id). */
    readonly auth: AgentAuth,
    private readonly events: ConnectionEvents,
  ) {
    socket.on('message', (raw: Buffer) => {
      this.inbox.push(parse(raw.toString('utf8')));
      // After the messages of the same socket read are in too (ws emits them synchronously), so
      // output chunks that came together are appended together.
      queueMicrotask(() => void this.drain());
    });
    socket.on('close', () => {
      this.pending.failAll(`node ${this.nodeId || '(unnamed)'} disconnected; retry`);
      events.closed(this);
    });
  }

  /** Slots not taken by runs or sandboxes. */
  freeSlots(): number {
    return this.capacity.slots - this.work.size;
  }

  /** Records work placed here. */
  hold(w: PlacedWork): void {
    this.work.set(w.workId, w);
  }

  /** Forgets work that ended or moved (idempotent). */
  release(workId: string): void {
    this.work.delete(workId);
  }

  /** What the work placed here reserves. */
  reserved(): ResourceRequests {
    const r = { cpu: 0, memoryMiB: 0, diskMiB: 0 };
    for (const w of this.work.values()) {
      r.cpu += w.requests.cpu;
      r.memoryMiB += w.requests.memoryMiB;
      r.diskMiB += w.requests.diskMiB;
    }
    return r;
  }

  /** Sends a message (dropped if the socket is closed: the lease/heartbeat machinery recovers). */
  send(message: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Calls `name` on the agent; resolves with its validated reply. */
  call<N extends AgentCallName>(
    name: N,
    input: AgentCallInput<N>,
    options: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void } = {},
  ): Promise<AgentCallOutput<N>> {
    const { requestId, reply } = this.pending.create(
      name,
      options.timeoutMs ?? this.ctx.config.agentRequestTimeoutMs,
      options.onEvent,
    );
    this.send({ type: 'request', requestId, call: { name, input } });
    return reply;
  }

  /** Closes the socket (server shutting down). */
  close(): void {
    this.socket.close(1001, 'server shutting down');
  }

  /** Closes the socket because its token was revoked (idempotent). */
  revoked(): void {
    if (this.socket.readyState >= this.socket.CLOSING) return;
    this.ctx.log.warn(
      { nodeId: this.nodeId, tokenId: this.auth.tokenId },
      'agent token revoked: connection closed',
    );
    this.socket.close(CLOSE_POLICY, 'agent token revoked');
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) {
        const parsed = next;
        // Taken now, so that a retry applies the same chunks.
        const batch = parsed.ok && parsed.msg.type === 'output' ? this.takeOutputBatch(parsed.msg) : [];
        await this.applyUntilStored(() => this.receive(parsed, batch));
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Applies one message; while the database cannot be reached, again and again (1/4 s, doubling
   * to 2 s) until it is stored, the socket closes, or too many messages wait behind it.
   */
  private async applyUntilStored(apply: () => Promise<void>): Promise<void> {
    const outage = outageLog(this.ctx);
    for (let waitMs = STORE_RETRY_FIRST_MS; ; waitMs = Math.min(2 * waitMs, STORE_RETRY_MAX_MS)) {
      try {
        await apply();
        outage.succeeded();
        return;
      } catch (err) {
        if (!outage.failed(err)) {
          this.ctx.log.error({ err, nodeId: this.nodeId }, 'agent message failed');
          return;
        }
      }
      if (this.socket.readyState !== this.socket.OPEN) return;
      if (this.inbox.length > MAX_HELD_MESSAGES) {
        // The agent keeps what it reports while disconnected and sends it after the next hello.
        this.socket.close(CLOSE_TRY_AGAIN_LATER, 'the database cannot be reached; reconnect later');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /**
   * The `output` messages of the same attempt waiting right behind `first`, taken off the inbox:
   * chunks that arrived together are appended in one store transaction, not one each.
   */
  private takeOutputBatch(first: OutputMessage): OutputMessage[] {
    const batch = [first];
    for (let head = this.inbox[0]; head?.ok === true; head = this.inbox[0]) {
      const m = head.msg;
      if (m.type !== 'output' || m.workId !== first.workId || m.epoch !== first.epoch) break;
      batch.push(m);
      this.inbox.shift();
    }
    return batch;
  }

  /** Handles one message; `outputBatch`: the `output` messages it opens (`takeOutputBatch`). */
  private async receive(parsed: Parsed, outputBatch: OutputMessage[]): Promise<void> {
    if (!parsed.ok) return this.protocolError(parsed.error);
    const msg = parsed.msg;
    if (!this.ready && msg.type !== 'hello')
      return this.protocolError('the first message must be hello');
    switch (msg.type) {
      case 'hello':
        return this.hello(msg);
      case 'output':
        return appendOutput(this.ctx, this, msg.workId, msg.epoch, outputBatch);
      case 'heartbeat':
      case 'started':
      case 'finished':
      case 'failed':
      case 'cleaned':
      case 'usage':
      case 'hibernation':
        return handleWorkReport(this.ctx, this, msg);
      case 'event':
        return this.pending.event(msg.requestId, msg.event, msg.data);
      case 'reply':
        return this.pending.reply(msg.requestId, msg.ok, msg.result, msg.error);
      default: {
        const never: never = msg;
        return this.protocolError(`unknown message ${String(never)}`);
      }
    }
  }

  private async hello(msg: Hello): Promise<void> {
    if (this.ready) return this.protocolError('hello sent twice');
    if (Math.trunc(msg.protocolVersion) !== AGENT_PROTOCOL_VERSION) {
      return this.protocolError(
        `protocol version ${msg.protocolVersion} not supported; this server speaks ${AGENT_PROTOCOL_VERSION}`,
      );
    }
    const refusal = await helloRefusal(this.ctx, this.auth, msg.nodeId);
    if (refusal !== null) return this.refuse(msg.nodeId, refusal);
    this.nodeId = msg.nodeId;
    this.runtimes = msg.runtimes;
    this.capacity = msg.capacity;
    // Its own id as a label too: work is pinned to a node with it (a snapshot's files are there).
    this.labels = { ...msg.labels, [NODE_ID_LABEL]: msg.nodeId };
    this.proxy = proxyAdvert(msg.capabilities?.['proxy']);
    // A node whose registration the store refuses (another node has its name) is told why and closed, not left waiting.
    const reconciled = await reconcileNode(this.ctx, msg).catch((err: unknown) => {
      if (err instanceof ConflictError) return this.refuse(msg.nodeId, err.message);
      throw err;
    });
    if (reconciled === undefined) return;
    const { keep, work } = reconciled;
    // Closed meanwhile (token revoked, agent gone): nothing to register.
    if (this.socket.readyState !== this.socket.OPEN) return;
    for (const w of work) this.hold(w);
    this.send({
      type: 'reconcile',
      heartbeatIntervalMs: this.ctx.config.heartbeatIntervalMs,
      maxMessageBytes: agentMaxMessageBytes(this.ctx.config),
      keep,
    });
    this.ready = true;
    this.events.ready(this);
  }

  /** Closes a socket whose `hello` its token does not allow. */
  private refuse(claimed: string, message: string): void {
    const { nodeId, tokenId } = this.auth;
    this.ctx.log.warn(
      { claimedNodeId: claimed, boundNodeId: nodeId, tokenId, message },
      'agent hello refused',
    );
    this.socket.close(CLOSE_POLICY, closeReason(message));
  }

  private protocolError(message: string): void {
    this.ctx.log.warn({ nodeId: this.nodeId, message }, 'agent protocol error');
    this.socket.close(4400, closeReason(message));
  }
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455). */
function closeReason(message: string): string {
  let r = message.slice(0, 123);
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** The node proxy an agent advertised in its hello capabilities, if well formed. */
function proxyAdvert(v: unknown): { address: string; secret: string } | null {
  if (typeof v !== 'object' || v === null) return null;
  const { address, secret } = v as Record<string, unknown>;
  return typeof address === 'string' && /^[^\s]+:\d{1,5}$/.test(address) && typeof secret === 'string' && secret.length >= 16 ? { address, secret } : null;
}
