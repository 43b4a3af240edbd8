/**
 * Prometheus metrics (prom-client), one registry per server so tests can run several.
 *
 * Counters and histograms are fed where things happen (requests, placements, starts, ends, the
 * port proxy); gauges that describe the store (queue depth, live sandboxes, node heartbeats) are
 * read from it when scraped, so they are right on every replica and cost nothing between scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Priority } from '@tartarus/core';

/** What the scrape-time gauges read. */
export interface MetricSources {
  /** Queued runs eligible now. */
  readyRuns(): Promise<number>;
  /** Queued runs by tenant and priority. */
  queueDepth(): Promise<{ tenantId: string; priority: Priority; count: number }[]>;
  /** Sandboxes not ended, by state and runtime. */
  liveSandboxes(): Promise<{ state: string; runtime: string; count: number }[]>;
  /** Nodes that are up, with their last heartbeat (ms since the epoch). */
  nodes(): Promise<{ id: string; name: string; lastHeartbeatAt: number }[]>;
}

/** Kinds of work. */
export type WorkKind = 'run' | 'sandbox';

/** Work placed on a node, from the start sent until it ends. */
interface Launch {
  kind: WorkKind;
  tenant: string;
  runtime: string;
  template: string;
  sentAtMs: number;
  /** When the node reported it running. */
  startedAtMs?: number;
  /** When its first output came (runs). */
  firstOutput?: true;
}

/** The server's metrics. */
export interface ServerMetrics {
  registry: Registry;
  /** Registries scraped with this one (the embedded agent's). */
  more: Registry[];
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  agentsConnected: Gauge;
  runsFinished: Counter<'state'>;
  /** Time from submission to placement on a node. */
  queueWait: Histogram<'kind'>;
  /** Placement passes' decisions: `placed`, `deferred` (no room or over the tenant's share now), `taken` (placed meanwhile elsewhere). */
  schedulerDecisions: Counter<'kind' | 'decision'>;
  /** Failures by kind of work and reason (a run's attempt, a sandbox's start or end). */
  failures: Counter<'kind' | 'reason'>;
  /** Port proxy connections by how they pass (`tunnel`, `http`, `upgrade`). */
  proxyConnections: Counter<'how'>;
  /** Port proxy bytes of tunnels and upgrades, `to_sandbox` and `from_sandbox`. */
  proxyBytes: Counter<'direction'>;
  /** Seconds of work ended, per tenant, kind and runtime (wall time from start to end; work placed by this server process). */
  workSeconds: Counter<'tenant' | 'kind' | 'runtime'>;
  /** Webhook delivery attempts by outcome (`succeeded`, `http_error`, `timeout`, `network_error`, `refused`, `not_sent`). */
  webhookDeliveries: Counter<'outcome'>;
  /** Adaptive scaling's changes of a service's desired replicas, by `direction` (`up`, `down`) and `reason` (`cpu`, `memory`, `rps`, `bounds`). */
  autoscaleDecisions: Counter<'direction' | 'reason'>;
  /** Records a start sent to a node; `launched` observes the time to its start. */
  launching(workId: string, launch: Omit<Launch, 'sentAtMs' | 'startedAtMs'>): void;
  /** The node reported `workId` started (its template ready at `templateReadyAtMs`): its launch and phases are observed. */
  launched(workId: string, templateReadyAtMs?: number): void;
  /** Output of `workId` arrived (the first chunk's time): its first output is observed once. */
  firstOutput(workId: string, atMs: number | undefined): void;
  /** `workId` ended (finished or failed): its seconds since it started are counted for its tenant. */
  ended(workId: string): void;
  /** `workId`'s sandbox was cleaned up on its node at `atMs`: the cleanup phase is observed. */
  cleaned(workId: string, atMs: number): void;
  /** An agent's usage report was stored for `tenant`: the tenant's usage counters grow by it. */
  usage(tenant: string, runtime: string, used: UsageCounts): void;
  /** Log shipping to Loki (`logs/`): lines shipped and dropped, failed pushes, bytes waiting. */
  logShipping: LogShippingMetrics;
}

