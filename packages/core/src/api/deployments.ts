/**
 * Schemas of `/v1/deployments`: long-running services, jobs and cron from a ZLayer V1 spec
 * (`deploy/spec.ts`), their replicas and runs.
 */
import { z } from 'zod';
import { TimestampSchema } from './common.js';
import { DEPLOYMENT_EVENT_TYPES } from '../event-types.js';
import { ExecRequestSchema } from './exec.js';

/** POST /v1/deployments and /v1/deployments/validate body. */
export const ApplyDeploymentRequestSchema = z
  .strictObject({
    /** The spec as written: YAML (or JSON) text. */
    spec: z.string().min(1, 'spec must not be empty').max(1_048_576, 'spec must be at most 1 MiB'),
    /** The deploying environment: values of the spec's `$E:NAME` (the CLI sends those it names). */
    env: z.record(z.string(), z.string()).default({}),
    /** The file's name, for messages (`deploy.yaml:12: …`). */
    file: z.string().max(255).default('spec'),
  })
  .meta({ id: 'ApplyDeploymentRequest' });
/** POST /v1/deployments body. */
export type ApplyDeploymentRequest = z.input<typeof ApplyDeploymentRequestSchema>;

/** `:name` of a deployment. */
export const DeploymentParamsSchema = z.strictObject({
  name: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name must be a deployment name (letters, digits, ., _, -)'),
});
/** `:name` and `:service`. */
export const DeploymentServiceParamsSchema = DeploymentParamsSchema.extend({
  service: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'service must be a service name (letters, digits, ., _, -)'),
});

/** A run a deployment started: a service's replica, a job's trigger, a cron's tick. */
export const DeploymentRunSchema = z
  .object({
    runId: z.string(),
    service: z.string(),
    kind: z.enum(['replica', 'job', 'cron']),
    revision: z.number().int(),
    tick: TimestampSchema.nullable(),
    state: z.string(),
    /** What its health checks say: `unknown` (none yet, or the service has none), `healthy`, `unhealthy` (stopped for it), `isolated` (kept running apart); `draining`: out of the proxy, being stopped. */
    health: z.enum(['unknown', 'healthy', 'unhealthy', 'isolated', 'draining']),
    exitCode: z.number().int().nullable(),
    createdAt: TimestampSchema,
    endedAt: TimestampSchema.nullable(),
  })
  .meta({ id: 'DeploymentRun' });
/** A run of a deployment. */
export type DeploymentRun = z.infer<typeof DeploymentRunSchema>;

/** One service of a deployment, with what runs of it now. */
export const DeploymentServiceSchema = z.object({
  name: z.string(),
  kind: z.enum(['service', 'job', 'cron']),
  image: z.string(),
  /** Services: the replicas wanted; 0 for jobs and cron. */
  desired: z.number().int(),
  /** Runs of it not ended (replicas starting or running; a job's or cron's in flight). */
  live: z.number().int(),
  /** Of those, running (an isolated replica not counted). */
  running: z.number().int(),
  /** Of those, passing their health checks. */
  healthy: z.number().int(),
  /** Of those, taking traffic: running, not isolated or draining, and healthy when the service has checks (what `deploy` waits for). */
  ready: z.number().int(),
  schedule: z.string().nullable(),
  /** Services stopped for good after a failure: by `on_panic: shutdown`, or `errors.on_init_failure: fail` after an init step failed. */
  failed: z.boolean(),
  /**
   * Each service it `depends` on and whether its condition holds now. One that stops holding
   * after start-up (a dependency turned unhealthy) is reported here and as a
   * `deployment.dependency` event; the service's running replicas are left running.
   */
  dependencies: z.array(z.object({ service: z.string(), condition: z.enum(['started', 'healthy', 'ready']), met: z.boolean() })),
});

/** One endpoint of a deployment's service, and where it is reached. */
export const DeploymentEndpointSchema = z.object({
  service: z.string(),
  name: z.string(),
  protocol: z.enum(['http', 'https', 'tcp', 'udp', 'websocket']),
  expose: z.enum(['public', 'internal']),
  port: z.number().int(),
  targetPort: z.number().int(),
  path: z.string().nullable(),
  /** A public HTTP endpoint's URL, path-routed on the server's address (`…/d/<deployment>--<tag>/<path>`); a public TCP or UDP one's address (`tcp://host:port`, published on its port); null for internal ones. */
  url: z.string().nullable(),
  /** The same, host-routed (`<deployment>--<tag>.<proxyDomain>`) when the server has a proxy domain; null otherwise. */
  hostUrl: z.string().nullable(),
});

/** One endpoint of a deployment. */
export type DeploymentEndpoint = z.infer<typeof DeploymentEndpointSchema>;

/** A deployment. */
export const DeploymentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    revision: z.number().int(),
    state: z.enum(['active', 'stopping', 'stopped']),
    services: z.array(DeploymentServiceSchema),
    endpoints: z.array(DeploymentEndpointSchema),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  })
  .meta({ id: 'Deployment' });
/** A deployment. */
export type Deployment = z.infer<typeof DeploymentSchema>;

/** GET /v1/deployments answer. */
export const DeploymentListSchema = z.object({ items: z.array(DeploymentSchema) }).meta({ id: 'DeploymentList' });
/** GET /v1/deployments/:name/runs answer. */
export const DeploymentRunListSchema = z.object({ items: z.array(DeploymentRunSchema) }).meta({ id: 'DeploymentRunList' });

/** POST /v1/deployments/:name/services/:service/scale body. */
export const ScaleRequestSchema = z.strictObject({ replicas: z.number().int().min(0, 'replicas must be at least 0').max(1000, 'replicas must be at most 1000') }).meta({ id: 'ScaleRequest' });

/** POST …/trigger query: `wait=false` answers at once with the run's id. */
export const TriggerQuerySchema = z.strictObject({ wait: z.enum(['true', 'false']).default('true') });

/** POST …/trigger answer: the job's run, and (waited) its result and output. */
export const TriggerResultSchema = z
  .object({
    runId: z.string(),
    state: z.string(),
    exitCode: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    /** stdout and stderr as they came, in order (waited only). */
    logs: z.string().nullable(),
  })
  .meta({ id: 'TriggerResult' });
/** A job trigger's result. */
export type TriggerResult = z.infer<typeof TriggerResultSchema>;

/** GET /v1/deployments/:name/events query: events after `after` (an event id; `Last-Event-ID` for a stream), of the given `types`. */
export const DeploymentEventsQuerySchema = z.strictObject({
  after: z.string().regex(/^\d{1,18}$/, 'after must be an event id (decimal digits)').optional(),
  types: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.split(',').every((t) => (DEPLOYMENT_EVENT_TYPES as readonly string[]).includes(t.trim())), {
      message: `types must be deployment event types separated by commas, of ${DEPLOYMENT_EVENT_TYPES.join(', ')}`,
    }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * POST /v1/deployments/:name/services/:service/exec body: a sandbox exec request, plus `replica`
 * (a replica's run id; default: one running replica of the service).
 */
export const DeploymentExecRequestSchema = ExecRequestSchema.safeExtend({
  replica: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'replica must be a run id (tartarus ps DEPLOYMENT lists them)').optional(),
}).meta({ id: 'DeploymentExecRequest' });
/** A deployment exec request as sent. */
export type DeploymentExecRequest = z.input<typeof DeploymentExecRequestSchema>;
