/**
 * The sandboxes' resolver: a relay on the gateway's port 53 (UDP and TCP) that forwards each
 * query as it is to the host's resolvers and each answer back (no cache, no parsing: the
 * upstream resolver does the work; the relay only makes it reachable from inside a sandbox,
 * which cannot reach the host's own addresses, loopback included). One per machine: the
 * Runtime that binds it first serves every sandbox; the others try again every few seconds and
 * take over when it goes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server } from 'node:net';

/** How long an upstream answer is waited for, ms. */
const UPSTREAM_TIMEOUT_MS = 5000;
/** Queries in flight at once; more are dropped (the client retries). */
const MAX_IN_FLIGHT = 1024;
/** How often a Runtime that could not bind tries again, ms. */
const RETRY_MS = 3000;

function hostPort(server: string): { host: string; port: number } {
  const [host = '', port] = server.split(':');
  return { host, port: port === undefined ? 53 : Number(port) };
}

/** A UDP+TCP DNS relay on `address:53` to `upstream[0]` (the first resolver). */
export class DnsRelay {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private retry: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly address: string,
    private readonly upstream: string[],
  ) {}

  /** Starts serving (or trying to); resolves once the first attempt is done. */
  async start(): Promise<void> {
    if (this.udp || this.retry || this.closed || this.upstream.length === 0) return;
    if (!(await this.bind())) {
      this.retry = setInterval(() => void this.bind().then((ok) => ok && clearInterval(this.retry)), RETRY_MS);
      this.retry.unref();
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.retry);
    this.udp?.close();
    this.tcp?.close();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private async bind(): Promise<boolean> {
    if (this.closed) return true;
    const udp = createSocket({ type: 'udp4' });
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind({ address: this.address, port: 53, exclusive: true }, () => resolve(true));
    });
    if (!bound) {
      udp.close();
      return false;
    }
    udp.on('error', () => undefined);
    udp.on('message', (msg, from) => this.relayUdp(udp, msg, from.address, from.port));
    const tcp = createServer((client) => {
      const { host, port } = hostPort(this.upstream[0] ?? '');
      const up = createConnection({ host, port });
      up.setTimeout(UPSTREAM_TIMEOUT_MS, () => up.destroy());
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.pipe(up).pipe(client);
    });
    tcp.on('error', () => undefined);
    tcp.listen({ host: this.address, port: 53 });
    this.udp = udp;
    this.tcp = tcp;
    return true;
  }

  private relayUdp(server: Socket, msg: Buffer, clientAddress: string, clientPort: number): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    this.inFlight++;
    const { host, port } = hostPort(this.upstream[0] ?? '');
    const up = createSocket('udp4');
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.inFlight--;
      up.close();
    };
    const timer = setTimeout(done, UPSTREAM_TIMEOUT_MS);
    up.on('error', done);
    up.once('message', (answer) => {
      server.send(answer, clientPort, clientAddress);
      done();
    });
    up.send(msg, port, host);
  }
}
