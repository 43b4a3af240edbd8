/**
 * The server's configuration: one zod schema, parsed once at start-up (`parseServerConfig`);
 * nothing downstream re-checks an optional. Every default works on one machine.
 */
import { z } from 'zod';
import { LogLevelSchema } from './logging.js';
import { configOptions, InvalidArgumentError } from '@tartarus/core';

/** An agent token of the configuration, resolved: bound to one node, or shared (`nodeId` null). */
export interface ConfigAgentToken {
  /** The only node an agent presenting it may connect as; null: any node without its own token. */
  nodeId: string | null;
  secret: string;
}

/** `NODE_ID=TOKEN` (bound) or `TOKEN` (shared); a trailing `=` (base64 padding) is the token's. */
const BOUND_TOKEN = /^([^=]+)=([^=][\s\S]*)$/;

/**
 * One entry of `agentTokens`, resolved once here: a string (`NODE_ID=TOKEN` or `TOKEN`), or
 * already resolved (embedded mode binds its own token to its node id this way).
 */
const AgentTokenSchema = z
  .union([
    z.string(),
    z.strictObject({
      nodeId: z.string().min(1).max(128).nullable(),
      secret: z.string().min(16),
    }),
  ])
  .transform((entry, ctx): ConfigAgentToken => {
    if (typeof entry !== 'string') return entry;
    const m = BOUND_TOKEN.exec(entry);
    const token = m ? { nodeId: m[1] ?? '', secret: m[2] ?? '' } : { nodeId: null, secret: entry };
    if (token.secret.length < 16)
      ctx.addIssue({
        code: 'custom',
        message: 'an agent token must have at least 16 characters (as TOKEN or NODE_ID=TOKEN)',
      });
    if (token.nodeId !== null && token.nodeId.length > 128)
      ctx.addIssue({
        code: 'custom',
        message: 'the NODE_ID of NODE_ID=TOKEN must have at most 128 characters',
      });
    return token;
  });

const DAY_MS = 86_400_000;

