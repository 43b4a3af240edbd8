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
  const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
  socket.setTimeout(DIAL_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(formatTunnelRequest({ secret, sandboxId, port }));
    const reply = parseTunnelReply(await readTunnelLine(socket));
    if (!reply.ok) throw new DialError(reply.status, reply.message);
    socket.setTimeout(0);
    socket.removeAllListeners('error');
    return socket;
  } catch (err) {
    socket.destroy();
    if (err instanceof DialError) throw err;
    throw new DialError(502, `the node proxy of ${conn.nodeId} cannot be reached: ${(err as Error).message}`);
  }
}
