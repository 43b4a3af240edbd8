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
import { AgentConnection } from './connection.js';

/** Connected agents. */
export class AgentHub {
  private readonly connections = new Map<string, AgentConnection>();

  constructor(private readonly ctx: ServerContext) {}

  /** Takes over an authenticated agent socket. */
  accept(socket: WebSocket): void {
    new AgentConnection(
      this.ctx,
      socket,
      (c) => {
        // A reconnect replaces the older socket of the same node.
        const old = this.connections.get(c.nodeId);
        this.connections.set(c.nodeId, c);
        if (old && old !== c) old.close();
        this.ctx.metrics.agentsConnected.set(this.connections.size);
        this.ctx.bus.schedule();
      },
      (c) => {
        if (this.connections.get(c.nodeId) === c) this.connections.delete(c.nodeId);
        this.ctx.metrics.agentsConnected.set(this.connections.size);
      },
    );
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
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
