/**
 * Opens a tunnel to a port of a sandbox: a TCP connection to its node's proxy (advertised in the
 * agent's hello), the tunnel line, and its answer (`@tartarus/core`'s tunnel.ts). Resolves to a
 * socket carrying the client's bytes to the sandbox's port; rejects with an error that carries
 * the HTTP status the proxy answers.
 */
import { connect, type Socket } from 'node:net';
import { formatTunnelRequest, parseTunnelReply, readTunnelLine } from '@tartarus/core/base';
import type { AgentConnection } from '../agents/connection.js';

/** How long the node proxy has to answer, ms. */
const DIAL_TIMEOUT_MS = 15_000;

/** A failed dial, with the status to answer. */
export class DialError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Opens the tunnel to `port` of `sandboxId` on the node of `conn`. */
export async function dialSandbox(conn: AgentConnection | undefined, sandboxId: string, port: number): Promise<Socket> {
  if (!conn) throw new DialError(503, `the node of sandbox ${sandboxId} is not connected; retry shortly`);
  if (!conn.proxy) throw new DialError(502, `node ${conn.nodeId} has no port proxy (an agent older than this server?)`);
  const { address, secret } = conn.proxy;
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  // On the node itself the server reaches the sandbox's network: the node proxy only checks and answers with its address.
  const direct = /^(127\.|\[?::1\]?$|localhost$)/.test(host);
  // Half-open: a client that ends its side still gets the whole answer.
  const socket = connect({ host, port: Number(address.slice(i + 1)), allowHalfOpen: true });
  socket.setTimeout(DIAL_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(formatTunnelRequest({ secret, sandboxId, port, direct }));
    const reply = parseTunnelReply(await readTunnelLine(socket));
    if (!reply.ok) throw new DialError(reply.status, reply.message);
    if (reply.direct !== undefined) {
      socket.destroy();
      return await connectTo(reply.direct, port, sandboxId);
    }
    socket.setTimeout(0);
    socket.removeAllListeners('error');
    return socket;
  } catch (err) {
    socket.destroy();
    if (err instanceof DialError) throw err;
    throw new DialError(502, `the node proxy of ${conn.nodeId} cannot be reached: ${(err as Error).message}`);
  }
}

/** Connects to a sandbox's port on this node; a refusal is the 502 the node proxy would give. */
async function connectTo(address: string, port: number, sandboxId: string): Promise<Socket> {
  const socket = connect({ host: address, port, allowHalfOpen: true });
  socket.setTimeout(DIAL_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    socket.destroy();
    throw new DialError(502, `nothing answers on port ${port} of sandbox ${sandboxId} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  socket.setTimeout(0);
  socket.removeAllListeners('error');
  return socket;
}
