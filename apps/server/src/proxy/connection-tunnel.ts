/**
 * Port requests at the connection: a new connection's first request head is read before the HTTP
 * server sees it; when it names a sandbox's port (host-based `PORT-ID.<domain>` or path-based
 * `/v1/sandboxes/ID/ports/PORT/…`), the connection becomes a byte tunnel to that port (no HTTP
 * parsing of what follows, moved into the kernel once it carries bulk: downloads, uploads,
 * server-sent events and WebSocket at the speed of a socket splice). Every other connection goes
 * on to the HTTP server untouched (the bytes read are put back); a port request that comes later
 * on a connection the API took is proxied by proxy.ts.
 *
 * The first head is rewritten: the access token and (when it came with one) the API key are
 * removed, X-Forwarded-* added, and — but for an upgrade — `Connection: close`, so that the
 * tunnel carries one request and the client's next one (which may carry the key again) comes
 * on a new connection, checked again.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { DialError, dialSandbox } from './dial.js';
import { closingResponseHead, parseRequestHead, readHead, responseStatus, type RequestHead } from './http-head.js';
import { admit, endWithError, joinSockets, type ProxyDeps } from './proxy.js';
import { matchProxy, TOKEN_HEADER } from './routing.js';

/** Longest first request head read before the HTTP server takes a connection, bytes. */
const HEAD_MAX = 16 * 1024;
/** Longest response head rewritten; a longer one passes as it is, bytes. */
const RESPONSE_HEAD_MAX = 64 * 1024;
/** Interim (1xx) responses passed on before the final one, at most. */
const INTERIM_MAX = 8;
/** How long a new connection has to send its first head before the HTTP server takes it, ms. */
const HEAD_WAIT_MS = 10_000;
/** Headers about this hop only: never forwarded from the rewritten head (transfer-encoding stays: the body passes as sent). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization']);

/**
 * Takes port requests at the connection, in front of the server's own connection listener.
 * `close()` ends the connections still being looked at or set up (neither the HTTP server nor the
 * relays know them yet, and a server closing would wait for them).
 */
export function installConnectionTunnel(server: Server, deps: ProxyDeps, domain: string | null): { close(): void } {
  const onConnection = server.listeners('connection') as ((s: Socket) => void)[];
  const pending = new Set<Socket>();
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    void readHead(socket, HEAD_MAX, HEAD_WAIT_MS).then((read) => {
      const head = parseRequestHead(read);
      const { raw } = read;
      const host = head?.fields.find(([k]) => k === 'host')?.[1];
      const target = head ? matchProxy(head.url, host, domain) : null;
      if (!head || !target) {
        pending.delete(socket);
        if (raw.length > 0) socket.unshift(raw);
        for (const l of onConnection) l.call(server, socket);
        return;
      }
      void tunnel(deps, head, target, socket).finally(() => pending.delete(socket));
    });
  });
  return { close: () => pending.forEach((s) => s.destroy()) };
}

async function tunnel(deps: ProxyDeps, head: RequestHead, target: NonNullable<ReturnType<typeof matchProxy>>, client: Socket): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of head.fields) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  let up: Socket | undefined;
  try {
    const { sandbox, byKey } = await admit(deps, target, headers);
    up = await dialSandbox(await deps.hub.proxyOf(sandbox.nodeId), sandbox.id, target.port);
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
    await passResponseHead(up, client, `port ${target.port} of sandbox ${sandbox.id}`, upgrade);
    joinSockets(deps, up, client, upgrade ? 'upgrade' : 'tunnel');
  } catch (err) {
    up?.destroy();
    endWithError(deps, client, err);
  }
}

/**
 * Passes the response's head on with `Connection: close` (the tunnel ends with this response, and
 * a client that kept the connection for another request — carrying the API key, perhaps — would
 * send it into the sandbox), interim 1xx heads as they are, a WebSocket's `101` as it is. An
 * answer whose head cannot be rewritten (not HTTP, over 64 KiB, endless 1xx) is refused with a
 * 502 rather than passed on. The request's body flows meanwhile: a server may read all of it
 * before it answers.
 */
async function passResponseHead(up: Socket, client: Socket, what: string, upgrade: boolean): Promise<void> {
  // A client that goes away meanwhile takes the upstream connection with it.
  const gone = (): void => void up.destroy();
  client.once('close', gone);
  client.pipe(up);
  try {
    for (let i = 0; i < INTERIM_MAX; i++) {
      const got = await readHead(up, RESPONSE_HEAD_MAX, 2 ** 31 - 1);
      const status = got.end < 0 ? null : responseStatus(got.raw);
      if (status === null) {
        throw new DialError(502, got.raw.length === 0 ? `${what} closed the connection without answering` : `${what} did not answer with an HTTP response head of at most ${RESPONSE_HEAD_MAX} bytes`);
      }
      const head = got.raw.subarray(0, got.end);
      if (got.end < got.raw.length) up.unshift(got.raw.subarray(got.end));
      if (status === 101 && upgrade) return void client.write(head);
      const final = status >= 200 || status === 101;
      client.write(final ? closingResponseHead(head) : head);
      if (final) return;
    }
    throw new DialError(502, `${what} sent more than ${INTERIM_MAX} interim (1xx) answers`);
  } finally {
    client.removeListener('close', gone);
    client.unpipe(up);
  }
}
