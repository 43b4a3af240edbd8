/**
 * Deployments' public TCP and UDP endpoints, published on their `port` at the server's address
 * (as ZLayer and Compose publish ports): every server replica listens for every active
 * deployment's, looking at the store every `SYNC_MS` (a new deployment's ports open within that;
 * a stopped one's close). A port belongs to the deployment that had it first; the API refuses a
 * second one (`portClaims`). A TCP connection is joined to a replica that takes traffic, in turn
 * (one that cannot be reached is skipped for the next); a UDP client (address and port) gets a
 * session to one replica, its datagrams relayed both ways until it is idle for `UDP_IDLE_MS`.
 * UDP reaches replicas on this machine only (a TCP tunnel cannot carry datagrams).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { ConflictError, InvalidArgumentError, type DeploymentPlan, type EndpointPlan } from '@tartarus/core';
import type { EndpointTable } from '../deployments/endpoint-table.js';
import type { DeploymentTraffic } from '../deployments/traffic.js';
import type { Deployment } from '../store/deployments.js';
import { dialSandbox, localSandboxAddress } from './dial.js';
import { joinSockets, type ProxyDeps } from './proxy.js';

/** How often the listeners are brought in line with the store, ms. */
const SYNC_MS = 2000;
/** A UDP session without a datagram either way for this long ends, ms. */
const UDP_IDLE_MS = 30_000;
/** UDP sessions per published port at once; more clients are dropped. */
const UDP_MAX_SESSIONS = 1024;

/** A published port's key: `tcp/5432`, `udp/53`. */
type PortKey = string;

interface Published {
  deployment: Deployment;
  service: string;
  endpoint: EndpointPlan;
  close(): void;
}

/** The public TCP/UDP endpoints of `plan`, by port key. */
export function portClaims(plan: DeploymentPlan): Map<PortKey, { service: string; endpoint: EndpointPlan }> {
  const out = new Map<PortKey, { service: string; endpoint: EndpointPlan }>();
  for (const s of plan.services) for (const e of s.endpoints) if (e.expose === 'public' && (e.protocol === 'tcp' || e.protocol === 'udp')) out.set(`${e.protocol}/${e.port}`, { service: s.name, endpoint: e });
  return out;
}

/**
 * Refuses `plan` when one of its published ports is outside `range` (400) or taken by another
 * active deployment, of any tenant (409): said now rather than found at bind time.
 */
export function checkPortClaims(plan: DeploymentPlan, tenantId: string, range: string, active: Deployment[]): void {
  const [lo = 1, hi = 65535] = range.split('-').map(Number);
  for (const [key, { service, endpoint }] of portClaims(plan)) {
    const where = `services.${service}.endpoints (${endpoint.name})`;
    if (endpoint.port < lo || endpoint.port > hi) throw new InvalidArgumentError(`${where}: port ${endpoint.port} is outside the ports this server publishes (${range}, publicPortRange): choose a port in it`);
    const holder = active.find((d) => d.state === 'active' && !(d.tenantId === tenantId && d.name === plan.name) && portClaims(d.plan).has(key));
    // Another tenant's deployment is not named.
    if (holder !== undefined) throw new ConflictError(`${where}: ${key.replace('/', ' port ')} is published by another deployment${holder.tenantId === tenantId ? ` (${holder.name})` : ''}: choose another port`);
  }
}

/** The published TCP and UDP ports of every active deployment. */
export class PortEndpoints {
  private readonly published = new Map<PortKey, Published>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private readonly failed = new Set<string>();

  constructor(
    private readonly deps: ProxyDeps,
    private readonly table: EndpointTable,
    private readonly traffic: DeploymentTraffic,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
    void this.sync();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    for (const p of this.published.values()) p.close();
    this.published.clear();
  }

