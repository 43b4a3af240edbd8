/**
 * Adaptive scaling (`scale.mode: adaptive`). Every `SAMPLE_MS` the deployment's leader measures
 * each adaptive service — CPU and memory of the replicas that take traffic, read from their
 * cgroups by their nodes (`sandboxStats`, the usage meter's own reading), and the requests per
 * second the proxy counted — and sets the service's desired replicas as Kubernetes' HPA does:
 * for each target, `ceil(current × observed / target)`, the largest of them, within [min, max]
 * (within 10 % of a target counts as on it).
 *
 * Against flapping: a scale-up waits `cooldown` after the service's last change; a scale-down
 * also waits until every sample of a whole `cooldown` asked for fewer replicas, with every desired
 * replica measured, and then goes to the highest count asked for in that time. The decision is
 * the pure `decideScale`; the rest measures and records (`setReplicas`, a log line, a metric, a
 * `deployment.scaled` event).
 * The timing state lives in the leader's memory; a new leader counts the cooldown from the
 * deployment's last change in the store.
 */
import { InvalidArgumentError, type SandboxUsageNow, type ServicePlan } from '@tartarus/core';
import type { AgentHub } from '../agents/hub.js';
import type { ServerContext } from '../context.js';
import { attemptSandboxId } from '../scheduler/scheduler.js';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import { deploymentEvent } from './events.js';
import { takesTraffic } from './routable.js';
import type { DeploymentTraffic } from './traffic.js';

/** How often an adaptive service is measured, ms. */
export const SAMPLE_MS = 2000;
/** The span of the proxy's counters read as a service's RPS, seconds. */
const RPS_WINDOW_S = 10;
/** An observation within this fraction of its target changes nothing (HPA's tolerance). */
const TOLERANCE = 0.1;
/** A service not looked at for this long is forgotten, ms. */
const FORGET_MS = 60_000;

/** The scale of an adaptive service. */
export type AdaptiveScale = Extract<ServicePlan['scale'], { mode: 'adaptive' }>;
/** What drove a change: one of the targets, or the service's bounds (a count outside [min, max]). */
export type ScaleReason = 'cpu' | 'memory' | 'rps' | 'bounds';

/** One sample of a service. */
export interface ScaleObservation {
  /** Replicas whose node reported their use. */
  measured: number;
  /** Mean CPU of the measured replicas, percent of each one's CPU limit; null: none measured. */
  cpuPercent: number | null;
  /** Mean memory in use of the measured replicas, percent of each one's limit; null: none known. */
  memoryPercent: number | null;
  /** Requests per second to the whole service. */
  rps: number;
}

/** What the decision remembers between samples. */
export interface ScaleState {
  /** When the service's desired count last changed (by this scaler or by hand), ms since the epoch. */
  changedAtMs: number;
  /** Since when every sample asked for fewer replicas; null: the last one did not. */
  lowSinceMs: number | null;
  /** The highest count asked for since `lowSinceMs`. */
  lowPeak: number;
}

/** The outcome of one sample. */
export interface ScaleDecision {
  desired: number;
  /** What drove a change; null when `desired` is the current count. */
  reason: ScaleReason | null;
  state: ScaleState;
}

const clamp = (n: number, scale: AdaptiveScale): number => Math.min(scale.max, Math.max(scale.min, n));

/** The count the targets ask for now (within [min, max]), and which target asks most; null: nothing measured. */
export function recommend(scale: AdaptiveScale, current: number, o: ScaleObservation): { replicas: number; metric: Exclude<ScaleReason, 'bounds'> } | null {
  const t = scale.targets;
  const ratios: [Exclude<ScaleReason, 'bounds'>, number | null][] = [
    ['cpu', t.cpuPercent === null ? null : o.cpuPercent === null ? null : o.cpuPercent / t.cpuPercent],
    ['memory', t.memoryPercent === null ? null : o.memoryPercent === null ? null : o.memoryPercent / t.memoryPercent],
    ['rps', t.rps === null ? null : o.rps / current / t.rps],
  ];
  let best: { replicas: number; metric: Exclude<ScaleReason, 'bounds'> } | null = null;
  for (const [metric, ratio] of ratios) {
    if (ratio === null) continue;
    // The epsilon keeps a float a hair over a whole number (3 × 1.0000000001) from asking for one more.
    const replicas = Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(current * ratio - 1e-9);
    if (best === null || replicas > best.replicas) best = { replicas, metric };
  }
  return best === null ? null : { replicas: clamp(best.replicas, scale), metric: best.metric };
}

/**
 * One sample's decision for a service with `current` desired replicas (≥ 1): up at once once
 * the cooldown since the last change passed; down only once, in addition, every sample of a
 * whole cooldown asked for fewer (all desired replicas measured), to the most asked for then.
 */
export function decideScale(scale: AdaptiveScale, current: number, o: ScaleObservation, state: ScaleState, nowMs: number): ScaleDecision {
  const steady = { changedAtMs: state.changedAtMs, lowSinceMs: null, lowPeak: 0 };
  const changed = (desired: number, reason: ScaleReason): ScaleDecision => ({ desired, reason, state: { changedAtMs: nowMs, lowSinceMs: null, lowPeak: 0 } });
  if (clamp(current, scale) !== current) return changed(clamp(current, scale), 'bounds');
  const rec = recommend(scale, current, o);
  const cooled = nowMs - state.changedAtMs >= scale.cooldownMs;
  if (rec === null || rec.replicas === current) return { desired: current, reason: null, state: steady };
  if (rec.replicas > current) return cooled ? changed(rec.replicas, rec.metric) : { desired: current, reason: null, state: steady };
  // Asked for fewer: a sample that did not see every desired replica says nothing reliable about the load.
  if (o.measured < current) return { desired: current, reason: null, state: steady };
  const lowSinceMs = state.lowSinceMs ?? nowMs;
  const lowPeak = state.lowSinceMs === null ? rec.replicas : Math.max(state.lowPeak, rec.replicas);
  if (cooled && nowMs - lowSinceMs >= scale.cooldownMs) return changed(lowPeak, rec.metric);
  return { desired: current, reason: null, state: { changedAtMs: state.changedAtMs, lowSinceMs, lowPeak } };
}

