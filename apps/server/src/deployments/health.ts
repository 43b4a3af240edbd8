/**
 * Health of a service's replicas: each running replica whose start grace has passed is checked
 * every `interval` by its node (`healthCheck` agent call: TCP or HTTP from the node to the
 * sandbox, or a command in it); `retries` failures in a row make it unhealthy, one success makes
 * it healthy again. What a replica's checks say is kept with its run (`deployment_runs.health`),
 * so every server replica shows it; the counters live in the controller's memory (a new leader
 * starts them again).
 */
import type { ServicePlan } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { attemptSandboxId } from '../scheduler/scheduler.js';
import type { Deployment, DeploymentRun, ReplicaHealthState } from '../store/deployments.js';
import { deploymentEvent } from './events.js';

interface Tracked {
  checkedAt: number;
  failures: number;
  state: ReplicaHealthState;
}

/** The replicas' health checks of one controller. */
export class ReplicaHealth {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** Checks the replicas due for it; returns those that just became unhealthy. */
  async check(d: Deployment, svc: ServicePlan, running: DeploymentRun[]): Promise<DeploymentRun[]> {
    const health = svc.health;
    if (health === null) return [];
    const now = Date.now();
    const failed: DeploymentRun[] = [];
    for (const r of running) {
      const t = this.tracked.get(r.runId) ?? { checkedAt: 0, failures: 0, state: r.health };
      this.tracked.set(r.runId, t);
      if (now - t.checkedAt < health.intervalMs) continue;
      const run = await this.ctx.store.runs.get(d.tenantId, r.runId);
      if (run.startedAt === null || run.leaseNodeId === null || now - run.startedAt < health.startGraceMs) continue;
      t.checkedAt = now;
      const result = await this.hub
        .call(run.leaseNodeId, 'healthCheck', { sandboxId: attemptSandboxId(run.id, run.epoch), check: health.check, timeoutMs: health.timeoutMs })
        .catch((err: Error) => ({ healthy: false, message: err.message }));
      t.failures = result.healthy ? 0 : t.failures + 1;
      const state: ReplicaHealthState = result.healthy ? 'healthy' : t.failures >= health.retries ? 'unhealthy' : t.state;
      if (state !== t.state) {
        t.state = state;
        await this.ctx.store.deployments.setHealth(r.runId, state);
        await deploymentEvent(this.ctx, d, 'deployment.replica.health', { service: svc.name, runId: r.runId, health: state, why: result.message ?? null });
        this.ctx.log.info({ deployment: d.name, tenantId: d.tenantId, service: svc.name, runId: r.runId, health: state, why: result.message }, 'replica health changed');
        if (state === 'unhealthy') failed.push(r);
      }
    }
    for (const id of this.tracked.keys()) if (!running.some((r) => r.runId === id)) this.tracked.delete(id);
    return failed;
  }
}
