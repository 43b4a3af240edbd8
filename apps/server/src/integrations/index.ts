/**
 * Integrations in a server: the plugins (built-in and from `pluginDir`), their hosts, their routes
 * and the delivery of the bus to them, assembled once at start.
 */
import type { Plugin, PluginHost } from '@tartarus/plugin-sdk';
import type { ServerContext } from '../context.js';
import type { RouteModule } from '../routes/types.js';
import type { RunService } from '../services/runs.js';
import { PluginDispatcher } from './dispatch.js';
import { guardedFetch } from './guard.js';
import { createPluginHost } from './host.js';
import { loadPlugins } from './registry.js';
import { integrationRoutes } from './routes.js';

/** The integrations of one server. */
export interface Integrations {
  plugins: Plugin<unknown>[];
  routes: RouteModule;
  dispatcher: PluginDispatcher;
  /** Where links for people point, once the server knows its own URL. */
  setPublicUrl(url: string): void;
}

/** Loads the plugins and builds their hosts, routes and dispatcher. */
export async function createIntegrations(ctx: ServerContext, runs: RunService): Promise<Integrations> {
  const plugins = await loadPlugins(ctx.config.pluginDir);
  let publicUrl = ctx.config.publicUrl?.replace(/\/+$/, '') ?? '';
  const hosts = new Map<string, PluginHost>();
  const fetch = guardedFetch({ allowed: ctx.config.webhookAllowedDestinations, listenHost: ctx.config.host });
  for (const p of plugins) hosts.set(p.name, createPluginHost(p, { ctx, runs, publicUrl: () => publicUrl, fetch }));
  return {
    plugins,
    routes: integrationRoutes(plugins, hosts),
    dispatcher: new PluginDispatcher(ctx, plugins, hosts),
    setPublicUrl(url) {
      if (ctx.config.publicUrl === null) publicUrl = url;
    },
  };
}
