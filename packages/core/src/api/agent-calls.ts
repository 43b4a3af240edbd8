/**
 * The typed map of calls the server makes into an agent: name → input schema → output schema
 * (→ event schemas, for streaming calls). The server's `hub.call(node, name, input)` is typed from
 * it and validates the reply with the output schema; the agent validates the input and serves
 * each call with a handler typed from the same entry. Nothing casts an agent's reply.
 */
import { z } from 'zod';
import { ExecResultSchema } from './exec.js';
import { TemplateConfigSchema, TemplateProgressSchema } from './admin.js';
import { EgressSchema } from '../network.js';
import { AgentPoolStatsSchema } from './pools.js';

const SandboxRef = z.object({ sandboxId: z.string() });
const Empty = z.object({});
const Stream = z.enum(['stdout', 'stderr']);

/** A process result as the agent reports it: an `ExecResult` plus when it started and finished (ms since the epoch). */
export const AgentProcessResultSchema = ExecResultSchema.extend({
  startedAtMs: z.number(),
  finishedAtMs: z.number(),
});
/** A process result on the wire. */
export type AgentProcessResult = z.infer<typeof AgentProcessResultSchema>;

/** A process to exec in a running sandbox; unset fields take the template's. */
export const AgentExecProcessSchema = z.object({
  argv: z.array(z.string()).optional(),
  /** Run with the template's shell. */
  command: z.string().optional(),
  env: z.record(z.string(), z.string()),
  cwd: z.string().optional(),
  user: z.string().optional(),
});

/** A file entry on the wire (the API shows `modifiedAt` as ISO). */
export const AgentFileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'other']),
  sizeBytes: z.number(),
  mode: z.number(),
  modifiedAtMs: z.number(),
});

/** A template as an agent reports it. */
export const TemplateReportSchema = z.object({
  name: z.string(),
  description: z.string(),
  built: z.boolean(),
  sizeBytes: z.number().optional(),
  digest: z.string().optional(),
  builtAtMs: z.number().optional(),
});
/** A template as an agent reports it. */
export type TemplateReport = z.infer<typeof TemplateReportSchema>;

/** An image's own settings as an agent reports them: the same shape a template of it shows. */
export const ImageConfigSchema = TemplateConfigSchema;
/** An image's own settings. */
export type ImageConfig = z.infer<typeof ImageConfigSchema>;

/** An image a node holds, as its agent reports it. */
export const ImageReportSchema = z.object({
  /** The reference as normalised (`docker.io/library/nginx:latest`). */
  ref: z.string(),
  /** Manifest digest, `sha256:…`. */
  digest: z.string(),
  sizeBytes: z.number(),
  config: ImageConfigSchema,
  pulledAtMs: z.number(),
});
/** An image a node holds. */
export type ImageReport = z.infer<typeof ImageReportSchema>;

/** Registry credentials sent with one call (never stored by the agent). */
export const RegistryAuthSchema = z.object({ username: z.string(), password: z.string() });

/** One output chunk of a streaming exec. */
export const AgentOutputEventSchema = z.object({
  stream: Stream,
  data: z.string(),
  timeMs: z.number(),
});

/**
 * What a sandbox uses now, as its node's usage meter reads its cgroup: CPU averaged since the
 * meter's last sample, memory in use now. Percentages are of the sandbox's own limits.
 */
export const SandboxUsageNowSchema = z.object({
  sandboxId: z.string(),
  /** Mean cores used over `windowMs`. */
  cpuCores: z.number(),
  /** `cpuCores` as a percentage of its CPU limit (of one core when the node does not know the limit: a sandbox adopted after an agent restart). */
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  /** `memoryBytes` as a percentage of its memory limit; null when the node does not know the limit. */
  memoryPercent: z.number().nullable(),
  /** The span the CPU figure averages, ms. */
  windowMs: z.number(),
});
/** What a sandbox uses now. */
export type SandboxUsageNow = z.infer<typeof SandboxUsageNowSchema>;

