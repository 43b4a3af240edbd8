/**
 * The agents connected to this server, by node id. Routes reach a sandbox's agent through here;
 * the scheduler reads free capacity from here. Distributed mode keeps this per replica and relays
 * between replicas; embedded mode has one agent on loopback.
 */
import type { WebSocket } from '@fastify/websocket';
import {
  SandboxNotRunningError,
  TartarusError,
  type AgentCallEvent,
  type AgentCallInput,
  type AgentCallName,
  type AgentCallOutput,
  type ServerMessage,
} from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { AgentAuth } from './agent-auth.js';
import { AgentConnection } from './connection.js';

/** Where a node's port proxy takes tunnels (dial.ts). */
export interface NodeProxyRef {
  nodeId: string;
  proxy: { address: string; secret: string } | null;
}

/** The nodes connected to other server replicas (distributed mode: cluster/node-relay.ts). */
export interface RemoteNodes {
  call<N extends AgentCallName>(nodeId: string, name: N, input: AgentCallInput<N>, options: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void }): Promise<AgentCallOutput<N>>;
  /** Sends `message` to the node's agent; `release`: work the holder stops counting there. */
  send(nodeId: string, message: ServerMessage, release?: string): Promise<void>;
  proxy(nodeId: string): Promise<NodeProxyRef | undefined>;
  joined(nodeId: string): Promise<void>;
  left(nodeId: string): Promise<void>;
}

/** An agent to call, connected here or to another replica. */
export interface AgentCaller {
  readonly nodeId: string;
  call<N extends AgentCallName>(name: N, input: AgentCallInput<N>, options?: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void }): Promise<AgentCallOutput<N>>;
}

/** Connected agents. */
export class AgentHub {
  /** The other replicas' nodes, when there are other replicas. */
  private remote: RemoteNodes | undefined;
  /** Agents past `hello`, by node id. */
  private readonly connections = new Map<string, AgentConnection>();
  /** Every open agent socket, also those still in `hello` (a revoked token closes them too). */
  private readonly sockets = new Set<AgentConnection>();

  constructor(private readonly ctx: ServerContext) {}

  /** Takes over an agent socket authenticated as `auth` (its `hello` is checked against it). */
  accept(socket: WebSocket, auth: AgentAuth): void {
    const conn = new AgentConnection(this.ctx, socket, auth, {
      ready: (c) => {
        // A reconnect replaces the older socket of the same node (its token allowed this node).
        const old = this.connections.get(c.nodeId);
        this.connections.set(c.nodeId, c);
        if (old && old !== c) old.close();
        this.ctx.metrics.agentsConnected.set(this.connections.size);
        this.ctx.log.info({ nodeId: c.nodeId }, 'agent connected');
        void this.remote?.joined(c.nodeId);
        this.ctx.bus.schedule();
      },
      closed: (c) => {
        this.sockets.delete(c);
        const current = this.connections.get(c.nodeId) === c;
        if (current) this.connections.delete(c.nodeId);
        this.ctx.metrics.agentsConnected.set(this.connections.size);
        if (current) this.ctx.log.info({ nodeId: c.nodeId }, 'agent disconnected');
        if (current) void this.remote?.left(c.nodeId);
      },
    });
    this.sockets.add(conn);
  }

  /** Closes every connection that authenticated with node token `tokenId` (just revoked). */
  dropToken(tokenId: string): void {
    for (const c of this.sockets) if (c.auth.tokenId === tokenId) c.revoked();
  }

  /**
   * Closes the connections whose node token was revoked elsewhere (through another server
   * replica): one store read, only when some connection holds a node token.
   */
  async dropRevoked(): Promise<void> {
    const held = new Set<string>();
    for (const c of this.sockets) if (c.auth.tokenId !== undefined) held.add(c.auth.tokenId);
    if (held.size === 0) return;
    const live = new Set(
      (await this.ctx.store.nodeTokens.list()).filter((t) => t.revokedAt === null).map((t) => t.id),
    );
    for (const id of held) if (!live.has(id)) this.dropToken(id);
  }

