/**
 * `node apps/agent/dist/main.js`: a remote agent configured from the environment (distributed
 * mode; embedded mode starts its agent in-process instead).
 *
 *   TARTARUS_SERVER_URL   ws://server:7070/v1/agent/connect (required)
 *   TARTARUS_AGENT_TOKEN  this node's token (`tartarus nodes token create NODE_ID`), or one the
 *                         server lists in `agentTokens` (required)
 *   TARTARUS_NODE_ID      stable node id (required)
 *   TARTARUS_STATE_DIR    sandbox state, must survive restarts. Default /var/lib/tartarus
 *   TARTARUS_SLOTS        sandboxes at once. Default 128 per CPU (requests bound a node, not slots)
 *   TARTARUS_POOLS        warm pools, TEMPLATE:RUNTIME:SIZE[:net|lo][,…] (e.g. python:container:4);
 *                         `lo` pools serve loopback-only work (runs), `net` ones (the default) the rest.
 *                         Default none
 *   TARTARUS_REGISTRY_MIRRORS    REGISTRY=MIRROR[,…] (e.g. docker.io=10.0.0.5:5000), tried before the registry
 *   TARTARUS_INSECURE_REGISTRIES HOST[,…] reached over plain HTTP (loopback ones always are)
 *   TARTARUS_IMAGE_BUDGET_MIB    the image cache is kept under this size. Default 20480
 *   TARTARUS_AGENT_METRICS HOST:PORT where the agent serves its Prometheus metrics (GET /metrics).
 *                         Default none
 *   TARTARUS_NET_POOL     the sandboxes' IPv4 pool (read by the runtime). Default 10.89.0.0/16
 *   TARTARUS_NET_BRIDGE   the sandboxes' host bridge (read by the runtime). Default tt0
 *   TARTARUS_NET_DENY     more destinations no sandbox may reach, IPv4/CIDR[:port][,…] (e.g. the
 *                         control plane's replicas behind a load balancer). The server URL's own
 *                         address is always added
 */
import { parseRegistrySettings, Runtime } from '@tartarus/runtime';
import { Agent } from './agent.js';
import { parsePoolList } from './config.js';
import { agentNetworkOptions } from './control-plane.js';
import { RuntimeAdapter } from './runtime-adapter.js';

const env = process.env;
const slots = env['TARTARUS_SLOTS'] === undefined ? undefined : Number(env['TARTARUS_SLOTS']);
function fail(err: unknown): never {
  console.error(`tartarus-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

const serverUrl = env['TARTARUS_SERVER_URL'] ?? '';
// Sandboxes never reach the control plane: its address goes in the network's deny list.
const network = await agentNetworkOptions(serverUrl, { deny: (env['TARTARUS_NET_DENY'] ?? '').split(',').map((d) => d.trim()).filter(Boolean) });

let agent: Agent;
try {
  const registries = parseRegistrySettings(env['TARTARUS_REGISTRY_MIRRORS'] ?? '', env['TARTARUS_INSECURE_REGISTRIES'] ?? '');
  const budget = env['TARTARUS_IMAGE_BUDGET_MIB'];
  agent = new Agent(
    {
      serverUrl,
      token: env['TARTARUS_AGENT_TOKEN'] ?? '',
      nodeId: env['TARTARUS_NODE_ID'] ?? '',
      ...(slots === undefined ? {} : { slots }),
      pools: parsePoolList(env['TARTARUS_POOLS'] ?? ''),
      ...(budget === undefined ? {} : { imageBudgetMiB: Number(budget) }),
      ...(env['TARTARUS_AGENT_METRICS'] ? { metricsListen: env['TARTARUS_AGENT_METRICS'] } : {}),
    },
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
  void agent.release().finally(() => process.exit(0));
});
await agent.start().catch(fail);
console.error(
  `agent ${env['TARTARUS_NODE_ID'] ?? ''} connected to ${env['TARTARUS_SERVER_URL'] ?? ''}`,
);
