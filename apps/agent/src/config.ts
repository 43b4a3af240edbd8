/** The agent's configuration: one zod schema, parsed once at start-up. */
import { statfsSync } from 'node:fs';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { z } from 'zod';
import { configOptions, EgressSchema, InvalidArgumentError, WORKLOAD_DEFAULTS } from '@tartarus/core';

/** The configuration schema; each default is documented next to its option. */
export const AgentConfigSchema = z.strictObject({
  /** Server's agent endpoint, e.g. `ws://127.0.0.1:7070/v1/agent/connect`. Required. */
  serverUrl: z.string().regex(/^wss?:\/\//, 'serverUrl must start with ws:// or wss://'),
  /** Agent token the server accepts. Required. */
  token: z.string().min(16),
  /** Stable node id kept across restarts. Required (embedded mode stores one in the data dir). */
  nodeId: z.string().min(1).max(128),
  /** Display name. Default: the host name. */
  name: z.string().default(hostname()),
  /**
   * Sandboxes at once (runs + interactive). Default: 128 per CPU — placement reserves each
   * sandbox's CPU/memory request, which is what really bounds a node; this only caps the count.
   */
  slots: z
    .number()
    .int()
    .positive()
    .default(availableParallelism() * 128),
  /** CPUs offered. Default: the host's. */
  cpu: z.number().positive().default(availableParallelism()),
  /** Memory offered, MiB. Default: the host's. */
  memoryMiB: z
    .number()
    .int()
    .positive()
    .default(Math.floor(totalmem() / 1048576)),
  /** Disk offered for writable layers, MiB. Default: the free space of the root filesystem. */
  diskMiB: z.number().int().nonnegative().default(freeDiskMiB()),
  /** Labels for placement filters. Default none. */
  labels: z.record(z.string(), z.string()).default({}),
  /**
   * Warm pools: per template and runtime, `size` sandboxes booted ahead and handed out on create
   * when the sandbox's limits match (`limits` unset: the default limits) and whether it has a
   * network: `network` true (the default) serves work whose egress
   * is not `none` — sandboxes by default —, false serves loopback-only work (runs by default).
   * A networked pool's sandboxes boot with `egress` (default `all`, a sandbox's default): a
   * caller with that policy is handed one without a change of rules, any other policy replaces
   * it before the caller's first process. With `autoscale: {min, max}` the pool is
   * forecast-driven: the server sizes it from the forecast of its creates, between `min` and
   * `max` (`size` is where it starts, default `min`). Default none.
   */
  pools: z
    .array(
      z.strictObject({
        template: z.string().min(1),
        runtime: z.enum(['container', 'gvisor', 'microvm']),
        size: z.number().int().min(0).max(256).optional(),
        autoscale: z.strictObject({ min: z.number().int().min(0).max(256), max: z.number().int().min(1).max(256) }).optional(),
        limits: z
          .strictObject({ cpu: z.number().positive(), memoryMiB: z.number().int().positive(), pids: z.number().int().positive(), diskMiB: z.number().int().positive() })
          .partial()
          .optional(),
        network: z.boolean().optional(),
        egress: EgressSchema.optional(),
      })
        .refine((p) => p.network !== false || p.egress === undefined, { message: 'egress is for a networked pool: leave it out or set network: true' })
        .refine((p) => p.size !== undefined || p.autoscale !== undefined, { message: 'give the pool a size, or an autoscale {min, max}' })
        .refine((p) => !p.autoscale || p.autoscale.min <= p.autoscale.max, { message: 'autoscale min must not be above max' })
        .refine((p) => !p.autoscale || p.size === undefined || (p.autoscale.min <= p.size && p.size <= p.autoscale.max), {
          message: 'size is where a forecast-driven pool starts: keep it between autoscale min and max, or leave it out',
        })
        .transform(({ egress, size, ...p }) => {
          const network = p.network ?? true;
          return { ...p, size: size ?? p.autoscale?.min ?? 0, network, ...(network ? { egress: egress ?? WORKLOAD_DEFAULTS.sandboxEgress } : {}) };
        }),
    )
    .default([]),
  /**
   * The image cache (pulled and built images, their blobs and microVM disks) is kept under this
   * many MiB: every 10 minutes the least recently used images no sandbox runs on are removed
   * until it fits. Default 20 GiB; 0 disables collection.
   */
  imageBudgetMiB: z.number().int().min(0).default(20_480),
  /** How often each sandbox's cgroup and network counters are sampled for usage metering, ms. Default 5 s. */
  usageSampleMs: z.number().int().min(50).default(5000),
  /** How often a running sandbox's usage is reported to the server, ms (and once when it ends). Default 60 s. */
  usageReportMs: z.number().int().min(100).default(60_000),
  /** Longest wait between reconnect attempts, ms. Default 5 s. */
  maxReconnectDelayMs: z.number().int().positive().default(5000),
  /**
   * Where the node proxy listens for the servers' port tunnels (node-proxy.ts), `host:port`
   * (port 0: any). Default loopback, right for one machine; on a fleet, an address the servers reach.
   */
  proxyListen: z.string().regex(/^[^\s]+:\d{1,5}$/, 'proxyListen must be host:port').default('127.0.0.1:0'),
  /**
   * Where the agent serves its Prometheus metrics (`GET /metrics`), `host:port`. Default none (the
   * embedded agent's metrics are part of the server's `/metrics`).
   */
  metricsListen: z.string().regex(/^[^\s]+:\d{1,5}$/, 'metricsListen must be host:port').optional(),
  /** The host the servers connect to for the node proxy. Default: `proxyListen`'s host. */
  proxyAdvertiseHost: z.string().min(1).optional(),
});

function freeDiskMiB(): number {
  try {
    const s = statfsSync('/');
    return Math.floor((s.bavail * s.bsize) / 1048576);
  } catch {
    return 0;
  }
}

/** The agent's options as environment variables (main.ts; the names kept from before where they differ). */
export const AGENT_OPTIONS = configOptions(AgentConfigSchema, { token: { env: 'TARTARUS_AGENT_TOKEN' }, name: { env: 'TARTARUS_NODE_NAME' }, pools: { type: 'TEMPLATE:RUNTIME:SIZE|MIN-MAX[:net|lo] list' } });

/** The resolved configuration. */
export type AgentConfig = z.output<typeof AgentConfigSchema>;
/** Configuration as given. */
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** Parses the configuration once; the message names the option to fix. */
export function parseAgentConfig(input: AgentConfigInput): AgentConfig {
  const r = AgentConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidArgumentError(
      `agent config ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}

/**
 * Parses `TEMPLATE:RUNTIME:SIZE[:net|lo][,…]` (e.g. `python:container:4`, `busybox:container:2:lo`),
 * as the CLI and environment give pools; `net`/`lo` say whether its sandboxes have a network.
 * A size `MIN-MAX` (e.g. `python:container:1-8`) makes the pool forecast-driven in that range.
 */
export function parsePoolList(text: string): NonNullable<AgentConfigInput['pools']> {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [template, runtime, size, net, ...rest] = item.split(':');
      const range = /^(\d+)-(\d+)$/.exec(size ?? '');
      const n = range ? Number(range[1]) : Number(size);
      if (!template || !runtime || rest.length || !Number.isInteger(n) || n < 0 || (net !== undefined && net !== 'net' && net !== 'lo')) {
        throw new InvalidArgumentError(`pool "${item}": write TEMPLATE:RUNTIME:SIZE[:net|lo] (SIZE a number, or MIN-MAX for a forecast-driven pool), e.g. python:container:4 or python:container:1-8`);
      }
      if (runtime !== 'container' && runtime !== 'gvisor' && runtime !== 'microvm') {
        throw new InvalidArgumentError(`pool "${item}": runtime must be container, gvisor or microvm`);
      }
      const autoscale = range ? { autoscale: { min: n, max: Number(range[2]) } } : {};
      return { template, runtime, size: n, ...autoscale, ...(net === undefined ? {} : { network: net === 'net' }) };
    });
}
