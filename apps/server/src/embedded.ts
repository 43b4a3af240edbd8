/**
 * Embedded mode (`tartarus up`): server, scheduler and an in-process agent in one process, state
 * in SQLite under the data directory. The agent still speaks the WebSocket protocol over loopback,
 * so distributed mode reuses it unchanged. A restart on the same data directory loses nothing:
 * the store holds every accepted run, the agent's `hello` reports the sandboxes still on the host,
 * and reconciliation re-adopts them and requeues the attempts that died with the old process.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, RuntimeAdapter, agentNetworkOptions, type AgentConfigInput, type AgentRuntime, type NetworkOptions } from '@tartarus/agent';
import { DRIVER_FACTORIES, MicrovmDriver, Runtime, collectOrphans, type AccelOption, type RegistryOptions } from '@tartarus/runtime';
import { bootstrap, dataDirSecretKey } from './bootstrap.js';
import type { ServerConfigInput } from './config.js';
import type { Logger } from './context.js';
import { startServer } from './server.js';
import { openStore } from './store/index.js';

/** Options of `startEmbedded`. */
export interface EmbeddedOptions {
  /** State directory. Default `~/.tartarus`. */
  dataDir?: string;
  /** Port; 0 picks a free one. Default 7070. */
  port?: number;
  /** Interface. Default 127.0.0.1. */
  host?: string;
  /** Template cache. Default `<dataDir>/templates`. */
  templateDir?: string;
  /**
   * Acceleration of the microvm driver: `kvm`, `tcg` (QEMU software emulation) or `auto` (KVM
   * when a short test boot proves it runs guests, else TCG). Default `$TARTARUS_MICROVM_ACCEL` or `auto`.
   */
  microvmAccel?: AccelOption;
  /** Further server options (rate limits, lease times…). */
  server?: Omit<ServerConfigInput, 'port' | 'host' | 'agentTokens'>;
  /** Sandbox slots of the local agent. Default: 128 per CPU (placement reserves requests; slots only cap the count). */
  slots?: number;
  /** Warm pools of the local agent (see the agent's `pools` option). Default none. */
  pools?: AgentConfigInput['pools'];
  /** Usage metering of the local agent: how often sandboxes are sampled and reported (the agent's defaults: 5 s, 60 s). */
  usage?: Pick<AgentConfigInput, 'usageSampleMs' | 'usageReportMs'>;
  /** Registry mirrors and insecure registries for image pulls and builds. Default none. */
  registries?: RegistryOptions;
  /**
   * The sandboxes' network on this machine: IPv4 pool, bridge, DNS upstream, extra denied
   * destinations (the server's own address is always denied). Default: the runtime's
   * (`$TARTARUS_NET_POOL` or 10.89.0.0/16, `$TARTARUS_NET_BRIDGE` or tt0, the host's resolvers).
   */
  network?: NetworkOptions;
  /** The runtime the local agent uses. Default: a `Runtime` over `<dataDir>/runtime`. */
  runtime?: AgentRuntime;
  /** Default: silent. */
  log?: Logger;
}

/** A running embedded platform. */
export interface EmbeddedHandle {
  /** `http://127.0.0.1:7070`. */
  url: string;
  /** Set only on the first start of a data dir: the admin secret (also in `<dataDir>/admin-key`). */
  adminKey?: string;
  dataDir: string;
  /**
   * Stops agent, server and store. Sandboxes keep running and are re-adopted by the next start
   * (the result lists them, with when each will end), unless `destroySandboxes` (tests,
   * `tartarus up --stop-sandboxes`) removes every one of this data dir. Idempotent.
   */
  close(options?: { destroySandboxes?: boolean }): Promise<ClosedEmbedded>;
}

/** What `close()` left running for the next start. */
export interface ClosedEmbedded {
  /** Live sandboxes left for re-adoption; `timeoutAt` (ms since the epoch) is when each ends by itself, null for never. */
  left: { id: string; timeoutAt: number | null }[];
  /** Sandboxes destroyed (with `destroySandboxes`). */
  destroyed: number;
}

/** Default data directory: `~/.tartarus`. */
export function defaultDataDir(): string {
  return join(homedir(), '.tartarus');
}

