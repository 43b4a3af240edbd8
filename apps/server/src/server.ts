/**
 * One control-plane server: HTTP API + agent hub + scheduler + sweeper over a store. Embedded
 * mode (`embedded.ts`) adds an in-process agent; distributed mode runs several of these against
 * PostgreSQL.
 */
import { InvalidArgumentError } from '@tartarus/core';
import { SocketRelays } from '@tartarus/runtime';
import { AgentHub } from './agents/hub.js';
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import type { Registry } from 'prom-client';
import { EventBus, type Logger, type ServerContext } from './context.js';
import { createApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { adminRoutes } from './routes/admin.js';
import { agentRoutes } from './routes/agent.js';
import { execRoutes } from './routes/exec.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { runLogRoutes } from './routes/run-logs.js';
import { runRoutes } from './routes/runs.js';
import { sandboxRoutes } from './routes/sandboxes.js';
import { registryRoutes } from './routes/registries.js';
import { networkPolicyRoutes } from './routes/network-policies.js';
import { templateRoutes } from './routes/templates.js';
import { portRoutes } from './routes/ports.js';
import { usageRoutes } from './routes/usage.js';
import { eventRoutes } from './routes/events.js';
import { EventPump } from './events/pump.js';
import { startLogShipping } from './logs/index.js';
import { logRoutes } from './routes/logs.js';
import { SecretVault } from './secrets/vault.js';
import { secretRoutes } from './routes/secrets.js';
import { webhookRoutes } from './routes/webhooks.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { createIntegrations } from './integrations/index.js';
import { DeploymentController } from './deployments/controller.js';
import { DeploymentTraffic } from './deployments/traffic.js';
import { EndpointTable } from './deployments/endpoint-table.js';
import { PortEndpoints } from './proxy/port-endpoints.js';
import { deploymentRoutes } from './deployments/routes.js';
import { joinCluster, openRedis, redisOptions } from './cluster/index.js';
import { installProxy } from './proxy/proxy.js';
import { AccessTokens } from './proxy/tokens.js';
import type { RouteDeps } from './routes/types.js';
import { Admission } from './scheduler/admission.js';
import { Scheduler } from './scheduler/scheduler.js';
import { Sweeper } from './scheduler/sweeper.js';
import { PoolPlanner } from './pools/planner.js';
import { poolRoutes } from './routes/pools.js';
import { terminationRoutes } from './routes/termination.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { RunService } from './services/runs.js';
import { SandboxService } from './services/sandboxes.js';
import { TemplateService } from './services/templates.js';
import type { Store } from './store/index.js';

/** Options of `startServer`. */
export interface StartServerOptions {
  store: Store;
  config?: ServerConfigInput;
  /** Default: silent. */
  log?: Logger;
  /** Distributed mode: Redis (`redis://…`, `rediss://…`, `unix:///…`) joining this replica to the others (cluster/). */
  redis?: string;
}

/** A listening server. */
export interface ServerHandle {
  /** `http://host:port`. */
  url: string;
  port: number;
  hub: AgentHub;
  /** Tenants' secrets (for integrations and deployments run in the same process). */
  secrets: SecretVault;
  /** Appends another registry's metrics to `/metrics` (the embedded agent's); nothing with observability off. */
  addMetrics(registry: Registry): void;
  /** Stops accepting, closes agent sockets, stops the loops. Does not close the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * The start-up warning when shared agent tokens are configured (they speak for any node without a
 * token of its own), or null when every configured token is bound to a node.
 */
export function sharedTokenWarning(config: ServerConfig): string | null {
  const shared = config.agentTokens.filter((t) => t.nodeId === null).length;
  if (shared === 0) return null;
  return (
    `${shared} shared agent token(s) configured: an agent holding one may connect as any node ` +
    'that has no token of its own. Use them only to bootstrap a trusted fleet; give each node ' +
    'its own token (tartarus nodes token create NODE_ID, or NODE_ID=TOKEN in the configuration)'
  );
}

/** Starts a server and listens. */
export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const config = parseServerConfig(options.config);
  const { store } = options;
  // A bad Redis URL is refused before anything starts.
  if (options.redis !== undefined) redisOptions(options.redis);
  const metrics = createMetrics(config.observability, {
    readyRuns: () => store.queue.countReady(),
    queueDepth: () => store.queue.depth(),
    liveSandboxes: () => store.sandboxes.countLive(),
    nodes: async () => (await store.nodes.list({ status: 'up' })).map((n) => ({ id: n.id, name: n.name, lastHeartbeatAt: n.lastHeartbeatAt })),
  });
  const shipping = startLogShipping(config, metrics.logShipping, store, options.log);
  const ctx: ServerContext = {
    config,
    store,
    bus: new EventBus(),
    metrics,
    log: shipping.log,
    logShipper: shipping.shipper,
    secrets: new SecretVault(store, config),
  };
  const redis = options.redis === undefined ? undefined : openRedis(options.redis, ctx);
  if (redis !== undefined) ctx.limiter = redis.limiter;
  const warning = sharedTokenWarning(config);
  if (warning !== null) ctx.log.warn({}, warning);
  const hub = new AgentHub(ctx);
  const cluster = redis === undefined ? undefined : joinCluster(ctx, hub, redis.redis);
  const admission = new Admission(ctx, hub);
  const templates = new TemplateService(ctx, hub);
  const deps: RouteDeps = {
    ctx,
    hub,
    sandboxes: new SandboxService(ctx, hub, admission, templates),
    runs: new RunService(ctx, hub, admission, templates),
    templates,
  };
  const integrations = await createIntegrations(ctx, deps.runs);
  const traffic = new DeploymentTraffic();
  const deployments = new DeploymentController(ctx, deps.runs, hub, traffic);
  const app = await createApp(ctx);
  const tokens = new AccessTokens(config.tokenSecret);
  const pools = new PoolPlanner(ctx, hub);
  for (const routes of [
    healthRoutes,
    agentRoutes,
    sandboxRoutes,
    terminationRoutes,
    snapshotRoutes,
    execRoutes,
    fileRoutes,
    runRoutes,
    runLogRoutes,
    templateRoutes,
    registryRoutes,
    networkPolicyRoutes,
    adminRoutes,
    usageRoutes,
    eventRoutes,
    logRoutes,
    secretRoutes,
    webhookRoutes,
    integrations.routes,
    deploymentRoutes(deployments),
    portRoutes(tokens),
    poolRoutes(pools),
  ]) {
    routes(app, deps);
  }
  // The port proxy goes in front of the router once every route (and the WebSocket plugin's upgrade handler) is in.
  await app.ready();
  const relays = new SocketRelays();
  const endpointTable = new EndpointTable(ctx);
  const proxyDeps = { ctx, hub, tokens, relays, deployments: { table: endpointTable, traffic } };
  const proxy = installProxy(app.server, proxyDeps);
  const publishedPorts = new PortEndpoints(proxyDeps, endpointTable, traffic);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    await cluster?.close();
    await shipping.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new InvalidArgumentError(
        `cannot listen on ${config.host}:${config.port} (${code}): choose another port or host`,
        { cause: err },
      );
    }
    throw err;
  }
  const scheduler = new Scheduler(ctx, hub);
  const sweeper = new Sweeper(ctx, hub);
  const events = new EventPump(ctx);
  const webhooks = new WebhookDispatcher(ctx);
  scheduler.start();
  sweeper.start();
  events.start();
  webhooks.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  integrations.setPublicUrl(url);
  integrations.dispatcher.start();
  deployments.start();
  publishedPorts.start();
  pools.start();
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    hub,
    secrets: ctx.secrets,
    addMetrics: (registry) => {
      if (config.observability) ctx.metrics.more.push(registry);
    },
    close() {
      closing ??= (async () => {
        scheduler.stop();
        sweeper.stop();
        await events.stop();
        await webhooks.stop();
        await integrations.dispatcher.stop();
        await deployments.stop();
        await publishedPorts.stop();
        await pools.stop();
        await cluster?.close();
        hub.closeAll();
        relays.close();
        proxy.close();
        await app.close();
        await shipping.close();
      })();
      return closing;
    },
  };
}
