/**
 * The proxy's view of deployments: which public endpoint a request is for, and which replica
 * takes it. Read from the store (so every server replica routes alike, whichever holds the
 * deployment's controller) and kept for a moment (`FRESH_MS`): a replica set draining waits at
 * least twice that before it is stopped. Replicas are taken in turn (round robin) among those that
 * take traffic (routable.ts).
 */
import { NotFoundError, type EndpointPlan, type ServicePlan } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { Deployment } from '../store/deployments.js';
import { routableReplicas, type RoutableReplica } from './routable.js';
import { DialError } from '../proxy/dial.js';
import { tenantTag, underPath, type DeploymentTarget } from '../proxy/deployment-routing.js';

/** How long what the store says is used before it is read again, ms. */
export const FRESH_MS = 500;

/** Where one request goes: the endpoint, its service and the replicas that may take it (in the order to try). */
export interface EndpointRoute {
  deployment: Deployment;
  service: ServicePlan;
  endpoint: EndpointPlan;
  replicas: RoutableReplica[];
}

interface Cached {
  at: number;
  deployment: Deployment | undefined;
  replicas: RoutableReplica[];
}

/** Protocols the proxy serves by host and path. */
const HTTP_PROTOCOLS = new Set(['http', 'https', 'websocket']);

/** The public endpoints of every deployment, as the proxy routes them. */
export class EndpointTable {
  private readonly cache = new Map<string, Cached>();
  private turn = 0;

  constructor(private readonly ctx: ServerContext) {}

  /** The route of a request, replicas in the order to try; NotFoundError / a 503 DialError say why there is none. */
  async route(target: DeploymentTarget): Promise<EndpointRoute> {
    const { deployment, replicas } = await this.lookup(target);
    const what = `deployment ${target.deployment}`;
    if (deployment === undefined) throw new NotFoundError(`${what} is not deployed (or not active): check the address, or deploy it`);
    let best: { service: ServicePlan; endpoint: EndpointPlan } | undefined;
    for (const service of deployment.plan.services) {
      for (const endpoint of service.endpoints) {
        if (endpoint.expose !== 'public' || !HTTP_PROTOCOLS.has(endpoint.protocol) || !underPath(target.path, endpoint.path)) continue;
        if (best === undefined || (endpoint.path ?? '').length > (best.endpoint.path ?? '').length) best = { service, endpoint };
      }
    }
    if (best === undefined) throw new NotFoundError(`${what} has no public HTTP endpoint for ${target.path.split('?')[0]}: add one (expose: public) to a service`);
    const mine = replicas.filter((r) => r.service === best.service.name);
    if (mine.length === 0) throw new DialError(503, `service ${best.service.name} of ${what} has no replica ready for traffic (none running and healthy yet): retry shortly`);
    const start = this.turn++ % mine.length;
    return { deployment, ...best, replicas: [...mine.slice(start), ...mine.slice(0, start)] };
  }

  /** The replicas of `service` of `deployment` that take traffic, in the order to try (round robin). */
  async replicasOf(deployment: Deployment, service: string): Promise<RoutableReplica[]> {
    const now = Date.now();
    let hit = this.cache.get(deployment.id);
    if (hit === undefined || now - hit.at >= FRESH_MS) {
      hit = { at: now, deployment, replicas: routableReplicas(deployment.plan.services, await this.ctx.store.deployments.runs(deployment.id, { live: true })) };
      this.cache.set(deployment.id, hit);
    }
    const mine = hit.replicas.filter((r) => r.service === service);
    const start = mine.length === 0 ? 0 : this.turn++ % mine.length;
    return [...mine.slice(start), ...mine.slice(0, start)];
  }

  private async lookup(target: DeploymentTarget): Promise<Cached> {
    const key = `${target.deployment.toLowerCase()}--${target.tenantTag}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < FRESH_MS) return hit;
    const deployment = (await this.ctx.store.deployments.findActive(target.deployment)).find((d) => tenantTag(d.tenantId) === target.tenantTag);
    const replicas = deployment === undefined ? [] : routableReplicas(deployment.plan.services, await this.ctx.store.deployments.runs(deployment.id, { live: true }));
    const fresh = { at: now, deployment, replicas };
    this.cache.set(key, fresh);
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value ?? '');
    return fresh;
  }
}
