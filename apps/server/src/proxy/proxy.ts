/**
 * The server's port proxy: HTTP, server-sent events and WebSocket to a port of a running sandbox,
 * path-based (`/v1/sandboxes/ID/ports/PORT/...`) and, with a `proxyDomain`, host-based
 * (`PORT-ID.<domain>`). It sits in front of the API's router on the same listener (requests it
 * does not match go on to Fastify untouched), so bodies stream both ways and nothing is parsed.
 *
 * Who may pass: the sandbox's tenant with an API key (`Authorization: Bearer`, role member or
 * above; the key is never forwarded), anyone with an access token for that sandbox
 * (`X-Tartarus-Access-Token` or `?tt_token=`, removed before forwarding; tokens.ts), or anyone
 * when the sandbox is public. The bytes go through the node's proxy (dial.ts, agent node-proxy.ts).
 * Deployments' public endpoints (`/d/…`, `<deployment>--<tag>.<domain>`) are served here too
 * (deployment-proxy.ts).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SandboxNotRunningError, TartarusError, UnauthenticatedError } from '@tartarus/core';
import type { SocketRelays } from '@tartarus/runtime';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { authenticate, authorize } from '../http/auth.js';
import { toErrorReply } from '../http/errors.js';
import type { Sandbox } from '../store/types.js';
import { DialError, dialSandbox } from './dial.js';
import { installConnectionTunnel } from './connection-tunnel.js';
import { matchProxy, TOKEN_HEADER, type ProxyTarget } from './routing.js';
import { proxyDeploymentHttp, proxyDeploymentUpgrade, type DeploymentProxyDeps } from './deployment-proxy.js';
import { matchDeployment } from './deployment-routing.js';
import type { AccessTokens } from './tokens.js';

/** What the proxy needs. */
export interface ProxyDeps {
  ctx: ServerContext;
  hub: AgentHub;
  tokens: AccessTokens;
  /** The tunnels of raw connections (host-based, upgrades), moved into the kernel once they carry bulk. */
  relays: SocketRelays;
  /** Deployments' public endpoints (deployment-proxy.ts). */
  deployments: DeploymentProxyDeps;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Puts the proxy in front of the server's request and upgrade listeners (call once the app is ready); `close()` ends connections it is still setting up. */
export function installProxy(server: Server, deps: ProxyDeps): { close(): void } {
  const domain = deps.ctx.config.proxyDomain;
  const onRequest = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = matchProxy(req.url ?? '/', req.headers.host, domain);
    const deployment = target === null ? matchDeployment(req.url ?? '/', req.headers.host, domain) : null;
    if (target !== null) void proxyHttp(deps, target, req, res);
    else if (deployment !== null) void proxyDeploymentHttp(deps, deps.deployments, deployment, req, res);
    else for (const l of onRequest) l.call(server, req, res);
  });
  const onUpgrade = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = matchProxy(req.url ?? '/', req.headers.host, domain);
    const deployment = target === null ? matchDeployment(req.url ?? '/', req.headers.host, domain) : null;
    if (target !== null) void proxyUpgrade(deps, target, req, socket, head);
    else if (deployment !== null) void proxyDeploymentUpgrade(deps, deps.deployments, deployment, req, socket, head);
    else for (const l of onUpgrade) l.call(server, req, socket, head);
  });
  // A connection whose first request is for a port is taken whole (connection-tunnel.ts); the handlers
  // above serve a port request that arrives on a connection whose first request was for the API.
  return installConnectionTunnel(server, deps, domain);
}

/** The sandbox a request may reach, and whether it came with the platform's API key (which is then not forwarded). */
export async function admit(deps: ProxyDeps, target: ProxyTarget, headers: IncomingHttpHeaders): Promise<{ sandbox: Sandbox; byKey: boolean }> {
  const { store } = deps.ctx;
  const auth = headers.authorization;
  const token = (headers[TOKEN_HEADER] as string | undefined) ?? target.queryToken;
  let sandbox: Sandbox | undefined;
  let byKey = false;
  if (token === null || token === undefined) {
    if (auth !== undefined && /^Bearer\s/i.test(auth)) {
      const p = await authenticate(store, auth);
      authorize(p, 'member');
      sandbox = await store.sandboxes.get(p.tenantId, target.sandboxId);
      byKey = true;
    } else {
      sandbox = await store.sandboxes.find(target.sandboxId).catch(() => undefined);
      // Unknown and private look alike to a caller without credentials.
      if (!sandbox?.spec.public) throw new UnauthenticatedError(`send the API key ("Authorization: Bearer <key>") or an access token of sandbox ${target.sandboxId} ("${TOKEN_HEADER}" header or ?tt_token=)`);
    }
  } else {
    sandbox = await store.sandboxes.find(target.sandboxId).catch(() => undefined);
    if (!sandbox || !deps.tokens.verify(token, target.sandboxId)) throw new UnauthenticatedError(`the access token is not valid for sandbox ${target.sandboxId} (expired, or for another sandbox): mint a new one`);
    // A platform key sent along with the token is never forwarded either.
    const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
    byKey = bearer !== undefined && (await store.apiKeys.verify(bearer)) !== null;
  }
  if (sandbox.state !== 'running') throw new SandboxNotRunningError(`sandbox ${sandbox.id} is ${sandbox.state}: only a running sandbox's ports can be reached`);
  return { sandbox, byKey };
}

