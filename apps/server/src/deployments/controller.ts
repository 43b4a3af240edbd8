/**
 * The deployment controller: level-triggered. Every second (and when a run ends) each live
 * deployment whose lease this server holds (one server replica at a time per deployment) is
 * brought toward its desired state in the store:
 *
 * - a service keeps its desired replicas running: missing ones are started (after a backoff that
 *   doubles with each consecutive failure, up to a minute), extra ones stopped, ones of an older
 *   revision replaced one at a time (the new one first, the old one once the new takes traffic: a
 *   rolling update, rolled back when the new revision keeps failing); a replica that ended by
 *   itself is handled by `errors.on_panic` — `restart` (default) replaces it, `shutdown` leaves
 *   the service stopped; a replica that goes is drained out of the proxy first (drain.ts);
 * - an adaptive service's desired count follows its load, within its bounds (autoscale.ts);
 * - a cron service gets one run per tick of its schedule, never two for one tick (the tick is in
 *   the run's idempotency key, which the store keeps unique per tenant);
 * - a stopping deployment has its runs drained and cancelled, then is stopped.
 *
 * Service replicas are runs (placed, logged and fenced like any run) whose main process is the
 * service; a run ends only when the process does, and the controller starts the next.
 */
import { randomUUID } from 'node:crypto';
import type { ServicePlan } from '@tartarus/core';
import type { ServerContext } from '../context.js';
import type { RunService } from '../services/runs.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import { nextTick } from './cron.js';
import { runRequestOf } from './requests.js';
import { ReplicaHealth } from './health.js';
import { awaitedJobs, dependsVerdict } from './depends.js';
import type { AgentHub } from '../agents/hub.js';
import type { DeploymentTraffic } from './traffic.js';
import { Drains } from './drain.js';
import { takesTraffic } from './routable.js';
import { Autoscaler } from './autoscale.js';
import { deploymentEvent, tellChanges, tellRuns } from './events.js';
import { afterFailure } from './init.js';
import { deploymentGroup, ServiceNames } from './names.js';

/** How long a server holds a deployment without renewing, ms. */
const LEASE_MS = 15_000;
/** How often every deployment is looked at, ms. */
const PASS_MS = 1000;
/** Longest wait before a failed replica is replaced, ms. */
const MAX_BACKOFF_MS = 60_000;

/** Failures of a new revision's replicas in a row after which a rolling update is rolled back. */
const ROLLBACK_AFTER = 3;

/** Whether a run failed: it ended by itself with a failure, or was stopped for failing its health checks. */
const failedBySelf = (r: DeploymentRun): boolean => r.state === 'failed' || r.state === 'dead' || r.health === 'unhealthy';

/** How many of the current revision's replicas (`all`: a service's runs, newest first) failed in a row, lately. */
function consecutiveFailures(d: Deployment, all: DeploymentRun[]): number {
  let failures = 0;
  for (const r of all) {
    if (r.revision !== d.revision || r.endedAt === null) continue;
    if (!failedBySelf(r)) break;
    failures++;
  }
  return failures;
}

/** The controller of every deployment. */
export class DeploymentController {
  private readonly owner = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Whether the last pass found a live deployment: only then do new events wake the controller. */
  private busy = false;
  private readonly wake = (): void => this.kick();
  private readonly onEvents = (): void => {
    if (this.busy) this.kick();
  };

  private readonly health: ReplicaHealth;
  private readonly autoscaler: Autoscaler;
  private readonly drains: Drains;
  /** Internal endpoints: the service names each node answers (names.ts). */
  private readonly names: ServiceNames;
  /** Services whose wait on a dependency was logged (once per revision). */
  private readonly waitLogged = new Set<string>();
  /** Nodes being drained (read each pass): replicas there are replaced elsewhere, as in a rolling update. */
  private drainingNodes: ReadonlySet<string> = new Set();

  constructor(
    private readonly ctx: ServerContext,
    private readonly runs: RunService,
    private readonly hub: AgentHub,
    /** The proxy's request counters (RPS for adaptive scaling, requests in flight for drain). */
    readonly traffic: DeploymentTraffic,
  ) {
    this.health = new ReplicaHealth(ctx, hub);
    this.autoscaler = new Autoscaler(ctx, hub, traffic);
    this.drains = new Drains(ctx, runs, traffic);
    this.names = new ServiceNames(ctx, hub);
  }

  /** Starts the loop. */
  start(): void {
    this.timer = setInterval(this.wake, PASS_MS);
    this.timer.unref();
    this.ctx.bus.on('events', this.onEvents);
    this.ctx.bus.on('nodes', this.wake);
    this.kick();
  }

