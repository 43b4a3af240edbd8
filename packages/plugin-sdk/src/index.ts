/**
 * `@tartarus/plugin-sdk`: write an integration as a plugin of the Tartarus server.
 *
 * A plugin has a name, a per-tenant config schema (zod), routes (mounted under
 * `/v1/integrations/<name>/…`, public: the plugin authenticates its callers itself, e.g. by a
 * provider's signature over the raw body) and an event subscription (the platform's event bus,
 * delivered at least once and in order). What the platform offers it is the `PluginHost`.
 *
 * ```ts
 * export default definePlugin({
 *   name: 'hello',
 *   description: 'says hello when a run finishes',
 *   configSchema: z.strictObject({ greeting: z.string().default('hello') }),
 *   events: { types: ['run.finished'], async handle(event, host) { host.log.info({ event: event.id }, 'hello') } },
 * });
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Event, EventType, Run, SubmitRunRequest } from '@tartarus/core';
import type { z } from 'zod';

/** A request to one of a plugin's routes. */
export interface PluginRequest {
  /** Path parameters of the route (`/webhook/:tenant` → `{ tenant }`). */
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body exactly as it arrived (signatures are computed over it). */
  rawBody: Buffer;
}

/** A route's answer. */
export interface PluginResponse {
  status: number;
  /** JSON-encoded unless a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One route of a plugin. */
export interface PluginRoute {
  method: 'GET' | 'POST';
  /** Relative to `/v1/integrations/<name>`, e.g. `/webhook/:tenant`. */
  path: string;
  handler(req: PluginRequest, host: PluginHost): Promise<PluginResponse>;
}

/** Structured log of the server, with the plugin's name on every line. */
export interface PluginLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the platform offers a plugin. Every call is scoped to one tenant. */
export interface PluginHost {
  /** The tenant's config of this plugin (parsed by its schema), or null when the tenant has none. */
  config<C>(tenantId: string): Promise<C | null>;
  /** A named secret of the tenant (`tartarus secrets set NAME`); NotFoundError when there is none. */
  secret(tenantId: string, name: string): Promise<string>;
  /** Submits a run for the tenant, as `POST /v1/runs` would (same checks; an idempotency key makes a retry safe). */
  submitRun(tenantId: string, request: SubmitRunRequest, idempotencyKey?: string): Promise<Run>;
  /** A run of the tenant. */
  getRun(tenantId: string, runId: string): Promise<Run>;
  /** The tenant's latest runs, newest first. */
  listRuns(tenantId: string, limit: number): Promise<Run[]>;
  /** What the tenant has now: queued and running runs, live sandboxes, nodes up. */
  status(tenantId: string): Promise<{ queuedRuns: number; runningRuns: number; liveSandboxes: number; nodesUp: number }>;
  /** The first call with `key` for the tenant returns true, every later one false (deduplicating deliveries). */
  firstTime(tenantId: string, key: string): Promise<boolean>;
  /** Undoes `firstTime` for `key` (a delivery that could not be handled may come again). */
  forget(tenantId: string, key: string): Promise<void>;
  /** Small JSON state of the plugin per tenant and key (e.g. a run's commit), kept until deleted. */
  state: {
    get<T>(tenantId: string, key: string): Promise<T | null>;
    put(tenantId: string, key: string, value: unknown): Promise<void>;
    delete(tenantId: string, key: string): Promise<void>;
  };
  /** A link to a run for people (the dashboard's page of it). */
  runUrl(runId: string): string;
  /** HTTP out, to the addresses the server's destination rules allow (never the host, metadata or the control plane). */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  log: PluginLogger;
}

/** A plugin's event subscription. */
export interface PluginEvents {
  /** The types it receives (all of a tenant's events of these types, for tenants that configured the plugin). */
  types: readonly EventType[];
  /** Called once per event, in order; a throw is retried (with backoff) before later events. */
  handle(event: Event, host: PluginHost): Promise<void>;
}

/** An integration. */
export interface Plugin<C = unknown> {
  /** Lower-case letters, digits and `-`; its routes live under `/v1/integrations/<name>`. */
  name: string;
  description: string;
  /** The per-tenant config (`PUT /v1/integrations/<name>/config`), validated with it: a bad one is a 400 naming the field. */
  configSchema: z.ZodType<C>;
  routes?: readonly PluginRoute[];
  events?: PluginEvents;
}

/** Declares a plugin (an identity function that types it). */
export function definePlugin<C>(plugin: Plugin<C>): Plugin<C> {
  return plugin;
}

/** Lower-case hex HMAC-SHA256 of `data` with `key`. */
export function hmacSha256Hex(key: string, data: Buffer | string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** Whether two strings are equal, in time independent of where they differ (signatures). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A JSON answer. */
export function json(status: number, body: unknown): PluginResponse {
  return { status, body };
}
