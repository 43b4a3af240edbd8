/** Prometheus metrics (prom-client), one registry per server so tests can run several. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's metrics. */
export interface ServerMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  agentsConnected: Gauge;
  runsFinished: Counter<'state'>;
}

/** Creates the registry; `readyRuns` is sampled on every scrape. */
export function createMetrics(readyRuns: () => Promise<number>): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tartarus_' });
  const httpRequests = new Counter({
    name: 'tartarus_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'tartarus_http_request_duration_seconds',
    help: 'HTTP request duration (until the response head for streams)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    registers: [registry],
  });
  const agentsConnected = new Gauge({
    name: 'tartarus_agents_connected',
    help: 'Agents connected to this server',
    registers: [registry],
  });
  const runsFinished = new Counter({
    name: 'tartarus_runs_finished_total',
    help: 'Run attempts reported finished, by resulting state',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'tartarus_runs_ready',
    help: 'Queued runs eligible to start now',
    registers: [registry],
    async collect() {
      this.set(await readyRuns().catch(() => 0));
    },
  });
  return { registry, httpRequests, httpDuration, agentsConnected, runsFinished };
}
