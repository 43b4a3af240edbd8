/**
 * The scheduler: one placement loop for every kind of work. Each pass reads the pending work from
 * the store (eligible queued runs and unplaced sandboxes, the head of each tenant's backlog),
 * plans it with weighted dominant-resource fairness across tenants and priorities within one
 * (`fair-share.ts`) onto the connected nodes' free resources (`placement.ts`), then commits each
 * placement in the store (a run's lease, a sandbox's node) and sends the agent one `start` with
 * the compiled spec. Woken on every submit, finish and connect, and by a poll. Work that fits
 * nowhere stays pending in the store — nothing is dropped.
 */
import { ConflictError, parseImageRef, type ServerMessage } from '@tartarus/core';
import type { AgentConnection } from '../agents/connection.js';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import type { PendingItem, RegistryLogin } from '../store/index.js';
import { StoreOutageLog } from '../store/outage-log.js';
import { planPlacements, type PendingWork, type TenantShare } from './fair-share.js';
import type { NodeCandidate } from './placement.js';

/** Most pending items read per tenant and kind in one pass. */
const MAX_PER_TENANT = 256;
/** How long a tenant's weight and cap are reused before being read again, ms. */
const TENANT_TTL_MS = 5000;

/** The runtime sandbox of a run's attempt: derivable from run and epoch, so reconcile can match it. */
export function attemptSandboxId(runId: string, epoch: number): string {
  return `${runId}-${epoch}`;
}

/** How long the set of closed nodes is used before it is read again, ms. */
const UNSCHEDULABLE_FRESH_MS = 1000;

