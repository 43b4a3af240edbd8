/**
 * Internal endpoints: a deployment's services by name, from its own sandboxes.
 *
 * Every run of a deployment (replica, job or cron) is a member of the deployment's network group
 * `deployment:<name>` — qualified by the tenant like every group, and never a user's (a user's
 * group name has no `:`) — so its sandboxes reach each other and nothing else. Each node that
 * hosts some of them is told the group's names (`setServiceNames`, answered by the node's DNS
 * relay): `<service>` and `<service>.<deployment>.internal` → the sandboxes of the service's
 * replicas that take traffic (routable.ts) on that node. A group does not span nodes, so a
 * replica on another node is neither reachable nor named.
 *
 * Level-triggered: a node is told a table when it changes, when the node's agent (re)connects,
 * and every `REPEAT_MS` anyway (an agent restarted, a call lost); a node that no longer hosts any
 * run of the deployment is told `{}` once. Only the server holding the deployment's lease tells.
 */
import type { AgentHub } from '../agents/hub.js';
import type { AgentConnection } from '../agents/connection.js';
import type { ServerContext } from '../context.js';
import type { Deployment } from '../store/deployments.js';
import { routableReplicas, type RoutableReplica } from './routable.js';

/** How often an unchanged table is sent again, ms. */
const REPEAT_MS = 10_000;
/** How long a call may take, ms (the controller does not wait for it). */
const CALL_TIMEOUT_MS = 5000;
/** After how long without a pass a deployment's memory here is dropped (it is no longer live, or no longer ours), ms. */
const FORGET_MS = 300_000;

/** The network group of deployment `name` (the server qualifies it with the tenant). */
export function deploymentGroup(name: string): string {
  return `deployment:${name}`;
}

/** The names node `nodeId` answers for deployment `d`: each service's bare and `.internal` names → its routable replicas there. */
export function namesTable(d: Deployment, routable: RoutableReplica[], nodeId: string): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const svc of d.plan.services) {
    if (svc.kind !== 'service') continue;
    const ids = routable.filter((r) => r.service === svc.name && r.nodeId === nodeId).map((r) => r.sandboxId).sort();
    table[svc.name] = ids;
    table[`${svc.name}.${d.name.toLowerCase()}.internal`] = ids;
  }
  return table;
}

interface Told {
  table: string;
  /** The connection it went over: a new one (the agent reconnected) is told again. */
  conn: AgentConnection;
  at: number;
}

/** Tells the nodes the names of the deployments this server controls. */
export class ServiceNames {
  /** What each node was told, by `<deployment id> <node id>`. */
  private readonly told = new Map<string, Told>();
  private readonly inFlight = new Set<string>();
  private readonly failing = new Set<string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {}

  /** One pass over deployment `d` (its lease held): tells each node its table when due. Never throws. */
  async sync(d: Deployment): Promise<void> {
    const runs = await this.ctx.store.deployments.runs(d.id, { live: true }).catch(() => undefined);
    if (runs === undefined) return;
    const routable = routableReplicas(d.plan.services, runs);
    const nodes = new Set(runs.flatMap((r) => (r.nodeId === null ? [] : [r.nodeId])));
    const now = Date.now();
    for (const [key, told] of this.told) {
      const [id = '', node = ''] = key.split(' ');
      if (now - told.at > FORGET_MS) this.told.delete(key);
      else if (id === d.id && !nodes.has(node)) this.tell(d, node, {}, true);
    }
    for (const node of nodes) this.tell(d, node, namesTable(d, routable, node), false);
  }

  /** Sends `table` to `nodeId` unless it has it (same table, same connection, told lately); `last`: forget the node after. */
  private tell(d: Deployment, nodeId: string, table: Record<string, string[]>, last: boolean): void {
    const key = `${d.id} ${nodeId}`;
    const conn = this.hub.get(nodeId);
    if (conn === undefined || this.inFlight.has(key)) return;
    const text = JSON.stringify(table);
    const told = this.told.get(key);
    if (told !== undefined && told.table === text && told.conn === conn && Date.now() - told.at < REPEAT_MS) return;
    this.inFlight.add(key);
    const group = `${d.tenantId}/${deploymentGroup(d.name)}`;
    void this.hub
      .call(nodeId, 'setServiceNames', { group, names: table }, { timeoutMs: CALL_TIMEOUT_MS })
      .then(
        () => {
          this.failing.delete(key);
          if (last) this.told.delete(key);
          else this.told.set(key, { table: text, conn, at: Date.now() });
        },
        (err: unknown) => {
          // Once per failing spell: it is tried again every pass.
          if (!this.failing.has(key)) this.ctx.log.warn({ err, deployment: d.name, tenantId: d.tenantId, nodeId }, 'service names not told to a node; trying again');
          this.failing.add(key);
        },
      )
      .finally(() => this.inFlight.delete(key));
  }
}
