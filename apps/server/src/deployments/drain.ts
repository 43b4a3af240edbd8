/**
 * Graceful stop of a replica: it is taken out of the proxy first (health `draining`: neither the
 * public endpoints nor the service names send it anything new), then, once the requests it has in
 * flight through this server are done — and at least long enough for every server replica to
 * have seen it leave (twice the proxy's freshness) — or after `DRAIN_MAX_MS` at most, its run is
 * cancelled: SIGTERM, a grace period, then SIGKILL. A replica that takes no traffic is stopped
 * at once. When a drain starts is kept in memory: a new leader starts the wait again.
 */
import type { ServicePlan } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { RunService } from '../services/runs.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import { FRESH_MS } from './endpoint-table.js';
import { takesTraffic } from './routable.js';
import type { DeploymentTraffic } from './traffic.js';

/** Shortest drain, ms: every server's proxy has read the replica's new state by then. */
const DRAIN_MIN_MS = 3 * FRESH_MS;
/** Longest drain, ms: requests still in flight then are cut. */
export const DRAIN_MAX_MS = 30_000;

/** The drains of one controller. */
export class Drains {
  /** When each draining replica's drain began, by run id. */
  private readonly since = new Map<string, { deploymentId: string; at: number }>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly runs: RunService,
    private readonly traffic: DeploymentTraffic,
  ) {}

  /** Starts stopping replica `r` of `svc` gracefully (or at once when it takes no traffic). */
  async begin(d: Deployment, svc: ServicePlan | undefined, r: DeploymentRun): Promise<void> {
    if (r.health === 'draining') return;
    if (svc === undefined || !takesTraffic(svc, r)) {
      await this.cancel(d, r);
      return;
    }
    await this.ctx.store.deployments.setHealth(r.runId, 'draining');
    r.health = 'draining';
    this.since.set(r.runId, { deploymentId: d.id, at: Date.now() });
    this.ctx.log.info({ deployment: d.name, tenantId: d.tenantId, service: r.service, runId: r.runId }, 'replica draining');
  }

  /** Stops the draining replicas among `live` (every live run of `d`) whose drain is over. */
  async finish(d: Deployment, live: DeploymentRun[]): Promise<void> {
    const now = Date.now();
    for (const r of live) {
      if (r.health !== 'draining') continue;
      let since = this.since.get(r.runId);
      if (since === undefined) this.since.set(r.runId, (since = { deploymentId: d.id, at: now }));
      const waited = now - since.at;
      if (waited >= DRAIN_MAX_MS || (waited >= DRAIN_MIN_MS && this.traffic.active(r.runId) === 0)) {
        // What is still in flight is cut here, so its clients get an error at once rather than
        // wait on a connection whose far end may vanish without a word.
        this.traffic.cut(r.runId);
        await this.cancel(d, r);
      }
    }
    for (const [id, s] of this.since) if (s.deploymentId === d.id && !live.some((r) => r.runId === id)) this.since.delete(id);
  }

  private async cancel(d: Deployment, r: DeploymentRun): Promise<void> {
    await this.runs.cancel(d.tenantId, r.runId).catch(() => undefined);
  }
}
