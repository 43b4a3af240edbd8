/**
 * What happens to a deployment, as events on the bus (`deployment.*`, the deployment's id as
 * object): `GET /v1/deployments/:name/events` streams them, and webhooks and `GET /v1/events`
 * see them like any other. `deploymentEvent` is the one call where a change is made (applied,
 * scaled, health changed, rolled back, stopped); `tellChanges` runs at the start of each
 * controller pass and tells what the controller observes rather than does — a run that started or
 * ended, a `depends` condition that stopped or started holding — against marks in the store, so
 * each is told once (see store/deployment-events.ts).
 */
import type { DEPLOYMENT_EVENT_TYPES } from '@tartarus/core';
import { isFinalRun } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { DependencyMarks, UntoldRun } from '../store/deployment-events.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import type { NewEvent } from '../store/events.js';
import type { JsonObject } from '../store/types.js';
import { dependencyStatus } from './depends.js';

/** A deployment event's type. */
export type DeploymentEventType = (typeof DEPLOYMENT_EVENT_TYPES)[number];

/** The event of `type` about `d`; `data` gets the deployment's name. */
function eventOf(d: Pick<Deployment, 'id' | 'tenantId' | 'name'>, type: DeploymentEventType, data: JsonObject): NewEvent {
  return { tenantId: d.tenantId, type, objectId: d.id, data: { deployment: d.name, ...data } };
}

/**
 * Emits one event about `d`. A failure to write it is logged, not thrown: the change it tells of
 * is made already, and the controller's pass goes on.
 */
export async function deploymentEvent(ctx: ServerContext, d: Pick<Deployment, 'id' | 'tenantId' | 'name'>, type: DeploymentEventType, data: JsonObject): Promise<void> {
  await ctx.store.deploymentEvents.emit(eventOf(d, type, data)).catch((err: unknown) => ctx.log.warn({ err, deployment: d.name, tenantId: d.tenantId, type }, 'deployment event not written'));
}

/** Tells the runs of `d` that started or ended since the last look, and the `depends` conditions that changed. */
export async function tellChanges(ctx: ServerContext, d: Deployment): Promise<void> {
  await tellRuns(ctx, d);
  await tellDependencies(ctx, d);
}

/** `deployment.replica.started` / `.ended` for each run whose start or end was not told yet. */
export async function tellRuns(ctx: ServerContext, d: Deployment): Promise<void> {
  for (const r of await ctx.store.deploymentEvents.untoldRuns(d.id)) {
    const ended = isFinalRun(r.state as never);
    const events: NewEvent[] = [];
    if (r.told === null && r.startedAt !== null) events.push(eventOf(d, 'deployment.replica.started', { ...runData(r), nodeId: r.nodeId }));
    if (ended) events.push(eventOf(d, 'deployment.replica.ended', { ...runData(r), state: r.state, exitCode: r.exitCode }));
    if (events.length > 0) await ctx.store.deploymentEvents.tellRun(r.runId, r.told, ended ? 'ended' : 'started', events);
  }
}

function runData(r: UntoldRun): JsonObject {
  return { service: r.service, runId: r.runId, kind: r.kind, revision: r.revision };
}

/** `deployment.dependency` for each condition of each service that changed since it was last told (an unmet one is told from the start). */
export async function tellDependencies(ctx: ServerContext, d: Deployment): Promise<void> {
  const dependents = d.plan.services.filter((s) => s.depends.length > 0);
  if (dependents.length === 0 || d.state !== 'active') return;
  const runsOf = new Map<string, DeploymentRun[]>();
  for (const name of new Set(dependents.flatMap((s) => s.depends.map((x) => x.service)))) runsOf.set(name, await ctx.store.deployments.runs(d.id, { service: name, limit: 50 }));
  const before = await ctx.store.deploymentEvents.dependencyMarks(d.id);
  const after: DependencyMarks = {};
  const events: NewEvent[] = [];
  for (const svc of dependents) {
    after[svc.name] = {};
    for (const dep of dependencyStatus(d, svc, runsOf)) {
      (after[svc.name] ??= {})[dep.service] = dep.met;
      // Unknown before: met needs no word, unmet (a service waiting for it) does.
      if ((before[svc.name]?.[dep.service] ?? true) !== dep.met) events.push(eventOf(d, 'deployment.dependency', { service: svc.name, dependency: dep.service, condition: dep.condition, met: dep.met }));
    }
  }
  if (events.length > 0 || JSON.stringify(before) !== JSON.stringify(after)) await ctx.store.deploymentEvents.tellDependencies(d.id, before, after, events);
}
