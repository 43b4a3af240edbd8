/**
 * Which replicas take traffic — the proxy's public endpoints and the internal service names
 * both send only to these: a service's replicas that run, are neither isolated nor draining, and
 * pass their health checks when the service has any (without checks, running is enough).
 */
import type { ServicePlan } from '@tartarus/core';
import { attemptSandboxId } from '../scheduler/scheduler.js';
import type { DeploymentRun } from '../store/deployments.js';

/** A replica that takes traffic, and where it runs. */
export interface RoutableReplica {
  service: string;
  runId: string;
  sandboxId: string;
  nodeId: string;
}

/** Whether replica `r` of `svc` takes traffic. */
export function takesTraffic(svc: ServicePlan, r: DeploymentRun): boolean {
  if (r.kind !== 'replica' || r.state !== 'running' || r.nodeId === null) return false;
  if (r.health === 'isolated' || r.health === 'draining' || r.health === 'unhealthy') return false;
  return svc.health === null || r.health === 'healthy';
}

/** The replicas of `services` among `runs` that take traffic. */
export function routableReplicas(services: ServicePlan[], runs: DeploymentRun[]): RoutableReplica[] {
  const out: RoutableReplica[] = [];
  for (const r of runs) {
    const svc = services.find((s) => s.name === r.service);
    if (svc === undefined || r.nodeId === null || !takesTraffic(svc, r)) continue;
    out.push({ service: r.service, runId: r.runId, sandboxId: attemptSandboxId(r.runId, r.epoch), nodeId: r.nodeId });
  }
  return out;
}
