/**
 * Test fixture: a stand-in for Grafana Loki's push API on loopback, over real HTTP. It takes
 * `POST /loki/api/v1/push` as Loki does — JSON (`Content-Type: application/json`), plain, gzip or
 * deflate — checks the body as Loki would (streams of string labels with valid names; values of
 * `[ns as decimal string, line, metadata?]`), answers 204 and records every entry in arrival
 * order. A test can stop it (connection refused, as a Loki that is down), start it again on the
 * same port, make it answer 503, hold requests unanswered, or refuse with 400.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/** One entry Loki would have stored. */
export interface LokiEntry {
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, as sent. */
  ts: string;
  line: string;
  metadata: Record<string, string> | undefined;
}

/** How the stand-in answers a push: 204, 503, never (until the mode changes), or 400. */
export type LokiMode = 'up' | 'unavailable' | 'hang' | 'refuse';

/** A running stand-in. */
export interface LokiStandIn {
  /** `http://127.0.0.1:PORT` (the same across stop and start). */
  readonly url: string;
  /** Every entry taken, in arrival order. */
  readonly entries: LokiEntry[];
  /** Requests received (whatever the answer), with their headers. */
  readonly requests: { headers: IncomingMessage['headers']; status: number }[];
  /** How pushes are answered from now on; held requests are answered 503 when it leaves `hang`. */
  setMode(mode: LokiMode): void;
  /** Stops listening (new connections are refused) and drops open ones. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Resolves once `entries` satisfy `ok`; rejects after `timeoutMs` (default 15 s). */
  waitFor(ok: (entries: readonly LokiEntry[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The entries of a push body, or why Loki would refuse it. */
export function parsePush(body: unknown): LokiEntry[] | string {
  const streams = (body as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) return 'body must be {"streams": [...]}';
  const out: LokiEntry[] = [];
  for (const s of streams as unknown[]) {
    const { stream, values } = (s ?? {}) as { stream?: unknown; values?: unknown };
    if (typeof stream !== 'object' || stream === null) return 'each stream needs "stream": {labels}';
    const labels = stream as Record<string, unknown>;
    if (Object.keys(labels).length === 0) return 'a stream needs at least one label';
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_NAME.test(k) || typeof v !== 'string') return `invalid label ${k}`;
    }
    if (!Array.isArray(values)) return 'each stream needs "values": [[ts, line]]';
    for (const v of values as unknown[]) {
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) return 'a value is [ts, line] or [ts, line, metadata]';
      const [ts, line, metadata] = v as unknown[];
      if (typeof ts !== 'string' || !/^\d{1,19}$/.test(ts)) return `timestamp ${String(ts)} is not nanoseconds as a string`;
      if (typeof line !== 'string') return 'a line must be a string';
      if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((x) => typeof x !== 'string')))
        return 'structured metadata must be an object of strings';
      out.push({ labels: labels as Record<string, string>, ts, line, metadata: metadata as Record<string, string> | undefined });
    }
  }
  return out;
}

/** The request body, decoded as its Content-Encoding says. */
function decode(req: IncomingMessage, raw: Buffer): Buffer {
  switch (req.headers['content-encoding']) {
    case 'gzip':
      return gunzipSync(raw);
    case 'deflate':
      return inflateSync(raw);
    default:
      return raw;
  }
}

/** Starts a stand-in on a free loopback port (mode `up`). */
export async function startLokiStandIn(): Promise<LokiStandIn> {
  const entries: LokiEntry[] = [];
  const requests: LokiStandIn['requests'] = [];
  const held: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  let mode: LokiMode = 'up';
  let server: Server | undefined;
  let port = 0;

  const answer = (res: ServerResponse, status: number, text = ''): void => {
    res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const record = (status: number): void => void requests.push({ headers: req.headers, status });
    if (req.method !== 'POST' || req.url !== '/loki/api/v1/push') return (record(404), answer(res, 404, '404 page not found'));
    if (mode === 'hang') return (record(0), void held.push(res));
    if (mode === 'unavailable') return (record(503), answer(res, 503, 'ingester unavailable'));
    if (mode === 'refuse') return (record(400), answer(res, 400, 'entry too far behind'));
    if (!String(req.headers['content-type']).startsWith('application/json')) return (record(415), answer(res, 415, 'want application/json'));
    let parsed: LokiEntry[] | string;
    try {
      parsed = parsePush(JSON.parse(decode(req, raw).toString('utf8')));
    } catch (err) {
      parsed = `cannot read the body: ${(err as Error).message}`;
    }
    if (typeof parsed === 'string') return (record(400), answer(res, 400, parsed));
    entries.push(...parsed);
    record(204);
    res.writeHead(204).end();
  };
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => handle(req, res, Buffer.concat(chunks)));
      });
      s.on('connection', (c: Socket) => {
        sockets.add(c);
        c.on('close', () => sockets.delete(c));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = undefined;
      for (const res of held.splice(0)) res.destroy();
      for (const c of sockets) c.destroy();
      if (s === undefined) return resolve();
      s.close(() => resolve());
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    entries,
    requests,
    setMode(m) {
      mode = m;
      if (m !== 'hang') for (const res of held.splice(0)) answer(res, 503, 'ingester unavailable');
    },
    stop,
    start: listen,
    async waitFor(ok, timeoutMs = 15_000, what = 'entries') {
      const deadline = Date.now() + timeoutMs;
      while (!ok(entries)) {
        if (Date.now() > deadline) throw new Error(`Loki stand-in: timed out waiting for ${what}; it has ${JSON.stringify(entries.slice(-20))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: stop,
  };
}