/** The headers to send on: hop-by-hop, the API key (when it came with one) and the access token removed; X-Forwarded-* added. */
export function forwardHeaders(req: IncomingMessage, byKey: boolean, keepUpgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === TOKEN_HEADER || (byKey && k === 'authorization')) continue;
    if (HOP.has(k) && !(keepUpgrade && (k === 'connection' || k === 'upgrade'))) continue;
    out[k] = v;
  }
  const prior = req.headers['x-forwarded-for'];
  const from = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${from}` : from;
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-proto'] = 'http';
  return out;
}

export function errorReply(deps: ProxyDeps, err: unknown): { status: number; headers: Record<string, string>; body: string } {
  if (err instanceof DialError) {
    const code = err.status === 503 ? 'unavailable' : err.status === 409 ? 'conflict' : err.status === 403 ? 'permission_denied' : 'unavailable';
    return { status: err.status, headers: {}, body: JSON.stringify({ error: { code, message: err.message } }) };
  }
  if (!(err instanceof TartarusError)) deps.ctx.log.error({ err }, 'proxy failed');
  const r = toErrorReply(err, deps.ctx.config.bodyLimitBytes);
  return { status: r.status, headers: r.headers, body: JSON.stringify(r.body) };
}

async function proxyHttp(deps: ProxyDeps, target: ProxyTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const { sandbox, byKey } = await admit(deps, target, req.headers);
    const socket = await dialSandbox(await deps.hub.proxyOf(sandbox.nodeId), sandbox.id, target.port);
    deps.ctx.metrics.proxyConnections.inc({ how: 'http' });
    relayHttp(deps, socket, req, res, { path: target.path, headers: forwardHeaders(req, byKey, false), what: `port ${target.port} of sandbox ${sandbox.id}` });
  } catch (err) {
    send(res, errorReply(deps, err));
  }
}

/**
 * Sends `req` (its body streamed) over `socket` with `headers` to `path`, and the answer back as
 * it comes (hop-by-hop headers removed; server-sent events and other streams chunk by chunk); a
 * failure before the answer is a 502 naming `what`.
 */
export function relayHttp(deps: ProxyDeps, socket: Socket, req: IncomingMessage, res: ServerResponse, o: { path: string; headers: Record<string, string | string[]>; what: string }): void {
  const up = httpRequest({ createConnection: () => socket, method: req.method, path: o.path, headers: o.headers, setHost: false });
  res.on('close', () => up.destroy());
  up.on('response', (r) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    res.writeHead(r.statusCode ?? 502, r.statusMessage, headers);
    res.flushHeaders();
    r.pipe(res);
  });
  up.on('error', (err) => {
    if (res.headersSent) res.destroy();
    else send(res, errorReply(deps, new DialError(502, `${o.what} did not answer: ${err.message}`)));
  });
  req.pipe(up);
}

/** Answers `res` with the proxy's error reply (or cuts it when the answer has begun). */
export function send(res: ServerResponse, r: { status: number; headers: Record<string, string>; body: string }): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

async function proxyUpgrade(deps: ProxyDeps, target: ProxyTarget, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  client.on('error', () => client.destroy());
  try {
    const { sandbox, byKey } = await admit(deps, target, req.headers);
    const up = await dialSandbox(await deps.hub.proxyOf(sandbox.nodeId), sandbox.id, target.port);
    sendUpgrade(deps, up, client, head, `${req.method ?? 'GET'} ${target.path} HTTP/1.1`, forwardHeaders(req, byKey, true));
  } catch (err) {
    endWithError(deps, client, err);
  }
}

/** Writes an upgrade's request line and headers (and what came after them) to `up`, then joins the two sockets. */
export function sendUpgrade(deps: ProxyDeps, up: Duplex, client: Duplex, head: Buffer, requestLine: string, headers: Record<string, string | string[]>): void {
  const lines = [requestLine];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  up.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) up.write(head);
  joinSockets(deps, up, client, 'upgrade');
}

/**
 * Joins two sockets both ways until both directions end: a tunnel once its head is sent
 * (network/relay.ts of the runtime); `how` it came (`tunnel`, `upgrade`) and its bytes are counted.
 */
export function joinSockets(deps: ProxyDeps, up: Duplex, client: Duplex, how: 'tunnel' | 'upgrade'): void {
  const { metrics } = deps.ctx;
  metrics.proxyConnections.inc({ how });
  void deps.relays.join(client, up).then((t) => {
    metrics.proxyBytes.inc({ direction: 'to_sandbox' }, t.aToB);
    metrics.proxyBytes.inc({ direction: 'from_sandbox' }, t.bToA);
  });
}

/** Answers a raw client connection (an upgrade, a tunnelled one) with the proxy's error and closes it. */
export function endWithError(deps: ProxyDeps, client: Duplex, err: unknown): void {
  const r = errorReply(deps, err);
  client.end(`HTTP/1.1 ${r.status} Proxy Error\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`);
}