  /** Every connected agent. */
  list(): AgentConnection[] {
    return [...this.connections.values()];
  }

  /** Whether at least one agent is connected (for /readyz). */
  hasAgents(): boolean {
    return this.connections.size > 0;
  }

  /** The agent of `nodeId`, or undefined when not connected here. */
  get(nodeId: string): AgentConnection | undefined {
    return this.connections.get(nodeId);
  }

  /** Whether this server is one replica of several (joined through Redis). */
  get clustered(): boolean {
    return this.remote !== undefined;
  }

  /** Reaches the nodes of other replicas through `remote` from now on. */
  useRemote(remote: RemoteNodes | undefined): void {
    this.remote = remote;
  }

  /** Sends `message` to the agent of `nodeId`, here or through the replica holding it, and stops counting work `release` there. Dropped when no one holds the node (its lease lapses). */
  async send(nodeId: string, message: ServerMessage, release?: string): Promise<void> {
    const conn = this.connections.get(nodeId);
    if (conn !== undefined) {
      conn.send(message);
      if (release !== undefined) conn.release(release);
      return;
    }
    await this.remote?.send(nodeId, message, release).catch(() => undefined);
  }

  /** Stops counting work `workId` on `nodeId` when the node is connected here (each replica's sweeper releases what ended on its own nodes). */
  release(nodeId: string, workId: string): void {
    const conn = this.connections.get(nodeId);
    if (conn !== undefined) conn.release(workId);
  }

  /** Where `nodeId`'s port proxy is: from its connection here, or from the replica holding it; undefined when no one does. */
  async proxyOf(nodeId: string | null): Promise<NodeProxyRef | undefined> {
    if (nodeId === null) return undefined;
    const conn = this.connections.get(nodeId);
    if (conn !== undefined) return conn;
    return this.remote?.proxy(nodeId);
  }

  /** Calls `name` on the node holding a sandbox (connected here or to another replica); a 409 when no one holds it. */
  call<N extends AgentCallName>(
    nodeId: string | null,
    name: N,
    input: AgentCallInput<N>,
    options: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void } = {},
  ): Promise<AgentCallOutput<N>> {
    const conn = nodeId === null ? undefined : this.connections.get(nodeId);
    if (!conn && nodeId !== null && this.remote !== undefined) return this.remote.call(nodeId, name, input, options);
    if (!conn) {
      return Promise.reject(
        new SandboxNotRunningError(
          'the node holding this sandbox is not connected; retry once it is back',
          {
            retryable: true,
            context: { nodeId },
          },
        ),
      );
    }
    return conn.call(name, input, options);
  }

  /**
   * Any node's agent to call (templates are per node; embedded mode has one): one connected here,
   * else, with other replicas, a node that is up and held by one of them.
   */
  async any(): Promise<AgentCaller> {
    const first = this.connections.values().next();
    if (!first.done) return first.value;
    if (this.remote !== undefined) {
      for (const n of await this.ctx.store.nodes.list({ status: 'up' })) {
        if ((await this.remote.proxy(n.id)) !== undefined) {
          return { nodeId: n.id, call: (name, input, options = {}) => this.call(n.id, name, input, options) };
        }
      }
    }
    throw new TartarusError('unavailable', 'no agent is connected; start one and retry', { retryable: true });
  }

  /** Whether this replica can reach some node: one connected here, or (with other replicas) any node that is up. */
  async reachesAgents(): Promise<boolean> {
    if (this.connections.size > 0) return true;
    if (this.remote === undefined) return false;
    return (await this.ctx.store.nodes.list({ status: 'up' })).length > 0;
  }

  /** Closes every connection. */
  closeAll(): void {
    for (const c of this.sockets) c.close();
    this.connections.clear();
  }
}
