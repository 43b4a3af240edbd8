/**
 * The agent's own Prometheus metrics (prom-client, as on the server): what this node holds and
 * does, seen from the node: sandboxes by runtime, launch times and start failures by runtime,
 * reserved requests against capacity, the link to the server, reports waiting for it, and the
 * usage it metered. A remote agent serves them at `http://<metricsListen>/metrics`; the embedded
 * agent's are appended to the server's `/metrics` (one process, one scrape).
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InvalidArgumentError } from '@tartarus/core';

/** What the gauges read when scraped. */
export interface AgentMetricSources {
  /** Sandboxes held by this node's work, by runtime. */
  sandboxes(): Map<string, number>;
  /** Requests reserved by the work here, and the capacity offered. */
  reserved(): { cpu: number; memoryMiB: number };
  capacity: { cpu: number; memoryMiB: number };
  /** Whether the link to the server is up (reconciled). */
  connected(): boolean;
  /** Reports kept while the link is down. */
  pendingReports(): number;
}

/** Launch buckets, seconds: a warm claim to a slow image pull. */
const LAUNCH_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60];

/** The agent's metrics. */
export class AgentMetrics {
  readonly registry = new Registry();
  /** Time to create and start a sandbox (template included), by runtime. */
  readonly launch: Histogram<'runtime'>;
  /** Starts that failed, by runtime and error code. */
  readonly startFailures: Counter<'runtime' | 'code'>;
  private readonly usageCounters: Record<'cpu' | 'memory' | 'wall' | 'egress', Counter<'runtime'>>;

  constructor(sources: AgentMetricSources) {
    const registers = [this.registry];
    this.launch = new Histogram({ name: 'tartarus_agent_launch_seconds', help: 'Time to create and start a sandbox on this node (template ready included), by runtime', labelNames: ['runtime'] as const, buckets: LAUNCH_BUCKETS, registers });
    this.startFailures = new Counter({ name: 'tartarus_agent_start_failures_total', help: 'Sandbox starts that failed on this node, by runtime and error code', labelNames: ['runtime', 'code'] as const, registers });
    const labelNames = ['runtime'] as const;
    this.usageCounters = {
      cpu: new Counter({ name: 'tartarus_agent_usage_cpu_seconds_total', help: "CPU time of this node's sandboxes, metered here, by runtime", labelNames, registers }),
      memory: new Counter({ name: 'tartarus_agent_usage_memory_gib_seconds_total', help: "Memory held by this node's sandboxes over time (GiB x seconds), by runtime", labelNames, registers }),
      wall: new Counter({ name: 'tartarus_agent_usage_sandbox_seconds_total', help: "Wall time of this node's sandboxes, by runtime", labelNames, registers }),
      egress: new Counter({ name: 'tartarus_agent_usage_egress_bytes_total', help: "Bytes this node's sandboxes sent over their network link, by runtime", labelNames, registers }),
    };
    scrapeGauges(registers, sources);
  }

  /** Counts a usage report this node sent. */
  usage(u: { runtime: string; cpuSeconds: number; memoryGibSeconds: number; sandboxSeconds: number; egressBytes: number }): void {
    const l = { runtime: u.runtime };
    this.usageCounters.cpu.inc(l, u.cpuSeconds);
    this.usageCounters.memory.inc(l, u.memoryGibSeconds);
    this.usageCounters.wall.inc(l, u.sandboxSeconds);
    this.usageCounters.egress.inc(l, u.egressBytes);
  }
}

function scrapeGauges(registers: Registry[], s: AgentMetricSources): void {
  new Gauge({
    name: 'tartarus_agent_sandboxes',
    help: 'Sandboxes held by work on this node, by runtime',
    labelNames: ['runtime'] as const,
    registers,
    collect() {
      this.reset();
      for (const [runtime, n] of s.sandboxes()) this.set({ runtime }, n);
    },
  });
  new Gauge({
    name: 'tartarus_agent_reserved',
    help: 'Requests reserved by the work on this node (cpu in cores, memory in MiB)',
    labelNames: ['resource'] as const,
    registers,
    collect() {
      const r = s.reserved();
      this.set({ resource: 'cpu' }, r.cpu);
      this.set({ resource: 'memory_mib' }, r.memoryMiB);
    },
  });
  new Gauge({
    name: 'tartarus_agent_capacity',
    help: 'Capacity this node offers (cpu in cores, memory in MiB)',
    labelNames: ['resource'] as const,
    registers,
    collect() {
      this.set({ resource: 'cpu' }, s.capacity.cpu);
      this.set({ resource: 'memory_mib' }, s.capacity.memoryMiB);
    },
  });
  new Gauge({
    name: 'tartarus_agent_connected',
    help: '1 while the link to the server is up and reconciled, else 0',
    registers,
    collect() {
      this.set(s.connected() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tartarus_agent_reports_pending',
    help: 'Reports kept while the link to the server is down',
    registers,
    collect() {
      this.set(s.pendingReports());
    },
  });
}

/**
 * Serves `registry` (plus the process's own metrics, prefixed `tartarus_agent_`) at
 * `http://<listen>/metrics`; `listen` is `host:port`. Resolves with the server once listening.
 */
export async function serveMetrics(listen: string, registry: Registry): Promise<Server> {
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m) throw new InvalidArgumentError(`metricsListen "${listen}" is not host:port (e.g. 0.0.0.0:9464)`);
  collectDefaultMetrics({ register: registry, prefix: 'tartarus_agent_' });
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1]?.replace(/^\[|\]$/g, ''), () => resolve());
  });
  return server;
}