async function stableNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'node-id');
  const existing = await readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  if (existing !== '') return existing;
  const id = `node-${randomUUID().slice(0, 8)}`;
  await writeFile(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/** Starts server + scheduler + local agent on a data directory. */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedHandle> {
  const dataDir = resolve(options.dataDir ?? defaultDataDir());
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Sandboxes no data dir owns any more (one deleted while its `up` was stopped) go first.
  const collected = await collectOrphans().catch(() => undefined);
  if (collected?.sandboxes.length) options.log?.info({ sandboxes: collected.sandboxes }, 'removed orphaned sandboxes');
  const store = await openStore({ backend: 'sqlite', path: join(dataDir, 'tartarus.db') });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let agent: Agent | undefined;
  try {
    const boot = await bootstrap(store, dataDir);
    const nodeId = await stableNodeId(dataDir);
    // A fresh agent token per start, bound to the local node: only this process's agent may
    // connect, and only as this node.
    const agentToken = randomBytes(32).toString('base64url');
    server = await startServer({
      store,
      config: {
        secretKey: await dataDirSecretKey(dataDir),
        ...options.server,
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 7070,
        agentTokens: [{ nodeId, secret: agentToken }],
      },
      ...(options.log ? { log: options.log } : {}),
    });
    const agentUrl = `${server.url.replace(/^http/, 'ws')}/v1/agent/connect`;
    const agentRuntime =
      options.runtime ??
      new RuntimeAdapter(
        new Runtime({
          stateDir: join(dataDir, 'runtime'),
          templateDir: options.templateDir ?? join(dataDir, 'templates'),
          ...(options.registries ? { registries: options.registries } : {}),
          network: await agentNetworkOptions(agentUrl, options.network),
          ...(options.microvmAccel === undefined
            ? {}
            : {
                drivers: {
                  ...DRIVER_FACTORIES,
                  microvm: (ctx) => new MicrovmDriver({ ...ctx, accel: options.microvmAccel }),
                },
              }),
        }),
      );
    agent = new Agent(
      {
        serverUrl: agentUrl,
        token: agentToken,
        nodeId,
        name: 'local',
        ...(options.slots === undefined ? {} : { slots: options.slots }),
        ...(options.pools === undefined ? {} : { pools: options.pools }),
        ...options.usage,
      },
      agentRuntime,
    );
    await agent.start();
    server.addMetrics(agent.metrics.registry);
    await writeFile(join(dataDir, 'url'), `${server.url}\n`);
    const s = server;
    const a = agent;
    const runtime = agentRuntime;
    let closing: Promise<ClosedEmbedded> | undefined;
    return {
      url: s.url,
      dataDir,
      ...(boot.createdAdminKey === undefined ? {} : { adminKey: boot.createdAdminKey }),
      close(closeOptions = {}) {
        closing ??= (async () => {
          a.close();
          // A sandbox its work was destroying goes first: otherwise the machine still looks busy
          // below, and its bridge and rules would be left behind.
          await a.settle();
          await a.release().catch(() => undefined);
          let destroyed = 0;
          let left: ClosedEmbedded['left'] = [];
          if (closeOptions.destroySandboxes === true) {
            for (const info of await runtime.list().catch(() => [])) {
              await runtime.destroy(info).catch(() => undefined);
              destroyed++;
            }
            // Their networks are gone now: the runtime takes down the host's bridge and rules
            // when this machine has no networked sandbox left.
            await runtime.release().catch(() => undefined);
          } else {
            const onHost = new Set((await runtime.list().catch(() => [])).map((i) => i.id));
            left = (await store.sandboxes.listByNode(nodeId).catch(() => []))
              .filter((sb) => onHost.has(sb.id) && (sb.state === 'running' || sb.state === 'paused'))
              .map((sb) => ({ id: sb.id, timeoutAt: sb.timeoutAt }));
          }
          await s.close();
          await store.close();
          await rm(join(dataDir, 'url'), { force: true });
          return { left, destroyed };
        })();
        return closing;
      },
    };
  } catch (err) {
    agent?.close();
    await server?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
