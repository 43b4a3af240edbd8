/**
 * What the platform offers a plugin (`PluginHost` of `@tartarus/plugin-sdk`), built from the
 * server's own parts: runs go through the same service as `POST /v1/runs` (compile, admission,
 * quotas), secrets through the vault, state through the store, outbound HTTP through the
 * destination rules.
 */
import { SubmitRunRequestSchema, type SubmitRunRequest } from '@tartarus/core';
import type { Plugin, PluginHost } from '@tartarus/plugin-sdk';
import type { ServerContext } from '../context.js';
import { runDto } from '../http/convert.js';
import type { RunService } from '../services/runs.js';

/** `fetch` under the destination rules (`guard.ts`). */
export type GuardedFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** What a host is built from. */
export interface HostParts {
  ctx: ServerContext;
  runs: RunService;
  /** Base URL of links for people (the dashboard). */
  publicUrl: () => string;
  fetch: GuardedFetch;
}

/** The host of `plugin`. */
export function createPluginHost(plugin: Plugin<unknown>, parts: HostParts): PluginHost {
  const { ctx, runs } = parts;
  const { store } = ctx;
  const name = plugin.name;
  const log = {
    info: (o: object, m?: string) => ctx.log.info({ plugin: name, ...o }, m),
    warn: (o: object, m?: string) => ctx.log.warn({ plugin: name, ...o }, m),
    error: (o: object, m?: string) => ctx.log.error({ plugin: name, ...o }, m),
  };
  return {
    async config<C>(tenantId: string) {
      const raw = await store.integrations.getConfig(tenantId, name);
      return raw === null ? null : (plugin.configSchema.parse(raw) as C);
    },
    secret: (tenantId, secretName) => ctx.secrets.reveal(tenantId, secretName),
    async submitRun(tenantId, request: SubmitRunRequest, idempotencyKey) {
      const { run } = await runs.submit(tenantId, SubmitRunRequestSchema.parse(request), idempotencyKey);
      return runDto(run);
    },
    getRun: async (tenantId, runId) => runDto(await store.runs.get(tenantId, runId)),
    listRuns: async (tenantId, limit) => (await store.runs.list(tenantId, { limit })).items.map(runDto),
    async status(tenantId) {
      const [queued, running, sandboxes, nodes] = await Promise.all([
        store.runs.list(tenantId, { state: 'queued', limit: 500 }),
        store.runs.list(tenantId, { state: 'running', limit: 500 }),
        store.sandboxes.list(tenantId, { state: 'running', limit: 500 }),
        store.nodes.list({ status: 'up' }),
      ]);
      return { queuedRuns: queued.items.length, runningRuns: running.items.length, liveSandboxes: sandboxes.items.length, nodesUp: nodes.length };
    },
    firstTime: (tenantId, key) => store.integrations.firstTime(tenantId, name, key),
    forget: (tenantId, key) => store.integrations.deleteState(tenantId, name, `seen:${key}`),
    state: {
      get: async <T>(tenantId: string, key: string) => (await store.integrations.getState(tenantId, name, key)) as T | null,
      put: (tenantId, key, value) => store.integrations.putState(tenantId, name, key, value),
      delete: (tenantId, key) => store.integrations.deleteState(tenantId, name, key),
    },
    runUrl: (runId) => `${parts.publicUrl()}/runs/${encodeURIComponent(runId)}`,
    // Redirects are not followed: each hop would need the destination rules again.
    fetch: (url, init) => parts.fetch(url, init),
    log,
  };
}
