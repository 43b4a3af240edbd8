/**
 * Host-based port URLs (`PORT-ID.<domain>`) at the connection: a new connection's first request
 * head is read before the HTTP server sees it; when it names a sandbox's port, the connection
 * becomes a byte tunnel to that port (one hop of plain piping, no HTTP parsing of what follows:
 * downloads, uploads, server-sent events and WebSocket at the speed of a socket pipe). Every
 * other connection goes on to the HTTP server untouched (the bytes read are put back).
 *
 * The first head is rewritten: the access token and (when it came with one) the API key are
 * removed, X-Forwarded-* added, and — but for an upgrade — `Connection: close`, so that the
 * tunnel carries one request and the client's next one (which may carry the key again) comes
 * on a new connection, checked again.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { dialSandbox } from './dial.js';
import { admit, endWithError, joinSockets, type ProxyDeps } from './proxy.js';
import { matchProxy, TOKEN_HEADER } from './routing.js';

/** Longest first request head read before the HTTP server takes a connection, bytes. */
const HEAD_MAX = 16 * 1024;
/** How long a new connection has to send its first head before the HTTP server takes it, ms. */
const HEAD_WAIT_MS = 10_000;
/** Headers about this hop only: never forwarded from the rewritten head (transfer-encoding stays: the body passes as sent). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization']);

interface Head {
  method: string;
  url: string;
  version: string;
  /** In order, names lowercased. */
  fields: [string, string][];
  /** Bytes after the head (the start of a body, or a WebSocket's first frames). */
  rest: Buffer;
}

/** Reads the first request head of `socket` (paused: what follows stays unread); null when none comes. */
function readHead(socket: Socket): Promise<{ raw: Buffer; head: Head | null }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (head: Head | null): void => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      resolve({ raw: buf, head });
    };
    const onEnd = (): void => done(null);
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end >= 0) return done(parseHead(buf.subarray(0, end).toString('latin1'), buf.subarray(end + 4)));
        if (buf.length > HEAD_MAX) return done(null);
      }
    };
    const timer = setTimeout(() => done(null), HEAD_WAIT_MS);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
  });
}

function parseHead(text: string, rest: Buffer): Head | null {
  const [line = '', ...lines] = text.split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(line);
  if (!m) return null;
  const fields: [string, string][] = [];
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) return null;
    fields.push([l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]);
  }
  return { method: m[1] ?? '', url: m[2] ?? '', version: m[3] ?? '', fields, rest };
}

/** Takes host-based requests at the connection, in front of the server's own connection listener. */
export function installHostTunnel(server: Server, deps: ProxyDeps, domain: string): void {
  const onConnection = server.listeners('connection') as ((s: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    void readHead(socket).then(({ raw, head }) => {
      const host = head?.fields.find(([k]) => k === 'host')?.[1];
      const target = head ? matchProxy(head.url, host, domain) : null;
      if (!head || !target || !host?.toLowerCase().replace(/:\d+$/, '').endsWith(`.${domain}`)) {
        if (raw.length > 0) socket.unshift(raw);
        for (const l of onConnection) l.call(server, socket);
        return;
      }
      void tunnel(deps, head, target, socket);
    });
  });
}

async function tunnel(deps: ProxyDeps, head: Head, target: NonNullable<ReturnType<typeof matchProxy>>, client: Socket): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of head.fields) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  try {
    const { sandbox, byKey } = await admit(deps, target, headers);
    const up = await dialSandbox(sandbox.nodeId === null ? undefined : deps.hub.get(sandbox.nodeId), sandbox.id, target.port);
    const upgrade = (headers.upgrade ?? '') !== '';
    const lines = [`${head.method} ${target.path} ${head.version}`];
    for (const [k, v] of head.fields) {
      if (k === TOKEN_HEADER || (byKey && k === 'authorization') || k.startsWith('x-forwarded-')) continue;
      if (HOP.has(k) && !(upgrade && k === 'connection')) continue;
      lines.push(`${k}: ${v}`);
    }
    const from = client.remoteAddress ?? '';
    const prior = headers['x-forwarded-for'];
    lines.push(`x-forwarded-for: ${prior ? `${prior}, ${from}` : from}`, `x-forwarded-host: ${headers.host ?? ''}`, 'x-forwarded-proto: http');
    if (!upgrade) lines.push('connection: close');
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.rest.length > 0) up.write(head.rest);
    joinSockets(up, client);
  } catch (err) {
    endWithError(deps, client, err);
  }
}

