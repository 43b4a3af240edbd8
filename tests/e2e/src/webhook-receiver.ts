/**
 * A webhook receiver for the tests: a real HTTP server on loopback that keeps every request it
 * got (path, headers, raw body) and answers each with what `answer` says (default 200).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Event } from '@tartarus/sdk';

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as sent. */
  raw: string;
  /** The body, parsed. */
  body: Event;
}

/** A running receiver. */
export interface Receiver {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  got: Received[];
  /** The requests to `path`. */
  at(path: string): Received[];
  close(): Promise<void>;
}

/** Starts a receiver on `port` (0: a free one); `answer` gives each request's status. */
export async function startReceiver(answer: (r: Received) => number = () => 200, port = 0): Promise<Receiver> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const r: Received = { path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) as Event };
      got.push(r);
      const status = answer(r);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'thanks' : `no: ${status}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    got,
    at: (path) => got.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on now (bound once, then released), for a receiver that is down. */
export async function freePort(): Promise<number> {
  const r = await startReceiver();
  await r.close();
  return r.port;
}
