/**
 * `/v1/deployments`: apply a ZLayer V1 spec (created, or a new revision), validate one, list and
 * read deployments with what runs of each service, their runs (`ps`), scale a service, trigger a
 * job (waiting for its result and output, or not), stop a deployment (or one service), remove a
 * stopped one.
 */
import {
  ApplyDeploymentRequestSchema,
  ConflictError,
  DeploymentListSchema,
  DeploymentParamsSchema,
  DeploymentRunListSchema,
  DeploymentSchema,
  DeploymentServiceParamsSchema,
  isFinalRun,
  NotFoundError,
  ScaleRequestSchema,
  TriggerQuerySchema,
  TriggerResultSchema,
  type Deployment as DeploymentDto,
  type DeploymentRun as DeploymentRunDto,
} from '@tartarus/core';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { iso, isoOrNull } from '../http/convert.js';
import { errorResponses } from '../routes/common.js';
import type { RouteModule } from '../routes/types.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import type { ServerContext } from '../context.js';
import type { DeploymentController } from './controller.js';
import { endpointsOf } from '../proxy/deployment-routing.js';
import { checkPortClaims } from '../proxy/port-endpoints.js';
import { takesTraffic } from './routable.js';
import { initialReplicas, loadPlan } from './spec.js';
import { checkManualScale } from './autoscale.js';
import { dependencyStatus } from './depends.js';
import { deploymentEvent } from './events.js';
import { afterFailure } from './init.js';
import { deploymentOpsRoutes } from './ops-routes.js';

const tags = ['deployments'];
/** How long a job trigger waits for its run to end before answering with its state, ms. */
const TRIGGER_WAIT_MS = 15 * 60_000;

function runDto(r: DeploymentRun): DeploymentRunDto {
  return { runId: r.runId, service: r.service, kind: r.kind, revision: r.revision, tick: isoOrNull(r.tick), state: r.state, health: r.health, exitCode: r.exitCode, createdAt: iso(r.createdAt), endedAt: isoOrNull(r.endedAt) };
}

/** The deployment with what runs of each service now. */
async function deploymentDto(ctx: ServerContext, d: Deployment, base: string): Promise<DeploymentDto> {
  const runs = await ctx.store.deployments.runs(d.id, { limit: 1000 });
  const runsOf = new Map(d.plan.services.map((s) => [s.name, runs.filter((r) => r.service === s.name)]));
  const services = d.plan.services.map((s) => {
    const mine = runs.filter((r) => r.service === s.name);
    const live = mine.filter((r) => !isFinalRun(r.state as never));
    const current = mine.filter((r) => r.revision === d.revision && r.endedAt !== null);
    return {
      name: s.name,
      kind: s.kind,
      image: s.image,
      desired: s.kind === 'service' ? (d.replicas[s.name] ?? 0) : 0,
      live: live.length,
      running: live.filter((r) => r.state === 'running' && r.health !== 'isolated').length,
      healthy: live.filter((r) => r.state === 'running' && r.health === 'healthy').length,
      ready: live.filter((r) => r.revision === d.revision && takesTraffic(s, r)).length,
      schedule: s.schedule,
      failed: s.kind === 'service' && live.length === 0 && (current[0]?.state === 'failed' || current[0]?.state === 'dead' || current[0]?.health === 'unhealthy') && afterFailure(s, current[0]) === 'stop',
      dependencies: dependencyStatus(d, s, runsOf),
    };
  });
  const endpoints = endpointsOf(d.plan, d.tenantId, base, ctx.config.proxyDomain);
  return { id: d.id, name: d.name, revision: d.revision, state: d.state, services, endpoints, createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt) };
}

