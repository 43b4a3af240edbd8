/**
 * Stand-ins for outside services (GitHub's API, Slack's response and webhook URLs) for the
 * integration tests: real HTTP servers on loopback that record every request and answer what the
 * test tells them to.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the stand-in received. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** How the stand-in answers a request: status, body (bytes or JSON), headers. */
export type Answer = { status: number; body?: Buffer | string | object; headers?: Record<string, string> };

/** A running stand-in. */
export interface StandIn {
  url: string;
  received: Received[];
  /** Requests whose path starts with `prefix`. */
  to(prefix: string): Received[];
  close(): Promise<void>;
}

/** Starts a stand-in on loopback; `answer` decides each response (default 200 `{}`). */
export async function startStandIn(answer: (r: Received) => Answer = () => ({ status: 200, body: {} })): Promise<StandIn> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const a = answer(r);
      const body = a.body === undefined ? '' : Buffer.isBuffer(a.body) || typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': Buffer.isBuffer(a.body) ? 'application/octet-stream' : 'application/json', ...a.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    to: (prefix) => received.filter((r) => r.path.startsWith(prefix)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