/**
 * Refuses a count set by hand (`tartarus scale`) outside an adaptive service's [min, max]: the
 * scaler would undo it. Within them it is kept, and scaling goes on from it after a cooldown;
 * 0 stops the service (as `stop --service` does), and the scaler leaves it stopped.
 */
export function checkManualScale(d: Deployment, service: string, replicas: number): void {
  const scale = d.plan.services.find((s) => s.name === service)?.scale;
  if (scale?.mode !== 'adaptive' || replicas === 0 || (replicas >= scale.min && replicas <= scale.max)) return;
  throw new InvalidArgumentError(`${service} scales itself between ${scale.min} and ${scale.max} replicas (scale.mode adaptive): give a count in that range (0 stops it), or change scale.min/max in the spec and deploy it`, { context: { deployment: d.name, service, min: scale.min, max: scale.max } });
}

interface Tracked {
  /** The desired count last seen: another value means it was changed by hand (the cooldown starts again). */
  seen: number;
  revision: number;
  sampledAtMs: number;
  touchedAtMs: number;
  state: ScaleState;
}

/** The adaptive scaling of one controller. */
export class Autoscaler {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly hub: AgentHub,
    private readonly traffic: DeploymentTraffic,
    private readonly sampleMs = SAMPLE_MS,
  ) {}

  /**
   * The desired replicas of `svc` now (`live`: its live runs). For an adaptive service of an
   * active deployment, measured every `sampleMs` and changed in the store (and in `d`) as
   * `decideScale` says; any other service's count is the store's. A service scaled to 0 (stopped
   * by hand) is left alone, and nothing changes while a new revision rolls out.
   */
  async desired(d: Deployment, svc: ServicePlan, live: DeploymentRun[]): Promise<number> {
    const current = d.replicas[svc.name] ?? 0;
    if (svc.scale.mode !== 'adaptive' || current === 0 || d.state !== 'active') return current;
    const now = Date.now();
    const t = this.track(d, svc.name, current, now);
    if (now - t.sampledAtMs < this.sampleMs || live.some((r) => r.revision !== d.revision)) return current;
    t.sampledAtMs = now;
    const observed = await this.observe(d, svc, live);
    const decision = decideScale(svc.scale, current, observed, t.state, now);
    t.state = decision.state;
    if (decision.reason === null || decision.desired === current) return current;
    await this.ctx.store.deployments.setReplicas(d.tenantId, d.name, svc.name, decision.desired);
    d.replicas = { ...d.replicas, [svc.name]: decision.desired };
    t.seen = decision.desired;
    const direction = decision.desired > current ? 'up' : 'down';
    this.ctx.metrics.autoscaleDecisions.inc({ direction, reason: decision.reason });
    this.ctx.log.info({ deployment: d.name, tenantId: d.tenantId, service: svc.name, from: current, to: decision.desired, reason: decision.reason, observed }, `service scaled ${direction}`);
    await deploymentEvent(this.ctx, d, 'deployment.scaled', { service: svc.name, replicas: decision.desired, by: 'autoscaler', from: current, reason: decision.reason });
    return decision.desired;
  }

  /** The timing state of a service; a count changed by hand or a new revision starts the cooldown again. */
  private track(d: Deployment, service: string, current: number, now: number): Tracked {
    const key = `${d.id}/${service}`;
    let t = this.tracked.get(key);
    if (t === undefined || t.revision !== d.revision || t.seen !== current) {
      // First seen (by this leader): the deployment's last change in the store is the service's.
      const changedAtMs = t === undefined ? d.updatedAt : now;
      t = { seen: current, revision: d.revision, sampledAtMs: t?.sampledAtMs ?? 0, touchedAtMs: now, state: { changedAtMs, lowSinceMs: null, lowPeak: 0 } };
      this.tracked.set(key, t);
      for (const [k, x] of this.tracked) if (now - x.touchedAtMs > FORGET_MS) this.tracked.delete(k);
    }
    t.touchedAtMs = now;
    return t;
  }

  /** One sample of `svc`: its replicas that take traffic, as their nodes read them, and the proxy's RPS. */
  private async observe(d: Deployment, svc: ServicePlan, live: DeploymentRun[]): Promise<ScaleObservation> {
    const byNode = new Map<string, string[]>();
    for (const r of live) {
      if (r.revision !== d.revision || r.nodeId === null || !takesTraffic(svc, r)) continue;
      byNode.set(r.nodeId, [...(byNode.get(r.nodeId) ?? []), attemptSandboxId(r.runId, r.epoch)]);
    }
    const replies = await Promise.all(
      [...byNode].map(([nodeId, sandboxIds]) =>
        this.hub.call(nodeId, 'sandboxStats', { sandboxIds }).then(
          (x) => x.sandboxes,
          (): SandboxUsageNow[] => [],
        ),
      ),
    );
    const stats = replies.flat();
    const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
    return {
      measured: stats.length,
      cpuPercent: mean(stats.map((s) => s.cpuPercent)),
      memoryPercent: mean(stats.flatMap((s) => (s.memoryPercent === null ? [] : [s.memoryPercent]))),
      rps: this.traffic.rps(d.id, svc.name, RPS_WINDOW_S),
    };
  }
}
