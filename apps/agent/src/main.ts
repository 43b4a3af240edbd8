/**
 * `node apps/agent/dist/main.js`: a remote agent configured from the environment (distributed
 * mode; embedded mode starts its agent in-process instead). Every option of the agent's config
 * schema (`config.ts`) is a `TARTARUS_*` variable (`imageBudgetMiB`: `TARTARUS_IMAGE_BUDGET_MIB`;
 * docs/reference/configuration.md lists them all); the required ones:
 *
 *   TARTARUS_SERVER_URL   ws://server:7070/v1/agent/connect
 *   TARTARUS_AGENT_TOKEN  this node's token (`tartarus nodes token create NODE_ID`), or one the
 *                         server lists in `agentTokens`
 *   TARTARUS_NODE_ID      stable node id
 *
 * and those the runtime on this node reads:
 *
 *   TARTARUS_STATE_DIR    sandbox state, must survive restarts. Default /var/lib/tartarus
 *   TARTARUS_REGISTRY_MIRRORS    REGISTRY=MIRROR[,…] (e.g. docker.io=10.0.0.5:5000), tried before the registry
 *   TARTARUS_INSECURE_REGISTRIES HOST[,…] reached over plain HTTP (loopback ones always are)
 *   TARTARUS_NET_POOL     the sandboxes' IPv4 pool. Default 10.89.0.0/16
 *   TARTARUS_NET_BRIDGE   the sandboxes' host bridge. Default tt0
 *   TARTARUS_NET_DENY     more destinations no sandbox may reach, IPv4/CIDR[:port][,…] (e.g. the
 *                         control plane's replicas behind a load balancer). The server URL's own
 *                         address is always added
 */
import { readConfigSources } from '@tartarus/core';
import { parseRegistrySettings, Runtime } from '@tartarus/runtime';
import { Agent } from './agent.js';
import { AGENT_OPTIONS, parsePoolList, type AgentConfigInput } from './config.js';
import { agentNetworkOptions } from './control-plane.js';
import { RuntimeAdapter } from './runtime-adapter.js';

/** The agent's configuration from the environment; `TARTARUS_POOLS` is `TEMPLATE:RUNTIME:SIZE[:net|lo][,…]`. */
export function agentConfigFrom(env: NodeJS.ProcessEnv): AgentConfigInput {
  return readConfigSources(AGENT_OPTIONS, {}, env, { pools: parsePoolList }) as AgentConfigInput;
}

const env = process.env;

function fail(err: unknown): never {
  console.error(`tartarus-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const serverUrl = env['TARTARUS_SERVER_URL'] ?? '';
  // Sandboxes never reach the control plane: its address goes in the network's deny list.
  const network = await agentNetworkOptions(serverUrl, { deny: (env['TARTARUS_NET_DENY'] ?? '').split(',').map((d) => d.trim()).filter(Boolean) });
  let agent: Agent;
  try {
    const registries = parseRegistrySettings(env['TARTARUS_REGISTRY_MIRRORS'] ?? '', env['TARTARUS_INSECURE_REGISTRIES'] ?? '');
    agent = new Agent(
      agentConfigFrom(env),
      new RuntimeAdapter(new Runtime({ stateDir: env['TARTARUS_STATE_DIR'] ?? '/var/lib/tartarus', registries, network })),
      {
        info: (o, m) => console.error(m ?? '', JSON.stringify(o)),
        warn: (o, m) => console.error(m ?? '', JSON.stringify(o)),
      },
    );
  } catch (err) {
    fail(err);
  }
  process.on('SIGTERM', () => {
    agent.close();
    void agent
      .settle()
      .then(() => agent.release())
      .finally(() => process.exit(0));
  });
  await agent.start().catch(fail);
  console.error(
    `agent ${env['TARTARUS_NODE_ID'] ?? ''} connected to ${env['TARTARUS_SERVER_URL'] ?? ''}`,
  );
}