/** The log shipper's instruments. */
export interface LogShippingMetrics {
  /** Lines Loki accepted, by source (`run`, `sandbox`, `server`). */
  shipped: Counter<'source'>;
  /** Lines dropped, by reason: `buffer_full` (Loki away too long), `rejected` (Loki refused the push: 4xx), `shutdown`. */
  dropped: Counter<'reason'>;
  /** Pushes that failed and are retried, by reason (`http_<status>`, `network`, `timeout`). */
  pushFailures: Counter<'reason'>;
  /** Bytes of lines waiting to be pushed. */
  bufferBytes: Gauge;
}

/** What one usage report adds. */
export interface UsageCounts {
  cpuSeconds: number;
  memoryGibSeconds: number;
  sandboxSeconds: number;
  egressBytes: number;
}

/** Work tracked for its launch, phases and seconds (and ended work awaiting its cleanup report), at most. */
const MAX_TRACKED = 100_000;

/** Histogram buckets for launches and queue waits, seconds: from a warm start to a slow pull. */
const LAUNCH_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60];

/** One instrument that records nothing (observability off). */
const NOTHING = { inc() {}, observe() {}, set() {}, reset() {} } as unknown as Counter<string> & Histogram<string> & Gauge<string>;

/**
 * Creates the registry; the gauges are read from `sources` on every scrape. With `enabled` false
 * every instrument records nothing and the registry stays empty (to measure their cost).
 */
