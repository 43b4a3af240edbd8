/**
 * The sandboxes' resolver: a relay on the gateway's port 53 (UDP and TCP) that forwards each
 * query as it is to the host's resolvers and each answer back (no cache, no parsing: the
 * upstream resolver does the work; the relay only makes it reachable from inside a sandbox,
 * which cannot reach the host's own addresses, loopback included). The one exception: network
 * groups' service names, and anything under `.internal`, are answered here (dns-names.ts) —
 * also when the host has no resolver, when everything else gets SERVFAIL. One per machine: the
 * Runtime that binds it first serves every sandbox (the names tables are machine-wide files);
 * the others try again every few seconds and take over when it goes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { ServiceNameAnswers, servfail } from './dns-names.js';

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
  private readonly names = new ServiceNameAnswers();

  constructor(
    private readonly address: string,
    private readonly upstream: string[],
  ) {}

  /** Starts serving (or trying to); resolves once the first attempt is done. */
  async start(): Promise<void> {
    if (this.udp || this.retry || this.closed) return;
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
    const tcp = createServer((client) => this.serveTcp(client));
    tcp.on('error', () => undefined);
    tcp.listen({ host: this.address, port: 53 });
    this.udp = udp;
    this.tcp = tcp;
    return true;
  }

  /** One UDP query: answered here (a service name), else forwarded; the answer goes back from the relay's socket. */
  private relayUdp(server: Socket, msg: Buffer, clientAddress: string, clientPort: number): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    this.inFlight++;
    void this.names
      .answer(msg, clientAddress)
      .catch(() => undefined)
      .then((ours) => {
        if (ours === undefined && this.upstream.length > 0) return this.forwardUdp(server, msg, clientAddress, clientPort);
        const answer = ours ?? servfail(msg);
        if (answer !== undefined) server.send(answer, clientPort, clientAddress);
        this.inFlight--;
      });
  }

  private forwardUdp(server: Socket, msg: Buffer, clientAddress: string, clientPort: number): void {
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

  /**
   * One TCP connection: its first query (2-byte length, then the message) decides. A service
   * name is answered and the connection closed (a client asks again on a new one); anything else
   * is piped upstream from that first byte on, as before.
   */
  private serveTcp(client: TcpSocket): void {
    client.setTimeout(UPSTREAM_TIMEOUT_MS, () => client.destroy());
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 2 || head.length < 2 + head.readUInt16BE(0)) return;
      client.off('data', onData);
      client.pause();
      const msg = head.subarray(2, 2 + head.readUInt16BE(0));
      void this.names
        .answer(msg, client.remoteAddress ?? '')
        .catch(() => undefined)
        .then((ours) => {
          if (ours !== undefined || this.upstream.length === 0) {
            const answer = ours ?? servfail(msg);
            if (answer === undefined) client.end();
            else client.end(framed(answer));
            return;
          }
          const { host, port } = hostPort(this.upstream[0] ?? '');
          const up = createConnection({ host, port });
          up.setTimeout(UPSTREAM_TIMEOUT_MS, () => up.destroy());
          client.on('error', () => up.destroy());
          up.on('error', () => client.destroy());
          client.setTimeout(0);
          up.write(head);
          client.pipe(up).pipe(client);
          client.resume();
        });
    };
    client.on('data', onData);
  }
}

/** A DNS message as TCP carries it: its length first. */
function framed(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}