/** The configuration schema; each option's default is documented next to it. */
export const ServerConfigSchema = z.strictObject({
  /** Interface to listen on. Default loopback: embedded mode is a single-user machine service. */
  host: z.string().default('127.0.0.1'),
  /** TCP port; 0 picks a free one. Default 7070. */
  port: z.number().int().min(0).max(65_535).default(7070),
  /** Largest JSON body, bytes. Default 2 MiB (1 MiB of inline stdin plus the rest of a request). */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024),
  /** Largest file upload, bytes. Default 100 MiB. */
  fileLimitBytes: z
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  /** Per-key token bucket: sustained requests per second. Default 50. */
  rateLimitPerSec: z.number().positive().default(50),
  /** Per-key token bucket: burst size. Default 200. */
  rateLimitBurst: z.number().int().positive().default(200),
  /**
   * Secrets agents present on `/v1/agent/connect`, each `NODE_ID=TOKEN` (bound: the agent may
   * only say `hello` as that node) or `TOKEN` (shared: any node that has no token of its own — for
   * bootstrapping a trusted fleet; the server warns at start). Admins also issue per-node tokens
   * through `/v1/nodes/tokens`. Default none (embedded mode binds one to its node per start).
   */
  agentTokens: z.array(AgentTokenSchema).default([]),
  /** Agent heartbeat period, ms. Default 2 s. */
  heartbeatIntervalMs: z.number().int().positive().default(2000),
  /** A node silent this long is marked down and its runs requeued, ms. Default 15 s. */
  nodeDeadlineMs: z.number().int().positive().default(15_000),
  /** Time an agent has to confirm a leased run's start, and the heartbeat deadline of a running one, ms. Default 30 s. */
  leaseMs: z.number().int().positive().default(30_000),
  /** Period of the sweeper (expired leases, stale nodes, sandbox timeouts), ms. Default 1 s. */
  sweepIntervalMs: z.number().int().positive().default(1000),
  /** Period of the scheduler's fallback poll (it is also woken on every submit/finish), ms. Default 500. */
  schedulePollMs: z.number().int().positive().default(500),
  /** Placement score: `binpack` fills the busiest node first, `spread` the idlest. Default binpack. */
  placement: z.enum(['binpack', 'spread']).default('binpack'),
  /**
   * CPU requests placed per core of a node. A limit is a cap, not a reservation, and idle
   * sandboxes use almost no CPU: at the default 16, a 2-core node takes 256 sandboxes of the
   * default 0.125-core request (as E2B packs idle sandboxes). 1: no overcommit.
   */
  cpuOvercommit: z.number().min(1).max(1000).default(16),
  /** Memory requests placed per MiB of a node. Default 1: requests never exceed memory. */
  memoryOvercommit: z.number().min(1).max(100).default(1),
  /** Time to wait for an agent to answer a request (create sandbox, exec start, file op), ms. Default 120 s. */
  agentRequestTimeoutMs: z.number().int().positive().default(120_000),
  /**
   * Forecast-driven warm pools (an agent's pools with `autoscale`): every interval of this many ms
   * the server counts each pool's creates, forecasts the next interval's and sizes the pool to the
   * top of the 90 % prediction interval. Default 5 min.
   */
  poolIntervalMs: z.number().int().min(100).max(DAY_MS).default(300_000),
  /**
   * Intervals in one season of the forecast (its daily cycle): the default 288 is a day of
   * 5-minute intervals. A forecast needs two seasons of counts; until then a pool keeps its size.
   */
  poolSeasonIntervals: z.number().int().min(2).max(2016).default(288),
  /** Bytes of snapshots a tenant may keep (their files, on the nodes), unless the tenant has its own `maxSnapshotBytes`. Default 50 GiB. */
  maxSnapshotBytes: z.number().int().min(0).default(50 * 1024 ** 3),
  /** Time to wait for a sandbox to be created, including a first build of its template, ms. Default 15 min. */
  sandboxCreateTimeoutMs: z.number().int().positive().default(900_000),
  /**
   * Run output is deleted this long after its run ended, ms; the run itself stays, with
   * `logsExpiredAt`, and its logs answer 410 Gone. Default 7 days.
   */
  runLogRetentionMs: z
    .number()
    .int()
    .positive()
    .default(7 * DAY_MS),
  /** Audit entries are deleted this long after they were recorded, ms. Default 90 days. */
  auditRetentionMs: z
    .number()
    .int()
    .positive()
    .default(90 * DAY_MS),
  /**
   * Events of the bus (`GET /v1/events`, webhooks) are deleted this long after they happened, ms;
   * a stream resumed from an older id starts at the oldest kept. Default 7 days.
   */
  eventRetentionMs: z
    .number()
    .int()
    .positive()
    .default(7 * DAY_MS),
  /** How long one webhook delivery attempt may take (connect, send, answer), ms; then it failed. Default 10 s. */
  webhookTimeoutMs: z.number().int().positive().default(10_000),
  /** Wait after a webhook delivery's first failed attempt, ms; doubled after each further failure. Default 10 s. */
  webhookRetryBaseMs: z.number().int().positive().default(10_000),
  /** Longest wait between two attempts of a webhook delivery, ms. Default 1 h. */
  webhookRetryMaxMs: z.number().int().positive().default(3_600_000),
  /**
   * A webhook whose deliveries have failed for this long without a success in between is
   * disabled (event `webhook.disabled`, an audit entry), ms. Default 24 h.
   */
  webhookDisableAfterMs: z.number().int().positive().default(DAY_MS),
  /** Log requests too (in the structured log, with their request id). Default false. */
  logRequests: z.boolean().default(false),
  /**
   * Level of the structured log (logging.ts) of a server that makes its own logger (the
   * standalone server, `tartarus up`): fatal, error, warn, info (default: every control-plane
   * event), debug, trace or silent.
   */
  logLevel: LogLevelSchema.default('info'),
  /**
   * Grafana Loki to push logs to: runs' output, sandboxes' lifecycle lines and the structured log
   * (what `logLevel` lets through), in batches, over Loki's push API (gzipped JSON). A base URL
   * (`http://loki:3100`, the path `/loki/api/v1/push` is added) or the full push URL;
   * `user:password@` in it is sent as basic auth. Default none: nothing is shipped.
   */
  lokiUrl: z
    .url({ protocol: /^https?$/, error: 'lokiUrl must be an http:// or https:// URL such as http://loki:3100' })
    .nullable()
    .default(null),
  /** Headers of every push, e.g. `X-Scope-OrgID=acme` (a multi-tenant Loki's tenant) or `Authorization=Bearer …`. Default none. */
  lokiHeaders: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'lokiHeaders names are letters, digits and -'), z.string()).default({}),
  /** Labels of every stream pushed to Loki, e.g. `cluster=eu1` (names: letters, digits, _). Default none. */
  lokiLabels: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'lokiLabels names are letters, digits and _, not starting with a digit'), z.string().min(1)).default({}),
  /**
   * Where run and sandbox ids go in Loki: `labels` (default) — a `run` or `sandbox` label, one
   * stream per run and sandbox, which Loki counts as high cardinality (fine for thousands of runs a
   * day); or `metadata` — Loki's structured metadata (Loki 3, or 2.9 with
   * `allow_structured_metadata`), streams per tenant and node only, selected with
   * `{tenant="t"} | run="run_…"`.
   */
  lokiIds: z.enum(['labels', 'metadata']).default('labels'),
  /** Longest a line waits before it is pushed to Loki, ms. Default 1000. */
  lokiBatchMs: z.number().int().min(10).max(60_000).default(1000),
  /** A push to Loki goes once this many bytes of lines wait, and carries at most this many. Default 1 MiB. */
  lokiBatchBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  /**
   * Bytes of lines kept while Loki does not answer (pushes are retried with backoff); past it the
   * oldest are dropped and counted (`tartarus_log_lines_dropped_total`). Default 32 MiB.
   */
  lokiBufferBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(32 * 1024 * 1024),
  /**
   * Metrics and phase timings (`/metrics`, `tartarus_*`; runs' and sandboxes' `phases` beyond what
   * the store records anyway). Default true; off only to measure what they cost (`npm run bench
   * -- api`): `/metrics` then has nothing of the platform's.
   */
  observability: z.boolean().default(true),
  /**
   * Host-based port URLs: `PORT-ID.<proxyDomain>` (a wildcard DNS name pointing at the server) is
   * proxied to port PORT of sandbox ID. Default none: only path-based URLs
   * (`/v1/sandboxes/ID/ports/PORT/...`) are offered.
   */
  proxyDomain: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'proxyDomain must be a DNS name such as sandboxes.example.com')
    .nullable()
    .default(null),
  /**
   * Ports deployments' public TCP and UDP endpoints may be published on, at the server's `host`
   * (`LOW-HIGH`); a spec asking for a port outside is refused. Default 1024-65535: no privileged
   * port unless the operator allows it.
   */
  publicPortRange: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'publicPortRange must be LOW-HIGH, e.g. 30000-32767')
    .refine((r) => {
      const [lo = 0, hi = 0] = r.split('-').map(Number);
      return lo >= 1 && lo <= hi && hi <= 65535;
    }, 'publicPortRange must be LOW-HIGH with 1 <= LOW <= HIGH <= 65535')
    .default('1024-65535'),
  /**
   * Key that signs sandbox access tokens (HMAC-SHA256), at least 32 characters; every replica
   * must share it. Default: a random key per start (tokens then end with the process).
   */
  tokenSecret: z.string().min(32, 'tokenSecret must have at least 32 characters').nullable().default(null),
  /**
   * Key that encrypts tenants' secrets at rest (AES-256-GCM with the SHA-256 of it), at least 32
   * characters; every replica must share it, and it must not change (what was stored with it would
   * not open). Default none: the server keeps no secrets (`tartarus up` makes one in its data dir).
   */
  secretKey: z.string().min(32, 'secretKey must have at least 32 characters').nullable().default(null),
  /**
   * Destinations (IPv4 CIDRs) the server's own outbound HTTP — webhooks, integrations' API calls —
   * may reach although the destination rules refuse them (loopback, private, link-local): for
   * receivers on the server's own network. Default none.
   */
  webhookAllowedDestinations: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'webhookAllowedDestinations entries must be IPv4 CIDRs such as 10.0.0.0/8')).default([]),
  /** Directory of plugin modules (integrations) to load besides the built-in ones. Default none. */
  pluginDir: z.string().min(1).nullable().default(null),
  /** Base URL of links for people (the dashboard, e.g. in commit statuses and Slack). Default: the server's own URL. */
  publicUrl: z.url({ protocol: /^https?$/ }).nullable().default(null),
});

/** The server's options as flags and variables (main.ts; the names kept from before where they differ). */
export const SERVER_OPTIONS = configOptions(ServerConfigSchema, { agentTokens: { flag: 'agent-token', env: 'TARTARUS_AGENT_TOKENS' } });

/** The resolved configuration. */
export type ServerConfig = z.output<typeof ServerConfigSchema>;
/** Configuration as given (every field optional). */
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

/** Parses the configuration once; the message names the option to fix. */
export function parseServerConfig(input: ServerConfigInput = {}): ServerConfig {
  const r = ServerConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidArgumentError(
      `server config ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}