/** The server's address as the caller reached it (the base of endpoint URLs). */
function baseOf(req: { protocol: string; headers: { host?: string | undefined } }): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/** Registers the deployment routes. */
export function deploymentRoutes(controller: DeploymentController): RouteModule {
  return (app, deps) => {
    const { ctx, runs } = deps;
    const { store } = ctx;
    app.post('/v1/deployments', {
      config: { access: 'member', audit: 'deployment.apply' },
      schema: { tags, summary: 'Deploy a ZLayer V1 spec: a new deployment, or a new revision of one (rolled out replica by replica)', body: ApplyDeploymentRequestSchema, response: { 200: DeploymentSchema, 201: DeploymentSchema, ...errorResponses } },
      handler: async (req, reply) => {
        const tenantId = principalOf(req).tenantId;
        const plan = await loadPlan(ctx, tenantId, req.body.spec, req.body.file, req.body.env);
        checkPortClaims(plan, tenantId, ctx.config.publicPortRange, await store.deployments.listLive());
        const { deployment, created } = await store.deployments.apply(tenantId, req.body.spec, plan, initialReplicas(plan));
        req.auditTarget = deployment.name;
        await deploymentEvent(ctx, deployment, 'deployment.applied', { revision: deployment.revision, created });
        controller.kick();
        return reply.code(created ? 201 : 200).send(await deploymentDto(ctx, deployment, baseOf(req)));
      },
    });
    app.post('/v1/deployments/validate', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'Check a spec without deploying it: the compiled plan, or a 400 naming the field and line', body: ApplyDeploymentRequestSchema, response: { 200: z.record(z.string(), z.unknown()), ...errorResponses } },
      handler: async (req) => (await loadPlan(ctx, principalOf(req).tenantId, req.body.spec, req.body.file, req.body.env)) as unknown as Record<string, unknown>,
    });
    app.get('/v1/deployments', {
      config: { access: 'viewer' },
      schema: { tags, summary: "The tenant's deployments", response: { 200: DeploymentListSchema, ...errorResponses } },
      handler: async (req) => ({ items: await Promise.all((await store.deployments.list(principalOf(req).tenantId)).map((d) => deploymentDto(ctx, d, baseOf(req)))) }),
    });
    app.get('/v1/deployments/:name', {
      config: { access: 'viewer' },
      schema: { tags, summary: 'A deployment and what runs of each service', params: DeploymentParamsSchema, response: { 200: DeploymentSchema, ...errorResponses } },
      handler: async (req) => deploymentDto(ctx, await store.deployments.get(principalOf(req).tenantId, req.params.name), baseOf(req)),
    });
    app.get('/v1/deployments/:name/runs', {
      config: { access: 'viewer' },
      schema: { tags, summary: "A deployment's runs, newest first: replicas, job triggers, cron ticks", params: DeploymentParamsSchema, querystring: z.strictObject({ service: z.string().max(128).optional(), live: z.enum(['true', 'false']).default('false') }), response: { 200: DeploymentRunListSchema, ...errorResponses } },
      handler: async (req) => {
        const d = await store.deployments.get(principalOf(req).tenantId, req.params.name);
        return { items: (await store.deployments.runs(d.id, { ...(req.query.service === undefined ? {} : { service: req.query.service }), live: req.query.live === 'true', limit: 500 })).map(runDto) };
      },
    });
    app.post('/v1/deployments/:name/services/:service/scale', {
      config: { access: 'member', audit: 'deployment.scale' },
      schema: { tags, summary: "Set a service's replicas", params: DeploymentServiceParamsSchema, body: ScaleRequestSchema, response: { 200: DeploymentSchema, ...errorResponses } },
      handler: async (req) => {
        checkManualScale(await store.deployments.get(principalOf(req).tenantId, req.params.name), req.params.service, req.body.replicas);
        const d = await store.deployments.setReplicas(principalOf(req).tenantId, req.params.name, req.params.service, req.body.replicas);
        req.auditTarget = `${d.name}/${req.params.service}`;
        await deploymentEvent(ctx, d, 'deployment.scaled', { service: req.params.service, replicas: req.body.replicas, by: 'request' });
        controller.kick();
        return deploymentDto(ctx, d, baseOf(req));
      },
    });
    app.post('/v1/deployments/:name/services/:service/trigger', {
      config: { access: 'member', audit: 'deployment.trigger' },
      schema: { tags, summary: "Run a job once: waits for its result and output (or not, with wait=false)", params: DeploymentServiceParamsSchema, querystring: TriggerQuerySchema, response: { 200: TriggerResultSchema, 202: TriggerResultSchema, ...errorResponses } },
      handler: async (req, reply) => {
        const tenantId = principalOf(req).tenantId;
        const d = await store.deployments.get(tenantId, req.params.name);
        const svc = d.plan.services.find((s) => s.name === req.params.service);
        if (svc === undefined) throw new NotFoundError(`deployment ${d.name} has no service ${req.params.service}`);
        if (svc.kind === 'service') throw new ConflictError(`${svc.name} is a service: only jobs and cron services are triggered (scale a service instead)`);
        if (d.state !== 'active') throw new ConflictError(`deployment ${d.name} is ${d.state}: deploy it again to trigger its jobs`);
        const runId = await controller.startRun(d, svc, 'job', null);
        req.auditTarget = `${d.name}/${svc.name}`;
        if (req.query.wait === 'false') return reply.code(202).send({ runId, state: 'queued', exitCode: null, durationMs: null, logs: null });
        const run = await runs.waitFinal(tenantId, runId, TRIGGER_WAIT_MS, undefined);
        const logs = isFinalRun(run.state) ? (await store.runs.readLogs(tenantId, runId, { limit: 5000 })).map((c) => c.data).join('') : null;
        const durationMs = run.startedAt !== null && run.endedAt !== null ? run.endedAt - run.startedAt : null;
        return reply.code(isFinalRun(run.state) ? 200 : 202).send({ runId, state: run.state, exitCode: run.result?.exitCode ?? null, durationMs, logs });
      },
    });
    app.post('/v1/deployments/:name/stop', {
      config: { access: 'member', audit: 'deployment.stop' },
      schema: { tags, summary: 'Stop a deployment (its runs are stopped: SIGTERM, then SIGKILL), or one service (scaled to 0)', params: DeploymentParamsSchema, querystring: z.strictObject({ service: z.string().max(128).optional() }), response: { 200: DeploymentSchema, ...errorResponses } },
      handler: async (req) => {
        const tenantId = principalOf(req).tenantId;
        const d = req.query.service === undefined ? await store.deployments.get(tenantId, req.params.name) : await store.deployments.setReplicas(tenantId, req.params.name, req.query.service, 0);
        if (req.query.service === undefined && d.state === 'active') await store.deployments.setState(d.id, 'stopping');
        else if (req.query.service !== undefined) await deploymentEvent(ctx, d, 'deployment.stopped', { service: req.query.service });
        req.auditTarget = d.name;
        controller.kick();
        return deploymentDto(ctx, await store.deployments.get(tenantId, d.name), baseOf(req));
      },
    });
    app.delete('/v1/deployments/:name', {
      config: { access: 'member', audit: 'deployment.remove' },
      schema: { tags, summary: 'Remove a stopped deployment (its runs stay in the run history)', params: DeploymentParamsSchema, response: { 204: z.null(), ...errorResponses } },
      handler: async (req, reply) => {
        const d = await store.deployments.get(principalOf(req).tenantId, req.params.name);
        if (d.state !== 'stopped') throw new ConflictError(`deployment ${d.name} is ${d.state}: stop it first (tartarus stop ${d.name}; tartarus deployments rm does both)`);
        await store.deployments.remove(d.id);
        req.auditTarget = d.name;
        return reply.code(204).send(null);
      },
    });
    deploymentOpsRoutes(app, deps);
  };
}
