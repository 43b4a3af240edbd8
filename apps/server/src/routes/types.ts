/** What every route module receives. */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { RunService } from '../services/runs.js';
import type { SandboxService } from '../services/sandboxes.js';
import type { TemplateService } from '../services/templates.js';

/** The fastify instance, typed by the zod schemas of each route. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** Shared parts handed to route modules. */
export interface RouteDeps {
  ctx: ServerContext;
  hub: AgentHub;
  sandboxes: SandboxService;
  runs: RunService;
  templates: TemplateService;
}

/** A route module: registers its routes on the app. */
export type RouteModule = (app: ZodApp, deps: RouteDeps) => void;
