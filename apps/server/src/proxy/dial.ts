/**
 * Opens a tunnel to a port of a sandbox: a TCP connection to its node's proxy (advertised in the
 * agent's hello), the tunnel line, and its answer (`@tartarus/core`'s tunnel.ts). Resolves to a
 * socket carrying the client's bytes to the sandbox's port; rejects with an error that carries
 * the HTTP status the proxy answers.
 */
import { connect, type Socket } from 'node:net';
import { formatTunnelRequest, parseTunnelReply, readTunnelLine } from '@tartarus/core/base';
import type { NodeProxyRef } from '../agents/hub.js';

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

/** The node proxy's address of `conn`, and whether it is on this machine (the server then reaches sandboxes itself). */
function nodeProxy(conn: NodeProxyRef | undefined, sandboxId: string): { host: string; port: number; secret: string; local: boolean; nodeId: string } {
  if (!conn) throw new DialError(503, `the node of sandbox ${sandboxId} is not connected; retry shortly`);
  if (!conn.proxy) throw new DialError(502, `node ${conn.nodeId} has no port proxy (an agent older than this server?)`);
  const { address, secret } = conn.proxy;
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  return { host, port: Number(address.slice(i + 1)), secret, local: /^(127\.|\[?::1\]?$|localhost$)/.test(host), nodeId: conn.nodeId };
}

/** Sends the tunnel line for `port` of `sandboxId` on a new connection to the node proxy; resolves to the connection and its answer. */
async function handshake(node: ReturnType<typeof nodeProxy>, sandboxId: string, port: number): Promise<{ socket: Socket; direct: string | undefined }> {
  // Half-open: a client that ends its side still gets the whole answer.
  const socket = connect({ host: node.host, port: node.port, allowHalfOpen: true, noDelay: true });
  socket.setTimeout(DIAL_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // On the node itself the server reaches the sandbox's network: the node proxy only checks and answers with its address.
    socket.write(formatTunnelRequest({ secret: node.secret, sandboxId, port, direct: node.local }));
    const reply = parseTunnelReply(await readTunnelLine(socket));
    if (!reply.ok) throw new DialError(reply.status, reply.message);
    return { socket, direct: reply.direct };
  } catch (err) {
    socket.destroy();
    if (err instanceof DialError) throw err;
    throw new DialError(502, `the node proxy of ${node.nodeId} cannot be reached: ${(err as Error).message}`);
  }
}

/** Opens the tunnel to `port` of `sandboxId` on the node of `conn`. */
export async function dialSandbox(conn: NodeProxyRef | undefined, sandboxId: string, port: number): Promise<Socket> {
  const { socket, direct } = await handshake(nodeProxy(conn, sandboxId), sandboxId, port);
  if (direct !== undefined) {
    socket.destroy();
    return connectTo(direct, port, sandboxId);
  }
  socket.setTimeout(0);
  socket.removeAllListeners('error');
  return socket;
}

/**
 * The address of `sandboxId` on this machine's bridge, checked by its node proxy like a dial (for
 * what a TCP tunnel cannot carry: UDP). A sandbox on another node is a 502: only this machine's
 * sandboxes are reached by address.
 */
export async function localSandboxAddress(conn: NodeProxyRef | undefined, sandboxId: string, port: number): Promise<string> {
  const node = nodeProxy(conn, sandboxId);
  if (!node.local) throw new DialError(502, `sandbox ${sandboxId} runs on node ${node.nodeId}, another machine: UDP is relayed only to this machine's sandboxes`);
  const { socket, direct } = await handshake(node, sandboxId, port);
  socket.destroy();
  if (direct === undefined) throw new DialError(502, `the node proxy of ${node.nodeId} did not give the address of ${sandboxId}`);
  return direct;
}

/** Connects to a sandbox's port on this node; a refusal is the 502 the node proxy would give. */
async function connectTo(address: string, port: number, sandboxId: string): Promise<Socket> {
  const socket = connect({ host: address, port, allowHalfOpen: true, noDelay: true });
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