  /** Stops the loop; waits for a pass in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.ctx.bus.off('events', this.onEvents);
    this.ctx.bus.off('nodes', this.wake);
    await this.running;
  }

  /** Runs a pass now, or right after the one in flight. */
  kick(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const live = await this.ctx.store.deployments.listLive().catch(() => []);
      this.busy = live.length > 0;
      if (this.busy) this.drainingNodes = await this.nodesDraining();
      for (const d of live) {
        if (!(await this.ctx.store.deployments.claim(d.id, this.owner, LEASE_MS).catch(() => false))) continue;
        await this.reconcile(d).catch((err: unknown) => this.ctx.log.warn({ err, deployment: d.name, tenantId: d.tenantId }, 'deployment reconcile failed'));
        await this.names.sync(d);
      }
    } while (this.again);
  }

  /** One deployment toward its desired state. */
  private async reconcile(d: Deployment): Promise<void> {
    await tellChanges(this.ctx, d);
    await this.drains.finish(d, await this.ctx.store.deployments.runs(d.id, { live: true }));
    if (d.state === 'stopping') return this.stopAll(d);
    for (const job of awaitedJobs(d)) {
      const [last] = await this.ctx.store.deployments.runs(d.id, { service: job.name, limit: 1 });
      if (last === undefined || last.revision !== d.revision) await this.startRun(d, job, 'job', null);
    }
    for (const svc of d.plan.services) {
      if (svc.kind === 'service') await this.keepReplicas(d, svc);
      else if (svc.kind === 'cron') await this.tick(d, svc);
    }
  }

  private async stopAll(d: Deployment): Promise<void> {
    const live = await this.ctx.store.deployments.runs(d.id, { live: true });
    for (const r of live) await this.drains.begin(d, d.plan.services.find((s) => s.name === r.service), r);
    if (live.length === 0) {
      await tellRuns(this.ctx, d);
      await this.ctx.store.deployments.setState(d.id, 'stopped');
      await deploymentEvent(this.ctx, d, 'deployment.stopped', {});
      this.ctx.log.info({ deployment: d.name, tenantId: d.tenantId }, 'deployment stopped');
    }
  }

  /** A service: its desired replicas, of the current revision, restarted per its policy. */
  private async keepReplicas(d: Deployment, svc: ServicePlan): Promise<void> {
    const all = await this.ctx.store.deployments.runs(d.id, { service: svc.name, limit: 200 });
    // A draining replica is on its way out (drain.ts): it counts for nothing.
    const live = all.filter((r) => (r.state === 'queued' || r.state === 'leased' || r.state === 'running') && r.health !== 'draining');
    // An adaptive service's count may change here (autoscale.ts); any other's is the store's.
    const desired = await this.autoscaler.desired(d, svc, live);
    await this.judgeHealth(d, svc, live);
    // An isolated replica keeps running (to be looked at) but counts for nothing: one replaces it.
    // One on a draining node is replaced like one of an older revision.
    const moving = (r: DeploymentRun): boolean => r.nodeId !== null && this.drainingNodes.has(r.nodeId);
    const current = live.filter((r) => r.revision === d.revision && r.health !== 'isolated' && !moving(r));
    const old = live.filter((r) => (r.revision !== d.revision || moving(r)) && r.health !== 'isolated');
    if (old.length > 0) return this.roll(d, svc, all, current, old, desired);
    if (current.length < desired && !(await this.dependenciesMet(d, svc))) return;
    if (current.length > desired) {
      // Those not taking traffic yet go first, then the newest.
      const order = [...current].sort((a, b) => Number(takesTraffic(svc, a)) - Number(takesTraffic(svc, b)));
      for (const r of order.slice(0, current.length - desired)) await this.drains.begin(d, svc, r);
      return;
    }
    if (current.length === desired || !this.mayStart(d, svc, all)) return;
    for (let i = current.length; i < desired; i++) await this.startRun(d, svc, 'replica', null);
  }

  /**
   * One step of a rolling update (one replica more than desired at most, none fewer taking
   * traffic): a new replica first; an old one is drained (drain.ts) once a new one takes traffic —
   * runs and, when the service has checks, passes them. Old replicas stay while no new one ever
   * does; after `ROLLBACK_AFTER` failures of the new revision in a row, the revision the old ones
   * run is made current again (a rollback), and they are kept.
   */
  private async roll(d: Deployment, svc: ServicePlan, all: DeploymentRun[], current: DeploymentRun[], old: DeploymentRun[], desired: number): Promise<void> {
    const older = old.filter((r) => r.revision !== d.revision);
    if (older.length > 0 && consecutiveFailures(d, all) >= ROLLBACK_AFTER && (await this.rollBack(d, svc, older))) return;
    const ready = current.filter((r) => takesTraffic(svc, r)).length;
    const counted = current.length + old.length;
    const oldest = old[old.length - 1];
    if (ready > 0 && counted > desired && oldest !== undefined) return this.drains.begin(d, svc, oldest);
    if (current.length < desired && counted <= desired && this.mayStart(d, svc, all)) await this.startRun(d, svc, 'replica', null);
    else if (desired === 0) for (const r of old) await this.drains.begin(d, svc, r);
  }

  /** The nodes an operator is draining (none when the store cannot say: nothing is moved then). */
  private async nodesDraining(): Promise<ReadonlySet<string>> {
    const closed = await this.ctx.store.nodes.unschedulable().catch(() => new Map<string, string>());
    return new Set([...closed].filter(([, s]) => s === 'draining').map(([id]) => id));
  }

  /** Rolls `d` back to the revision its old replicas run; false when another change came first. */
  private async rollBack(d: Deployment, svc: ServicePlan, old: DeploymentRun[]): Promise<boolean> {
    const to = Math.max(...old.map((r) => r.revision));
    const rolled = await this.ctx.store.deployments.rollback(d.id, d.revision, to).catch(() => undefined);
    if (rolled === undefined) return false;
    this.ctx.log.warn({ deployment: d.name, tenantId: d.tenantId, service: svc.name, from: d.revision, to, revision: rolled.revision }, 'rolled back: the new revision never became healthy');
    await deploymentEvent(this.ctx, rolled, 'deployment.rolled_back', { service: svc.name, from: d.revision, to, revision: rolled.revision });
    return true;
  }

  /** Whether `svc`'s dependencies let it start replicas now (depends.ts); a wait is logged once. */
  private async dependenciesMet(d: Deployment, svc: ServicePlan): Promise<boolean> {
    if (svc.depends.length === 0) return true;
    const runsOf = new Map<string, DeploymentRun[]>();
    for (const dep of svc.depends) runsOf.set(dep.service, await this.ctx.store.deployments.runs(d.id, { service: dep.service, limit: 50 }));
    const verdict = dependsVerdict(d, svc, runsOf, Date.now());
    if (verdict.start) return true;
    const key = `${d.id}:${d.revision}:${svc.name}:${verdict.timedOut}`;
    if (!this.waitLogged.has(key)) {
      this.waitLogged.add(key);
      this.ctx.log[verdict.timedOut ? 'warn' : 'info']({ deployment: d.name, tenantId: d.tenantId, service: svc.name, waitingFor: verdict.waitingFor }, verdict.timedOut ? 'dependency timed out: the service stays down (on_timeout: fail)' : 'service waits for a dependency');
    }
    return false;
  }

  /**
   * Health checks of the running replicas; one that turned unhealthy is handled by `on_panic`:
   * `restart` and `shutdown` stop it (restart replaces it, shutdown leaves the service down),
   * `isolate` keeps it running apart and starts a replacement.
   */
  private async judgeHealth(d: Deployment, svc: ServicePlan, live: DeploymentRun[]): Promise<void> {
    const unhealthy = await this.health.check(d, svc, live.filter((r) => r.state === 'running' && r.health !== 'isolated'));
    for (const r of unhealthy) {
      if (svc.errors.onPanic === 'isolate') {
        await this.ctx.store.deployments.setHealth(r.runId, 'isolated');
        await deploymentEvent(this.ctx, d, 'deployment.replica.health', { service: svc.name, runId: r.runId, health: 'isolated' });
        r.health = 'isolated';
      } else await this.runs.cancel(d.tenantId, r.runId).catch(() => undefined);
    }
  }

  /** Whether a replacement may start now: its policy allows it and its backoff has passed. */
  private mayStart(d: Deployment, svc: ServicePlan, all: DeploymentRun[]): boolean {
    const failures = consecutiveFailures(d, all);
    if (failures === 0) return true;
    const ended = all.filter((r) => r.revision === d.revision && r.endedAt !== null);
    const policy = afterFailure(svc, ended[0]);
    if (policy !== 'backoff') return policy === 'now';
    const last = ended[0]?.endedAt ?? 0;
    return Date.now() - last >= Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
  }

  /**
   * A cron service: one run per tick, from the deployment's last change on. Ticks missed while no
   * server ran are not made up: only the latest one due runs.
   */
  private async tick(d: Deployment, svc: ServicePlan): Promise<void> {
    if (svc.schedule === null) return;
    const [last] = await this.ctx.store.deployments.runs(d.id, { service: svc.name, limit: 1 });
    const now = Date.now();
    let due = nextTick(svc.schedule, Math.max(last?.tick ?? 0, d.updatedAt));
    if (due === null || due > now) return;
    for (let next = nextTick(svc.schedule, due); next !== null && next <= now; next = nextTick(svc.schedule, due)) due = next;
    await this.startRun(d, svc, 'cron', due);
  }

  /** Starts one run of `svc` and records it as the deployment's. */
  async startRun(d: Deployment, svc: ServicePlan, kind: DeploymentRun['kind'], tick: number | null): Promise<string> {
    const request = await runRequestOf(d.tenantId, svc, this.ctx.secrets);
    const key = tick === null ? undefined : `cron:${d.id}:${svc.name}:${tick}`;
    const { run } = await this.runs.submit(d.tenantId, request, key, { networkGroup: deploymentGroup(d.name) });
    await this.ctx.store.deployments.recordRun({ runId: run.id, deploymentId: d.id, service: svc.name, kind, revision: d.revision, tick });
    this.ctx.log.info({ deployment: d.name, tenantId: d.tenantId, service: svc.name, runId: run.id, kind }, 'deployment run started');
    return run.id;
  }
}
