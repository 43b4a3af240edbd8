/**
 * Start-up order (`depends`): a service's replicas start only once each service it depends on
 * meets its condition — `started` (a replica runs), `healthy` (a replica passes its health checks;
 * a service without checks is healthy once started), `ready` (as healthy: a replica the proxy
 * would route to). On a job, `healthy` and `ready` mean its run of this revision succeeded; such
 * a job is started once per revision for the services waiting on it. A condition not met within
 * its `timeout` (from the revision's deployment) does what `on_timeout` says: `fail` keeps the
 * service waiting (and says so in the log once), `warn` and `continue` start it anyway.
 *
 * After start-up the conditions are still looked at (`dependencyStatus`): one that stops holding
 * (a dependency turned unhealthy) is reported on the dependent service — in its API output and as
 * a `deployment.dependency` event — but not acted on: its running replicas keep running, as
 * Compose and Nomad do (restarting them would not heal the dependency, and would take down a
 * service that may cope, e.g. by retrying). Only replicas yet to start wait for it again.
 */
import type { DependsPlan, ServicePlan } from '@tartarus/core';
import type { Deployment, DeploymentRun } from '../store/deployments.js';

/** Whether `dep` is met by the runs of the service it names (newest first). */
export function conditionMet(dep: DependsPlan, target: ServicePlan, runs: DeploymentRun[], revision: number): boolean {
  if (target.kind === 'job') return runs.some((r) => r.revision === revision && r.state === 'succeeded');
  const running = runs.filter((r) => r.state === 'running');
  if (dep.condition === 'started' || target.health === null) return running.length > 0;
  return running.some((r) => r.health === 'healthy');
}

/** What to do about `svc`'s dependencies now. */
export type DependsVerdict = { start: true } | { start: false; waitingFor: string; timedOut: boolean };

/** Whether `svc` may start its replicas, given each dependency's runs (by service name). */
export function dependsVerdict(d: Deployment, svc: ServicePlan, runsOf: Map<string, DeploymentRun[]>, nowMs: number): DependsVerdict {
  for (const dep of svc.depends) {
    const target = d.plan.services.find((s) => s.name === dep.service);
    if (target === undefined) continue; // the spec's checks refuse this; nothing to wait for
    if (conditionMet(dep, target, runsOf.get(dep.service) ?? [], d.revision)) continue;
    const timedOut = nowMs - d.updatedAt > dep.timeoutMs;
    if (timedOut && dep.onTimeout !== 'fail') continue;
    return { start: false, waitingFor: `${dep.service} ${dep.condition}`, timedOut };
  }
  return { start: true };
}

/** A dependency of a service and whether its condition holds now. */
export interface DependencyStatus {
  service: string;
  condition: DependsPlan['condition'];
  met: boolean;
}

/** Each of `svc`'s dependencies and whether it holds, given each dependency's runs (by service name, newest first). */
export function dependencyStatus(d: Deployment, svc: ServicePlan, runsOf: Map<string, DeploymentRun[]>): DependencyStatus[] {
  return svc.depends.map((dep) => {
    const target = d.plan.services.find((s) => s.name === dep.service);
    return { service: dep.service, condition: dep.condition, met: target !== undefined && conditionMet(dep, target, runsOf.get(dep.service) ?? [], d.revision) };
  });
}

/** The jobs some service waits on: started once per revision when they have no run of it yet. */
export function awaitedJobs(d: Deployment): ServicePlan[] {
  const names = new Set(d.plan.services.flatMap((s) => s.depends.map((x) => x.service)));
  return d.plan.services.filter((s) => s.kind === 'job' && names.has(s.name));
}