export function createMetrics(enabled: boolean, sources: MetricSources): ServerMetrics {
  if (!enabled) {
    return {
      registry: new Registry(),
      more: [],
      httpRequests: NOTHING,
      httpDuration: NOTHING,
      agentsConnected: NOTHING,
      runsFinished: NOTHING,
      queueWait: NOTHING,
      schedulerDecisions: NOTHING,
      failures: NOTHING,
      proxyConnections: NOTHING,
      proxyBytes: NOTHING,
      workSeconds: NOTHING,
      webhookDeliveries: NOTHING,
      autoscaleDecisions: NOTHING,
      launching() {},
      launched() {},
      firstOutput() {},
      ended() {},
      cleaned() {},
      usage() {},
      logShipping: { shipped: NOTHING, dropped: NOTHING, pushFailures: NOTHING, bufferBytes: NOTHING },
    };
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tartarus_' });
  const registers = [registry];
  const httpRequests = new Counter({ name: 'tartarus_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'] as const, registers });
  const httpDuration = new Histogram({
    name: 'tartarus_http_request_duration_seconds',
    help: 'HTTP request duration (until the response head for streams)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    registers,
  });
  const agentsConnected = new Gauge({ name: 'tartarus_agents_connected', help: 'Agents connected to this server', registers });
  const runsFinished = new Counter({ name: 'tartarus_runs_finished_total', help: 'Run attempts reported finished, by resulting state', labelNames: ['state'] as const, registers });
  const queueWait = new Histogram({ name: 'tartarus_queue_wait_seconds', help: 'Time from submission to placement on a node', labelNames: ['kind'] as const, buckets: LAUNCH_BUCKETS, registers });
  const launch = new Histogram({
    name: 'tartarus_launch_seconds',
    help: 'Time from placement (the start sent to the node) to the work running, by runtime and template',
    labelNames: ['kind', 'runtime', 'template'] as const,
    buckets: LAUNCH_BUCKETS,
    registers,
  });
  const schedulerDecisions = new Counter({ name: 'tartarus_scheduler_decisions_total', help: 'Placement decisions by kind of work: placed, deferred, taken', labelNames: ['kind', 'decision'] as const, registers });
  const failures = new Counter({ name: 'tartarus_failures_total', help: 'Failures by kind of work and reason', labelNames: ['kind', 'reason'] as const, registers });
  const proxyConnections = new Counter({ name: 'tartarus_proxy_connections_total', help: 'Port proxy connections by how they pass', labelNames: ['how'] as const, registers });
  const proxyBytes = new Counter({ name: 'tartarus_proxy_bytes_total', help: 'Port proxy bytes of tunnels and upgrades, by direction', labelNames: ['direction'] as const, registers });
  const workSeconds = new Counter({ name: 'tartarus_work_seconds_total', help: 'Seconds of work ended (start to end), by tenant, kind and runtime', labelNames: ['tenant', 'kind', 'runtime'] as const, registers });
  const webhookDeliveries = new Counter({ name: 'tartarus_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome: succeeded, http_error, timeout, network_error, refused, not_sent', labelNames: ['outcome'] as const, registers });
  const autoscaleDecisions = new Counter({ name: 'tartarus_autoscale_decisions_total', help: "Adaptive scaling's changes of a service's desired replicas, by direction (up, down) and what drove them (cpu, memory, rps, bounds)", labelNames: ['direction', 'reason'] as const, registers });
  const phase = new Histogram({
    name: 'tartarus_phase_seconds',
    help: 'Phases of work: template (placed to template ready), boot (template ready to running), first_output (running to first output), cleanup (ended to cleaned up)',
    labelNames: ['kind', 'phase'] as const,
    buckets: LAUNCH_BUCKETS,
    registers,
  });
  const usage = usageCounters(registers);
  scrapeGauges(registry, sources);
  const launches = new Map<string, Launch>();
  /** Work ended and not yet cleaned up: when it ended, and its kind. */
  const ending = new Map<string, { kind: WorkKind; atMs: number }>();
  return {
    registry,
    more: [],
    httpRequests,
    httpDuration,
    agentsConnected,
    runsFinished,
    queueWait,
    schedulerDecisions,
    failures,
    proxyConnections,
    proxyBytes,
    workSeconds,
    webhookDeliveries,
    autoscaleDecisions,
    launching: (workId, l) => {
      // Bounded: work whose end this server never hears of (its node lost, its report sent to another replica) ages out.
      if (launches.size >= MAX_TRACKED) launches.delete(launches.keys().next().value ?? '');
      launches.set(workId, { ...l, sentAtMs: Date.now() });
    },
    launched: (workId, templateReadyAtMs) => {
      const l = launches.get(workId);
      if (l === undefined || l.startedAtMs !== undefined) return;
      l.startedAtMs = Date.now();
      launch.observe({ kind: l.kind, runtime: l.runtime, template: l.template }, (l.startedAtMs - l.sentAtMs) / 1000);
      if (templateReadyAtMs !== undefined) {
        phase.observe({ kind: l.kind, phase: 'template' }, Math.max(0, templateReadyAtMs - l.sentAtMs) / 1000);
        phase.observe({ kind: l.kind, phase: 'boot' }, Math.max(0, l.startedAtMs - templateReadyAtMs) / 1000);
      }
    },
    firstOutput: (workId, atMs) => {
      const l = launches.get(workId);
      if (l === undefined || l.firstOutput || l.startedAtMs === undefined || atMs === undefined) return;
      l.firstOutput = true;
      phase.observe({ kind: l.kind, phase: 'first_output' }, Math.max(0, atMs - l.startedAtMs) / 1000);
    },
    ended: (workId) => {
      const l = launches.get(workId);
      if (l === undefined) return;
      launches.delete(workId);
      if (l.startedAtMs !== undefined) workSeconds.inc({ tenant: l.tenant, kind: l.kind, runtime: l.runtime }, (Date.now() - l.startedAtMs) / 1000);
      // Bounded: a node that never reports a cleanup leaves at most this many entries.
      if (ending.size >= MAX_TRACKED) ending.delete(ending.keys().next().value ?? '');
      ending.set(workId, { kind: l.kind, atMs: Date.now() });
    },
    cleaned: (workId, atMs) => {
      const e = ending.get(workId);
      if (e === undefined) return;
      ending.delete(workId);
      phase.observe({ kind: e.kind, phase: 'cleanup' }, Math.max(0, atMs - e.atMs) / 1000);
    },
    usage,
    logShipping: logShippingMetrics(registers),
  };
}

