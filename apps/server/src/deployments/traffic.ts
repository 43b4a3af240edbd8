/**
 * Requests the proxy sent to each service of each deployment, counted per second over the last
 * minute: what adaptive scaling reads as a service's RPS, and what drain waits on (requests a
 * replica still has in flight). In this server's memory: each server replica counts what it
 * proxied (the leader's view is its own share when several serve one deployment).
 */

/** Seconds of history kept. */
const WINDOW_S = 60;

interface ServiceTraffic {
  /** Requests per second, a ring indexed by the second (epoch seconds % WINDOW_S). */
  counts: number[];
  /** The second each slot of `counts` holds. */
  seconds: number[];
}

/** The proxy's request counters of every deployment service, and each replica's requests in flight. */
export class DeploymentTraffic {
  private readonly services = new Map<string, ServiceTraffic>();
  private readonly inFlight = new Map<string, number>();
  /** How to cut each request in flight, by replica (those that gave one). */
  private readonly cutters = new Map<string, Set<() => void>>();

  /**
   * Counts one request to `service` of deployment `deploymentId` sent to replica `runId`; call the
   * returned function when it ends. `cut`, when given, ends it at once (a drain that ran out of time).
   */
  begin(deploymentId: string, service: string, runId: string, nowMs = Date.now(), cut?: () => void): () => void {
    const key = `${deploymentId}/${service}`;
    let t = this.services.get(key);
    if (t === undefined) {
      t = { counts: new Array<number>(WINDOW_S).fill(0), seconds: new Array<number>(WINDOW_S).fill(0) };
      this.services.set(key, t);
    }
    const second = Math.floor(nowMs / 1000);
    const slot = second % WINDOW_S;
    if (t.seconds[slot] !== second) {
      t.seconds[slot] = second;
      t.counts[slot] = 0;
    }
    t.counts[slot] = (t.counts[slot] ?? 0) + 1;
    this.inFlight.set(runId, (this.inFlight.get(runId) ?? 0) + 1);
    if (cut !== undefined) {
      let set = this.cutters.get(runId);
      if (set === undefined) this.cutters.set(runId, (set = new Set()));
      set.add(cut);
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const n = (this.inFlight.get(runId) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(runId);
      else this.inFlight.set(runId, n);
      if (cut === undefined) return;
      const set = this.cutters.get(runId);
      set?.delete(cut);
      if (set?.size === 0) this.cutters.delete(runId);
    };
  }

  /** Cuts every request replica `runId` has in flight through this server (its clients get an error, not a wait). */
  cut(runId: string): void {
    for (const cut of [...(this.cutters.get(runId) ?? [])]) cut();
  }

  /** Mean requests per second to `service` over the last `windowS` whole seconds (at most a minute). */
  rps(deploymentId: string, service: string, windowS = 10, nowMs = Date.now()): number {
    const t = this.services.get(`${deploymentId}/${service}`);
    if (t === undefined) return 0;
    const span = Math.max(1, Math.min(WINDOW_S - 1, Math.floor(windowS)));
    const now = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let s = now - span; s < now; s++) {
      const slot = ((s % WINDOW_S) + WINDOW_S) % WINDOW_S;
      if (t.seconds[slot] === s) sum += t.counts[slot] ?? 0;
    }
    return sum / span;
  }

  /** Requests replica `runId` has in flight through this server. */
  active(runId: string): number {
    return this.inFlight.get(runId) ?? 0;
  }

  /** Forgets a deployment's counters (it was removed). */
  forget(deploymentId: string): void {
    for (const key of this.services.keys()) if (key.startsWith(`${deploymentId}/`)) this.services.delete(key);
  }
}
