/**
 * A deployment's public HTTP endpoints (http, https and websocket; deployment-routing.ts says
 * where): no key is asked (the endpoint is public), nothing of the request is removed, and each
 * request goes to a replica that takes traffic, in turn. A replica that cannot be reached (it just
 * ended, or stopped listening) is skipped for the next before anything is sent, so a request
 * fails only when none can take it. Every request is counted for its service (RPS for adaptive
 * scaling) and its replica (in flight, which a drain waits on).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EndpointRoute, EndpointTable } from '../deployments/endpoint-table.js';
import type { DeploymentTraffic } from '../deployments/traffic.js';
import { DialError, dialSandbox } from './dial.js';
import type { DeploymentTarget } from './deployment-routing.js';
import { endWithError, errorReply, joinSockets, type ProxyDeps } from './proxy.js';

/** What the deployment proxy needs besides the port proxy's parts. */
export interface DeploymentProxyDeps {
  table: EndpointTable;
  traffic: DeploymentTraffic;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A connection to the first replica of `route` that answers, and the replica. */
async function dialReplica(deps: ProxyDeps, route: EndpointRoute): Promise<{ socket: Socket; runId: string }> {
  let last: unknown;
  for (const r of route.replicas) {
    try {
      return { socket: await dialSandbox(deps.hub.get(r.nodeId), r.sandboxId, route.endpoint.targetPort), runId: r.runId };
    } catch (err) {
      last = err;
    }
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new DialError(502, `no replica of service ${route.service.name} (deployment ${route.deployment.name}) answered on port ${route.endpoint.targetPort}${why}`);
}

function forwardHeaders(req: IncomingMessage, keepUpgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || (HOP.has(k) && !(keepUpgrade && (k === 'connection' || k === 'upgrade')))) continue;
    out[k] = v;
  }
  const prior = req.headers['x-forwarded-for'];
  const from = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${from}` : from;
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-proto'] = 'http';
  return out;
}

/** Proxies one HTTP request to a deployment's endpoint. */
export async function proxyDeploymentHttp(deps: ProxyDeps, dd: DeploymentProxyDeps, target: DeploymentTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const route = await dd.table.route(target);
    const { socket, runId } = await dialReplica(deps, route);
    const end = dd.traffic.begin(route.deployment.id, route.service.name, runId);
    res.once('close', end);
    deps.ctx.metrics.proxyConnections.inc({ how: 'deployment' });
    const up = httpRequest({ createConnection: () => socket, method: req.method, path: target.path, headers: forwardHeaders(req, false), setHost: false });
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
      else send(res, errorReply(deps, new DialError(502, `service ${route.service.name} of deployment ${route.deployment.name} did not answer: ${err.message}`)));
    });
    req.pipe(up);
  } catch (err) {
    send(res, errorReply(deps, err));
  }
}

function send(res: ServerResponse, r: { status: number; headers: Record<string, string>; body: string }): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

/** Proxies an upgrade (a WebSocket) to a deployment's endpoint: the head is sent on, then bytes both ways. */
export async function proxyDeploymentUpgrade(deps: ProxyDeps, dd: DeploymentProxyDeps, target: DeploymentTarget, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  client.on('error', () => client.destroy());
  try {
    const route = await dd.table.route(target);
    const { socket: up, runId } = await dialReplica(deps, route);
    const end = dd.traffic.begin(route.deployment.id, route.service.name, runId);
    client.once('close', end);
    const lines = [`${req.method ?? 'GET'} ${target.path} HTTP/1.1`];
    for (const [k, v] of Object.entries(forwardHeaders(req, true))) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) up.write(head);
    joinSockets(deps, up, client, 'upgrade');
  } catch (err) {
    endWithError(deps, client, err);
  }
}