/** The log shipper's instruments (`logs/shipper.ts`). */
function logShippingMetrics(registers: Registry[]): LogShippingMetrics {
  return {
    shipped: new Counter({ name: 'tartarus_log_lines_shipped_total', help: 'Log lines Loki accepted, by source (run, sandbox, server)', labelNames: ['source'] as const, registers }),
    dropped: new Counter({ name: 'tartarus_log_lines_dropped_total', help: 'Log lines not shipped to Loki, by reason (buffer_full, rejected, shutdown)', labelNames: ['reason'] as const, registers }),
    pushFailures: new Counter({ name: 'tartarus_log_push_failures_total', help: 'Pushes to Loki that failed and are retried, by reason (http_<status>, network, timeout)', labelNames: ['reason'] as const, registers }),
    bufferBytes: new Gauge({ name: 'tartarus_log_buffer_bytes', help: 'Bytes of log lines waiting to be pushed to Loki', registers }),
  };
}

/** The per-tenant usage counters (usage metering; the same figures as `GET /v1/usage`). */
function usageCounters(registers: Registry[]): ServerMetrics['usage'] {
  const labelNames = ['tenant', 'runtime'] as const;
  const cpu = new Counter({ name: 'tartarus_usage_cpu_seconds_total', help: 'CPU time used by sandboxes, by tenant and runtime', labelNames, registers });
  const memory = new Counter({ name: 'tartarus_usage_memory_gib_seconds_total', help: 'Memory held by sandboxes over time (GiB x seconds), by tenant and runtime', labelNames, registers });
  const wall = new Counter({ name: 'tartarus_usage_sandbox_seconds_total', help: 'Wall time of sandboxes, by tenant and runtime', labelNames, registers });
  const egress = new Counter({ name: 'tartarus_usage_egress_bytes_total', help: 'Bytes sandboxes sent over their network link, by tenant and runtime', labelNames, registers });
  return (tenant, runtime, u) => {
    const l = { tenant, runtime };
    cpu.inc(l, u.cpuSeconds);
    memory.inc(l, u.memoryGibSeconds);
    wall.inc(l, u.sandboxSeconds);
    egress.inc(l, u.egressBytes);
  };
}

/** The gauges read from the store when scraped. */
function scrapeGauges(registry: Registry, sources: MetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'tartarus_runs_ready',
    help: 'Queued runs eligible to start now',
    registers,
    async collect() {
      this.set(await sources.readyRuns().catch(() => 0));
    },
  });
  new Gauge({
    name: 'tartarus_queue_depth',
    help: 'Queued runs by tenant and priority (eligible now or waiting out a backoff)',
    labelNames: ['tenant', 'priority'] as const,
    registers,
    async collect() {
      this.reset();
      for (const d of await sources.queueDepth().catch(() => [])) this.set({ tenant: d.tenantId, priority: d.priority }, d.count);
    },
  });
  new Gauge({
    name: 'tartarus_sandboxes',
    help: 'Sandboxes not ended, by state and runtime',
    labelNames: ['state', 'runtime'] as const,
    registers,
    async collect() {
      this.reset();
      for (const s of await sources.liveSandboxes().catch(() => [])) this.set({ state: s.state, runtime: s.runtime }, s.count);
    },
  });
  new Gauge({
    name: 'tartarus_node_heartbeat_age_seconds',
    help: 'Seconds since each up node last sent a heartbeat',
    labelNames: ['node', 'name'] as const,
    registers,
    async collect() {
      this.reset();
      const now = Date.now();
      for (const n of await sources.nodes().catch(() => [])) this.set({ node: n.id, name: n.name }, Math.max(0, (now - n.lastHeartbeatAt) / 1000));
    },
  });
}