/** Every call: its input, its output and (for streaming calls) its events. */
export const AGENT_CALLS = {
  /**
   * SIGTERM to the workload, SIGKILL to its tree `graceMs` later (default 1 s); resolves once it
   * is destroyed. `message` (why it was killed) is the message of its `finished` report.
   */
  killSandbox: {
    input: SandboxRef.extend({ graceMs: z.number().int().min(0).optional(), message: z.string().max(600).optional() }),
    output: Empty,
    events: {},
  },
  pauseSandbox: { input: SandboxRef, output: Empty, events: {} },
  resumeSandbox: { input: SandboxRef, output: Empty, events: {} },
  /** Moves the sandbox's local kill timer to `timeoutAtMs` (epoch ms). */
  setTimeout: {
    input: SandboxRef.extend({ timeoutAtMs: z.number() }),
    output: Empty,
    events: {},
  },
  /** Replaces a networked sandbox's egress policy (409 for one created with `none`). */
  setEgress: {
    input: SandboxRef.extend({ egress: EgressSchema }),
    output: Empty,
    events: {},
  },
  exec: {
    input: SandboxRef.extend({
      process: AgentExecProcessSchema,
      /** 0: none. */
      timeoutMs: z.number(),
      /** base64, written then closed (unless interactive). */
      stdin: z.string().optional(),
      interactive: z.boolean(),
    }),
    output: AgentProcessResultSchema,
    events: {
      started: z.object({ execId: z.string() }),
      output: AgentOutputEventSchema,
    },
  },
  execStdin: { input: z.object({ execId: z.string(), data: z.string() }), output: Empty, events: {} },
  execCloseStdin: { input: z.object({ execId: z.string() }), output: Empty, events: {} },
  execKill: {
    input: z.object({ execId: z.string(), signal: z.string() }),
    output: Empty,
    events: {},
  },
  fileRead: {
    input: SandboxRef.extend({ path: z.string() }),
    /** base64. */
    output: z.object({ data: z.string() }),
    events: {},
  },
  fileWrite: {
    input: SandboxRef.extend({ path: z.string(), data: z.string(), mode: z.number().optional() }),
    output: Empty,
    events: {},
  },
  fileList: {
    input: SandboxRef.extend({ path: z.string() }),
    output: z.array(AgentFileEntrySchema),
    events: {},
  },
  fileRemove: {
    input: SandboxRef.extend({ path: z.string(), recursive: z.boolean() }),
    output: Empty,
    events: {},
  },
  /**
   * One health check of a sandbox, run by its node: a TCP connect or an HTTP GET to the sandbox's
   * own address from the node, or a command in the sandbox (healthy when it exits 0).
   */
  healthCheck: {
    input: SandboxRef.extend({
      check: z.discriminatedUnion('type', [
        z.object({ type: z.literal('tcp'), port: z.number().int() }),
        z.object({ type: z.literal('http'), port: z.number().int(), path: z.string(), expectStatus: z.number().int() }),
        z.object({ type: z.literal('command'), command: z.string() }),
      ]),
      timeoutMs: z.number().int().positive(),
    }),
    output: z.object({ healthy: z.boolean(), message: z.string() }),
    events: {},
  },
  /**
   * What the given sandboxes use now (adaptive scaling). A sandbox this node does not hold, or
   * has not sampled yet, is left out of the reply rather than failing the call.
   */
  sandboxStats: {
    input: z.object({ sandboxIds: z.array(z.string()).max(1000) }),
    output: z.object({ sandboxes: z.array(SandboxUsageNowSchema) }),
    events: {},
  },
  /**
   * Replaces the service names of network group `group` on the node: name → ids of the group's
   * sandboxes that answer to it (a deployment's replicas that take traffic, on this node). The
   * group's members resolve them through the gateway; `{}` removes them. Level-triggered: the
   * server sends each group's whole table again when it changes and every few seconds.
   */
  setServiceNames: {
    input: z.object({
      group: z.string().min(1).max(200),
      names: z.record(z.string().max(253), z.array(z.string().max(128)).max(1000)),
    }),
    output: Empty,
    events: {},
  },
  listTemplates: { input: Empty, output: z.array(TemplateReportSchema), events: {} },
  buildTemplate: {
    input: z.object({ name: z.string() }),
    output: TemplateReportSchema,
    events: { progress: TemplateProgressSchema },
  },
  /** Pulls an image (always resolving the reference at its registry); progress in layers and bytes. */
  pullImage: {
    input: z.object({ ref: z.string(), auth: RegistryAuthSchema.optional() }),
    output: ImageReportSchema,
    events: { progress: TemplateProgressSchema },
  },
  /**
   * Builds an image from a Dockerfile with buildah: `context` is a tar archive (base64) of the
   * build context holding the Dockerfile at `dockerfile`; the result is stored under `tag`.
   */
  buildImage: {
    input: z.object({
      tag: z.string(),
      dockerfile: z.string(),
      context: z.string(),
      auth: z.record(z.string(), RegistryAuthSchema).optional(),
    }),
    output: ImageReportSchema,
    events: { progress: TemplateProgressSchema },
  },
  /** Keeps the sandbox's files (its writable layer) as a content-addressed snapshot on the node. */
  snapshotSandbox: {
    /** `snapshotId`: the id it is kept under; `maxBytes`: the most it may take (the tenant's room). */
    input: SandboxRef.extend({ snapshotId: z.string(), maxBytes: z.number().int().min(0), memory: z.boolean().default(false) }),
    output: z.object({ digest: z.string(), sizeBytes: z.number().int() }),
    events: {},
  },
  /** Saves the sandbox's memory and frees it (`stateBytes`: the size of what was saved); ConflictError while a command runs. */
  hibernateSandbox: { input: SandboxRef, output: z.object({ stateBytes: z.number().int() }), events: {} },
  /** Starts a hibernated sandbox again where it was (nothing to do for one awake). */
  wakeSandbox: { input: SandboxRef, output: Empty, events: {} },
  /** Removes a snapshot's files from the node (none left using them). */
  deleteSnapshot: { input: z.object({ snapshotId: z.string(), digest: z.string() }), output: Empty, events: {} },
  /** The node's warm pools; `take` starts their create counts again from zero (the caller keeps them). */
  poolStats: {
    input: z.object({ take: z.boolean() }),
    output: z.object({ pools: z.array(AgentPoolStatsSchema) }),
    events: {},
  },
  /** Resizes a forecast-driven pool (`key` from `poolStats`) within its autoscale range. */
  setPoolSize: {
    input: z.object({ key: z.string(), size: z.number().int().min(0) }),
    output: AgentPoolStatsSchema,
    events: {},
  },
  /** Removes unused images until the store is under `budgetBytes` (least recently used first; never one in use). */
  collectImages: {
    input: z.object({ budgetBytes: z.number().int().min(0) }),
    output: z.object({ removed: z.array(z.string()), freedBytes: z.number(), keptBytes: z.number() }),
    events: {},
  },
} as const satisfies Record<
  string,
  { input: z.ZodType; output: z.ZodType; events: Record<string, z.ZodType> }
