/**
 * The node proxy: where the server's port proxy reaches this node's sandboxes. A TCP listener
 * (loopback by default; on a fleet, an address the servers can reach) speaking the tunnel of
 * `@tartarus/core`'s tunnel.ts: one line naming the sandbox and port with the secret this agent
 * gave in its `hello`, then the bytes of the connection, piped to the sandbox's address on its
 * network (in the kernel once it carries bulk: the runtime's network/relay.ts). Only sandboxes
 * this agent runs, only with a network, only with the secret.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { formatTunnelReply, parseTunnelRequest, readTunnelLine } from '@tartarus/core/base';
import { SocketRelays } from '@tartarus/runtime';

/** How long a tunnel has to send its line, and a sandbox's port to accept, ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Finds the address of a sandbox this node runs; undefined when it has no network. Throws when it is not here. */
export type AddressOf = (sandboxId: string) => Promise<string | undefined>;
/** Marks a sandbox busy (awake) for one connection; resolves with the function that ends that. */
export type HoldSandbox = (sandboxId: string) => Promise<() => void>;

/** What the agent advertises in `hello`: where to connect and what to present. */
export interface NodeProxyAdvert {
  address: string;
  secret: string;
}

/** A running node proxy. */
export class NodeProxy {
  private readonly server: Server;
  private readonly secret = randomBytes(24).toString('base64url');
  private readonly open = new Set<Socket>();
  private readonly relays = new SocketRelays();

  constructor(
    private readonly addressOf: AddressOf,
    private readonly holdSandbox?: HoldSandbox,
  ) {
    // Half-open both ways: a client that ends its side still gets the whole answer.
    this.server = createServer({ allowHalfOpen: true }, (socket) => void this.serve(socket));
  }

  /** Listens on `listen` (`host:port`, port 0 for any); resolves to what to advertise. */
  async start(listen: string, advertiseHost?: string): Promise<NodeProxyAdvert> {
    const i = listen.lastIndexOf(':');
    const host = listen.slice(0, i);
    const port = Number(listen.slice(i + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => resolve());
    });
    const bound = this.server.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : port;
    return { address: `${advertiseHost ?? host}:${boundPort}`, secret: this.secret };
  }

  close(): void {
    this.server.close();
    for (const s of this.open) s.destroy();
    this.relays.close();
  }

  private async serve(client: Socket): Promise<void> {
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    client.setTimeout(HANDSHAKE_TIMEOUT_MS, () => client.destroy());
    const fail = (status: number, message: string): void => {
      client.end(formatTunnelReply({ status, message }));
    };
    let line: string;
    try {
      line = await readTunnelLine(client);
    } catch {
      client.destroy();
      return;
    }
    const req = parseTunnelRequest(line);
    if (!req || !this.secretMatches(req.secret)) return fail(403, 'the tunnel did not present this node proxy secret');
    let address: string | undefined;
    try {
      const hold = this.holdSandbox?.(req.sandboxId);
      // Released when the connection ends, even while the sandbox is still waking.
      client.once('close', () => void hold?.then((release) => release(), () => undefined));
      // A wake takes its time: the handshake's timer waits for it.
      client.setTimeout(0);
      await hold;
      client.setTimeout(HANDSHAKE_TIMEOUT_MS, () => client.destroy());
      address = await this.addressOf(req.sandboxId);
    } catch (err) {
      return fail(409, (err as Error).message);
    }
    if (address === undefined) return fail(409, `sandbox ${req.sandboxId} has no network (it was created with egress "none"): its ports cannot be reached`);
    // A server on this node connects to the sandbox itself.
    if (req.direct) return void client.end(formatTunnelReply(undefined, address));
    const upstream = connect({ host: address, port: req.port, allowHalfOpen: true });
    upstream.setTimeout(HANDSHAKE_TIMEOUT_MS, () => upstream.destroy(new Error('timed out')));
    // Before it connects, a failure is the client's answer; after, it ends the tunnel.
    upstream.once('error', (err) => fail(502, `nothing answers on port ${req.port} of sandbox ${req.sandboxId} (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.setTimeout(0);
      upstream.removeAllListeners('error');
      client.write(formatTunnelReply());
      void this.relays.join(client, upstream);
    });
  }

  private secretMatches(given: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(this.secret);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
