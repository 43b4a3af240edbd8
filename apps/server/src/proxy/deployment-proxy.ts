/**
 * A deployment's public HTTP endpoints (http, https and websocket; deployment-routing.ts says
 * where): no key is asked (the endpoint is public), the request passes as it came (its
 * Authorization is the application's; only hop-by-hop headers and a Tartarus access token are
 * removed, as by the port proxy, whose relaying this shares), and each request goes to a replica
 * that takes traffic, in turn. A replica that cannot be reached (it just
 * ended, or stopped listening) is skipped for the next before anything is sent, so a request
 * fails only when none can take it. Every request is counted for its service (RPS for adaptive
 * scaling) and its replica (in flight, which a drain waits on).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EndpointRoute, EndpointTable } from '../deployments/endpoint-table.js';
import type { DeploymentTraffic } from '../deployments/traffic.js';
import { DialError, dialSandbox } from './dial.js';
import type { DeploymentTarget } from './deployment-routing.js';
import { endWithError, errorReply, forwardHeaders, relayHttp, send, sendUpgrade, type ProxyDeps } from './proxy.js';

/** What the deployment proxy needs besides the port proxy's parts. */
export interface DeploymentProxyDeps {
  table: EndpointTable;
  traffic: DeploymentTraffic;
}

/**
 * A connection to the first replica of `route` that answers, and the function that ends its
 * count. A request counts as in flight to a replica from the moment it is routed there, before
 * the dial, so a drain that began meanwhile waits for it; `cut` ends it early (drain.ts).
 */
async function dialReplica(deps: ProxyDeps, dd: DeploymentProxyDeps, route: EndpointRoute, cut: () => void): Promise<{ socket: Socket; end: () => void }> {
  let last: unknown;
  for (const r of route.replicas) {
    const end = dd.traffic.begin(route.deployment.id, route.service.name, r.runId, Date.now(), cut);
    try {
      return { socket: await dialSandbox(await deps.hub.proxyOf(r.nodeId), r.sandboxId, route.endpoint.targetPort), end };
    } catch (err) {
      end();
      last = err;
    }
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new DialError(502, `no replica of service ${route.service.name} (deployment ${route.deployment.name}) answered on port ${route.endpoint.targetPort}${why}`);
}

/** Proxies one HTTP request to a deployment's endpoint. */
export async function proxyDeploymentHttp(deps: ProxyDeps, dd: DeploymentProxyDeps, target: DeploymentTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const route = await dd.table.route(target);
    const cut = (): void => send(res, errorReply(deps, new DialError(502, `the replica of service ${route.service.name} (deployment ${route.deployment.name}) was stopped before it answered`)));
    const { socket, end } = await dialReplica(deps, dd, route, cut);
    res.once('close', end);
    deps.ctx.metrics.proxyConnections.inc({ how: 'deployment' });
    // The request's own Authorization is the application's: passed on.
    relayHttp(deps, socket, req, res, { path: target.path, headers: forwardHeaders(req, false, false), what: `service ${route.service.name} of deployment ${route.deployment.name}` });
  } catch (err) {
    send(res, errorReply(deps, err));
  }
}

/** Proxies an upgrade (a WebSocket) to a deployment's endpoint: the head is sent on, then bytes both ways. */
export async function proxyDeploymentUpgrade(deps: ProxyDeps, dd: DeploymentProxyDeps, target: DeploymentTarget, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  client.on('error', () => client.destroy());
  try {
    const route = await dd.table.route(target);
    const { socket: up, end } = await dialReplica(deps, dd, route, () => client.destroy());
    client.once('close', end);
    sendUpgrade(deps, up, client, head, `${req.method ?? 'GET'} ${target.path} HTTP/1.1`, forwardHeaders(req, false, true));
  } catch (err) {
    endWithError(deps, client, err);
  }
}