>;

/** The name of a call. */
export type AgentCallName = keyof typeof AGENT_CALLS;
/** What a caller passes to call `N`. */
export type AgentCallInput<N extends AgentCallName> = z.input<(typeof AGENT_CALLS)[N]['input']>;
/** What call `N` returns. */
export type AgentCallOutput<N extends AgentCallName> = z.output<(typeof AGENT_CALLS)[N]['output']>;
/** The events call `N` streams, as a union of `{ event, data }`. */
export type AgentCallEvent<N extends AgentCallName> = {
  [E in keyof (typeof AGENT_CALLS)[N]['events']]: {
    event: E;
    data: (typeof AGENT_CALLS)[N]['events'][E] extends z.ZodType
      ? z.output<(typeof AGENT_CALLS)[N]['events'][E]>
      : never;
  };
}[keyof (typeof AGENT_CALLS)[N]['events']];

/** Every call name, for the wire schema. */
export const AGENT_CALL_NAMES = Object.keys(AGENT_CALLS) as [AgentCallName, ...AgentCallName[]];

/** A call on the wire: its name and its input (validated against the call's own schema by the agent). */
export const AgentCallRequestSchema = z.object({
  name: z.enum(AGENT_CALL_NAMES),
  input: z.unknown(),
});
/** A call on the wire. */
export type AgentCallRequest = z.infer<typeof AgentCallRequestSchema>;
