/**
 * Operating a deployment: `GET /v1/deployments/:name/events` (what happens to it, as pages or a
 * resumable SSE stream, from the same bus as `GET /v1/events`) and
 * `POST /v1/deployments/:name/services/:service/exec` (a command in one replica's sandbox, as the
 * sandbox exec route runs it: the replica's node runs it and answers with its output and code).
 */
import {
  ConflictError,
  DEPLOYMENT_EVENT_TYPES,
  DeploymentEventsQuerySchema,
  DeploymentExecRequestSchema,
  DeploymentParamsSchema,
  DeploymentServiceParamsSchema,
  EventPageSchema,
  ExecResultSchema,
  NotFoundError,
} from '@tartarus/core';
import { principalOf } from '../http/auth.js';
import { wantsEventStream } from '../http/sse.js';
import { errorResponses } from '../routes/common.js';
import { eventDto, streamEvents, streamStart } from '../routes/events.js';
import type { RouteModule } from '../routes/types.js';
import { attemptSandboxId } from '../scheduler/scheduler.js';
import { runExec } from '../services/exec.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import type { EventFilter } from '../store/events.js';
import type { ServerContext } from '../context.js';

const tags = ['deployments'];

/** The replica of `service` an exec goes to: `runId` when given (it must run), else the newest running one. */
async function execTarget(ctx: ServerContext, d: Deployment, service: string, runId: string | undefined): Promise<DeploymentRun & { nodeId: string }> {
  const svc = d.plan.services.find((s) => s.name === service);
  if (svc === undefined) throw new NotFoundError(`deployment ${d.name} has no service ${service}`, { context: { deployment: d.name, service } });
  const runs = await ctx.store.deployments.runs(d.id, { service, live: true, limit: 200 });
  const running = runs.filter((r): r is DeploymentRun & { nodeId: string } => r.state === 'running' && r.nodeId !== null);
  if (runId !== undefined) {
    const r = running.find((x) => x.runId === runId);
    if (r !== undefined) return r;
    if (runs.some((x) => x.runId === runId)) throw new ConflictError(`replica ${runId} of ${d.name}/${service} is not running yet: try again, or leave out replica`);
    throw new NotFoundError(`${d.name}/${service} has no live replica ${runId}: tartarus ps ${d.name} lists them`);
  }
  const r = running[0];
  if (r === undefined) throw new ConflictError(`${d.name}/${service} has no running replica${svc.kind === 'service' ? '' : ` (it is a ${svc.kind}: exec reaches one of its runs only while it runs)`}`);
  return r;
}

/** Registers the events and exec routes of deployments. */
export const deploymentOpsRoutes: RouteModule = (app, { ctx, hub }) => {
  app.get('/v1/deployments/:name/events', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'What happens to a deployment: applied, replicas started and ended, health, dependencies, scaled, rolled back, stopped (pages, or SSE resumable by Last-Event-ID)',
      description:
        'The `deployment.*` events of this deployment, in bus order (the same events as `GET /v1/events` and webhooks; their object is the deployment\'s id). A page lists from the oldest kept (or after `after`); with `Accept: text/event-stream` a stream starts now (or after `after`, or `Last-Event-ID` when reconnecting), with a `ready` event first.',
      params: DeploymentParamsSchema,
      querystring: DeploymentEventsQuerySchema,
      response: { 200: EventPageSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const d = await ctx.store.deployments.get(principalOf(req).tenantId, req.params.name);
      const q = req.query;
      const filter: Omit<EventFilter, 'after'> = { tenantId: d.tenantId, objectId: d.id, types: q.types?.split(',').map((t) => t.trim()) ?? DEPLOYMENT_EVENT_TYPES, limit: q.limit };
      if (wantsEventStream(req)) return streamEvents(ctx, req, reply, filter, streamStart(req, q.after));
      const items = await ctx.store.events.list({ ...filter, after: q.after === undefined ? 0 : Number(q.after) });
      return { items: items.map(eventDto), nextAfter: items.length === q.limit ? String(items.at(-1)?.seq) : null };
    },
  });
  app.post('/v1/deployments/:name/services/:service/exec', {
    config: { access: 'member', audit: 'deployment.exec' },
    schema: {
      tags,
      summary: "Run a command in a replica's sandbox (one running replica, or the one named): its output and exit code",
      params: DeploymentServiceParamsSchema,
      body: DeploymentExecRequestSchema,
      response: { 200: ExecResultSchema, ...errorResponses },
    },
    handler: async (req) => {
      const d = await ctx.store.deployments.get(principalOf(req).tenantId, req.params.name);
      const { replica, ...exec } = req.body;
      const r = await execTarget(ctx, d, req.params.service, replica);
      req.auditTarget = `${d.name}/${r.service}/${r.runId}`;
      return runExec(hub, { id: attemptSandboxId(r.runId, r.epoch), nodeId: r.nodeId }, exec);
    },
  });
};