  /** Opens and closes listeners to match the store's active deployments (the oldest holds a port two claim). */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const live = await this.deps.ctx.store.deployments.listLive().catch(() => undefined);
    if (live === undefined) return;
    const wanted = new Map<PortKey, Omit<Published, 'close'>>();
    for (const d of live.filter((x) => x.state === 'active').sort((a, b) => a.createdAt - b.createdAt)) {
      for (const [key, claim] of portClaims(d.plan)) if (!wanted.has(key)) wanted.set(key, { deployment: d, ...claim });
    }
    for (const [key, p] of this.published) {
      const w = wanted.get(key);
      if (w === undefined || w.deployment.id !== p.deployment.id || w.service !== p.service) {
        p.close();
        this.published.delete(key);
      } else Object.assign(p, w); // a new revision: same port, its current plan
    }
    for (const [key, w] of wanted) {
      if (this.published.has(key)) continue;
      const close = await (w.endpoint.protocol === 'tcp' ? this.listenTcp(w) : this.listenUdp(w)).catch((err: Error) => {
        const what = `${w.deployment.id}/${key}`;
        if (!this.failed.has(what)) this.deps.ctx.log.warn({ err, deployment: w.deployment.name, tenantId: w.deployment.tenantId, service: w.service, port: w.endpoint.port }, `public ${key} cannot be published: ${err.message}`);
        this.failed.add(what);
        return undefined;
      });
      if (close !== undefined) this.published.set(key, { ...w, close });
    }
  }

  private current(key: PortKey): Published | undefined {
    return this.published.get(key);
  }

  private async listenTcp(w: Omit<Published, 'close'>): Promise<() => void> {
    const key = `tcp/${w.endpoint.port}`;
    const server: Server = createServer({ allowHalfOpen: true }, (client) => void this.joinTcp(key, client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.deps.ctx.config.host, port: w.endpoint.port }, resolve);
    });
    server.on('error', () => undefined);
    return () => server.close();
  }

  private async joinTcp(key: PortKey, client: Socket): Promise<void> {
    client.on('error', () => client.destroy());
    const p = this.current(key);
    if (p === undefined) return void client.destroy();
    for (const r of await this.table.replicasOf(p.deployment, p.service)) {
      const up = await this.deps.hub.proxyOf(r.nodeId).then((node) => dialSandbox(node, r.sandboxId, p.endpoint.targetPort)).catch(() => undefined);
      if (up === undefined) continue;
      client.once('close', this.traffic.begin(p.deployment.id, p.service, r.runId));
      return joinSockets(this.deps, up, client, 'tunnel');
    }
    client.destroy();
  }

  private async listenUdp(w: Omit<Published, 'close'>): Promise<() => void> {
    const key = `udp/${w.endpoint.port}`;
    const server = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address: this.deps.ctx.config.host, port: w.endpoint.port, exclusive: true }, resolve);
    });
    server.on('error', () => undefined);
    const sessions = new Map<string, UdpSession>();
    server.on('message', (msg, from) => {
      const id = `${from.address}:${from.port}`;
      let s = sessions.get(id);
      if (s === undefined) {
        if (sessions.size >= UDP_MAX_SESSIONS) return;
        s = new UdpSession(server, from.address, from.port, () => sessions.delete(id));
        sessions.set(id, s);
        void this.openUdp(key, s);
      }
      s.send(msg);
    });
    return () => {
      for (const s of sessions.values()) s.end();
      server.close();
    };
  }

  private async openUdp(key: PortKey, s: UdpSession): Promise<void> {
    const p = this.current(key);
    if (p === undefined) return s.end();
    for (const r of await this.table.replicasOf(p.deployment, p.service)) {
      const address = await this.deps.hub.proxyOf(r.nodeId).then((node) => localSandboxAddress(node, r.sandboxId, p.endpoint.targetPort)).catch(() => undefined);
      if (address === undefined) continue;
      return s.connect(address, p.endpoint.targetPort, this.traffic.begin(p.deployment.id, p.service, r.runId));
    }
    s.end();
  }
}

/** One UDP client's datagrams to and from one replica; what comes before the replica is known waits (a few). */
class UdpSession {
  private up: UdpSocket | undefined;
  private connected = false;
  private readonly waiting: Buffer[] = [];
  private idle: NodeJS.Timeout;
  private ended = false;
  private done: () => void = () => undefined;

  constructor(
    private readonly server: UdpSocket,
    private readonly address: string,
    private readonly port: number,
    private readonly onEnd: () => void,
  ) {
    this.idle = setTimeout(() => this.end(), UDP_IDLE_MS);
  }

  send(msg: Buffer): void {
    this.idle.refresh();
    if (this.connected) this.up?.send(msg);
    else if (this.waiting.length < 16) this.waiting.push(msg);
  }

  connect(address: string, port: number, done: () => void): void {
    if (this.ended) return done();
    this.done = done;
    const up = createSocket({ type: 'udp4' });
    this.up = up;
    up.on('error', () => this.end());
    up.on('message', (msg) => {
      this.idle.refresh();
      this.server.send(msg, this.port, this.address);
    });
    up.connect(port, address, () => {
      this.connected = true;
      for (const m of this.waiting.splice(0)) up.send(m);
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idle);
    this.up?.close();
    this.done();
    this.onEnd();
  }
}