/** The placement loop of one server. */
export class Scheduler {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly tenants = new Map<
    string,
    { weight: number; maxRunning: number | null; atMs: number }
  >();
  /** Tenant → sequence number of its latest placement (fair-share's last tie-break). */
  private readonly served = new Map<string, number>();
  private serveSeq = 0;
  private readonly wake = () => void this.pass();
  /** Nodes that take no new work (cordoned, draining), read from the store at most every `UNSCHEDULABLE_FRESH_MS`. */
  private unschedulable: { atMs: number; ids: ReadonlySet<string> } = { atMs: 0, ids: new Set() };
  /** While the database is down a pass fails every poll: one warning per outage. */
  private readonly outage: StoreOutageLog;

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
  ) {
    this.outage = new StoreOutageLog(ctx.log, 'scheduler');
  }

  /** Starts listening for wake-ups and polling. */
  start(): void {
    this.ctx.bus.on('schedule', this.wake);
    this.ctx.bus.on('nodes', this.nodesChanged);
    this.timer = setInterval(this.wake, this.ctx.config.schedulePollMs);
    this.timer.unref();
  }

  /** Stops; a pass in progress finishes. */
  stop(): void {
    this.stopped = true;
    this.ctx.bus.off('schedule', this.wake);
    this.ctx.bus.off('nodes', this.nodesChanged);
    clearInterval(this.timer);
  }

  private async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.placeAll();
      } while (this.again && !this.stopped);
    } catch (err) {
      // Work stays pending in the store: the next pass places it.
      if (!this.outage.failed(err)) this.ctx.log.error({ err }, 'scheduler pass failed');
    } finally {
      this.running = false;
    }
  }

  /** The nodes an operator closed to new work (`tartarus nodes cordon|drain`); a change is seen within a second, at once on this replica. */
  private async closedNodes(): Promise<ReadonlySet<string>> {
    if (Date.now() - this.unschedulable.atMs >= UNSCHEDULABLE_FRESH_MS) {
      const ids = new Set((await this.ctx.store.nodes.unschedulable()).keys());
      this.unschedulable = { atMs: Date.now(), ids };
    }
    return this.unschedulable.ids;
  }

  /** Forgets what it knew of closed nodes (one was cordoned or opened here): the next pass reads them again. */
  private readonly nodesChanged = (): void => {
    this.unschedulable = { atMs: 0, ids: new Set() };
    this.wake();
  };

  private candidate(c: AgentConnection): NodeCandidate {
    const { cpuOvercommit, memoryOvercommit } = this.ctx.config;
    const disk = c.capacity.diskMiB ?? 0;
    return {
      nodeId: c.nodeId,
      runtimes: c.runtimes,
      labels: c.labels,
      allocatable: {
        cpu: c.capacity.cpu * cpuOvercommit,
        memoryMiB: c.capacity.memoryMiB * memoryOvercommit,
        // A node that does not report disk is not limited by it.
        diskMiB: disk > 0 ? disk : Number.POSITIVE_INFINITY,
      },
      reserved: c.reserved(),
      slots: c.capacity.slots,
      used: c.work.size,
    };
  }

  private async placeAll(): Promise<void> {
    if (this.stopped) return;
    const conns = this.hub.list();
    const free = conns.reduce((n, c) => n + Math.max(0, c.freeSlots()), 0);
    if (free === 0) return;
    const limit = Math.min(free, MAX_PER_TENANT);
    const items = await this.ctx.store.queue.listPending(limit);
    this.outage.succeeded();
    if (items.length === 0) return;
    const byId = new Map(items.map((i) => [i.id, i]));
    const closed = await this.closedNodes();
    const plan = planPlacements(
      items.map(pendingWork),
      await this.shares(items, conns),
      conns.filter((c) => !closed.has(c.nodeId)).map((c) => this.candidate(c)),
      { strategy: this.ctx.config.placement, max: free },
    );
    const { metrics } = this.ctx;
    const planned = new Set(plan.map((p) => p.work.id));
    for (const i of items) if (!planned.has(i.id)) metrics.schedulerDecisions.inc({ kind: i.kind, decision: 'deferred' });
    let anyPlaced = false;
    let anyTaken = false;
    for (const p of plan) {
      const item = byId.get(p.work.id);
      const conn = this.hub.get(p.nodeId);
      if (item === undefined || conn === undefined) continue;
      const placed = await this.commit(item, conn);
      metrics.schedulerDecisions.inc({ kind: item.kind, decision: placed ? 'placed' : 'taken' });
      if (placed) anyPlaced = true;
      else anyTaken = true;
    }
    // A round places all that fits of what it read: another only when it may have missed something
    // (more pending than it read, or room it planned for work another replica took meanwhile).
    if (anyPlaced && (anyTaken || items.length >= limit)) this.again = true;
  }

  /** Each tenant's weight and cap (cached briefly) and what its placed work holds now. */
  private async shares(
    items: PendingItem[],
    conns: AgentConnection[],
  ): Promise<Map<string, TenantShare>> {
    const out = new Map<string, TenantShare>();
    const now = Date.now();
    for (const tenantId of new Set(items.map((i) => i.tenantId))) {
      let t = this.tenants.get(tenantId);
      if (t === undefined || now - t.atMs > TENANT_TTL_MS) {
        const row = await this.ctx.store.tenants.get(tenantId).catch(() => undefined);
        t = { weight: row?.weight ?? 1, maxRunning: row?.maxRunning ?? null, atMs: now };
        this.tenants.set(tenantId, t);
      }
      out.set(tenantId, {
        tenantId,
        weight: t.weight,
        maxRunning: t.maxRunning,
        ...(this.served.has(tenantId) ? { lastServedAt: this.served.get(tenantId) } : {}),
        reserved: { cpu: 0, memoryMiB: 0, diskMiB: 0 },
        running: 0,
      });
    }
    for (const c of conns) {
      for (const w of c.work.values()) {
        const s = out.get(w.tenantId);
        if (s === undefined) continue;
        s.running += 1;
        s.reserved.cpu += w.requests.cpu;
        s.reserved.memoryMiB += w.requests.memoryMiB;
        s.reserved.diskMiB += w.requests.diskMiB;
      }
    }
    return out;
  }

  /** Records one placement in the store and starts it on the node; false if it was taken meanwhile. */
  private async commit(item: PendingItem, conn: AgentConnection): Promise<boolean> {
    const { store, config } = this.ctx;
    const registryAuth = await this.registryAuth(item);
    let start: ServerMessage;
    if (item.kind === 'run') {
      const lease = await store.queue.leaseRun(item.id, conn.nodeId, config.leaseMs);
      if (lease === null) return false;
      const sandboxId = attemptSandboxId(item.id, lease.epoch);
      start = {
        type: 'start',
        workId: item.id,
        epoch: lease.epoch,
        sandboxId,
        spec: lease.run.spec,
        ...registryAuth,
      };
    } else {
      try {
        await store.sandboxes.assignNode(item.id, conn.nodeId);
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
      start = { type: 'start', workId: item.id, epoch: 0, sandboxId: item.id, spec: item.spec, ...registryAuth };
    }
    conn.hold({ workId: item.id, tenantId: item.tenantId, requests: item.spec.requests });
    this.served.set(item.tenantId, ++this.serveSeq);
    this.ctx.metrics.queueWait.observe({ kind: item.kind }, Math.max(0, Date.now() - item.createdAt) / 1000);
    this.ctx.metrics.launching(item.id, {
      kind: item.kind,
      tenant: item.tenantId,
      runtime: item.spec.runtime ?? 'default',
      // Bounded: an image reference is the tenant's to choose, a template name is not.
      template: item.spec.image === null ? item.spec.template : 'image',
    });
    conn.send(start);
    this.ctx.log.info({ tenantId: item.tenantId, [item.kind === 'run' ? 'runId' : 'sandboxId']: item.id, nodeId: conn.nodeId, epoch: start.type === 'start' ? start.epoch : 0 }, 'work placed');
    return true;
  }

  /**
   * The tenant's login for the registry of the work's image, if it stored one: the node pulls
   * an image it does not hold yet with it (and keeps it no longer than that pull).
   */
  private async registryAuth(item: PendingItem): Promise<{ registryAuth?: RegistryLogin }> {
    if (item.spec.image === null) return {};
    let registry: string;
    try {
      registry = parseImageRef(item.spec.image).registry;
    } catch {
      return {}; // the node's pull names the bad reference in the attempt's failure
    }
    const login = await this.ctx.store.registryCredentials.login(item.tenantId, registry);
    return login === null ? {} : { registryAuth: login };
  }
}

function pendingWork(i: PendingItem): PendingWork {
  return {
    id: i.id,
    tenantId: i.tenantId,
    priority: i.spec.priority,
    order: i.createdAt,
    runtime: i.spec.runtime,
    labels: i.spec.nodeSelector,
    template: i.spec.template,
    request: i.spec.requests,
  };
}
