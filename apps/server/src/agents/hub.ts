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
} from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { AgentAuth } from './agent-auth.js';
import { AgentConnection } from './connection.js';

/** Connected agents. */
export class AgentHub {
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
        this.ctx.bus.schedule();
      },
      closed: (c) => {
        this.sockets.delete(c);
        const current = this.connections.get(c.nodeId) === c;
        if (current) this.connections.delete(c.nodeId);
        this.ctx.metrics.agentsConnected.set(this.connections.size);
        if (current) this.ctx.log.info({ nodeId: c.nodeId }, 'agent disconnected');
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

  /** Calls `name` on the node holding a sandbox; a 409 when the node is not connected. */
  call<N extends AgentCallName>(
    nodeId: string | null,
    name: N,
    input: AgentCallInput<N>,
    options: { timeoutMs?: number; onEvent?: (e: AgentCallEvent<N>) => void } = {},
  ): Promise<AgentCallOutput<N>> {
    const conn = nodeId === null ? undefined : this.connections.get(nodeId);
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

  /** Any connected agent (templates are per node; embedded mode has one). */
  any(): AgentConnection {
    const first = this.connections.values().next();
    if (first.done)
      throw new TartarusError('unavailable', 'no agent is connected; start one and retry', {
        retryable: true,
      });
    return first.value;
  }

  /** Closes every connection. */
  closeAll(): void {
    for (const c of this.sockets) c.close();
    this.connections.clear();
  }
}
