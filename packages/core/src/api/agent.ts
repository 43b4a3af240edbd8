/**
 * The agent protocol: JSON messages with a `type` discriminator over the WebSocket an agent opens
 * to `GET /v1/agent/connect`. The same protocol serves the in-process agent of embedded mode and a
 * remote agent, so distributed mode reuses it unchanged. Both ends validate with these schemas.
 *
 * Rules
 * - The agent sends `hello` first, on every (re)connect, with its full inventory; the server answers
 *   `reconcile` (level-triggered: what to keep, what to destroy) before anything else.
 * - Runs are fenced by `epoch`: the server ignores reports whose epoch is not the current lease's.
 * - Everything else the server asks (sandbox lifecycle, exec, files, templates) is a `request` with a
 *   `requestId`; the agent answers with exactly one `reply` and, for streaming operations, any
 *   number of `event`s before it.
 * - Output is UTF-8 text (decoded on the agent with a streaming decoder, so a character split
 *   across chunks survives); file contents and stdin are base64.
 */
import { z } from 'zod';
import { ExecResultSchema } from './exec.js';
import { NodeResourcesSchema } from './admin.js';

/** Protocol version; a server refuses a `hello` with another major. */
export const AGENT_PROTOCOL_VERSION = 1;

const Stream = z.enum(['stdout', 'stderr']);

/** A process result as the agent reports it: an `ExecResult` plus when it started and finished (ms since the epoch). */
export const AgentProcessResultSchema = ExecResultSchema.extend({
  startedAtMs: z.number(),
  finishedAtMs: z.number(),
});
/** A process result on the wire. */
export type AgentProcessResult = z.infer<typeof AgentProcessResultSchema>;

/** One sandbox the agent holds, as reported in `hello`. */
export const InventoryItemSchema = z.object({
  sandboxId: z.string(),
  /** Set when the sandbox executes a run attempt. */
  runId: z.string().optional(),
  epoch: z.number().int().optional(),
  state: z.enum(['created', 'running', 'paused', 'exited', 'destroyed']),
});
/** One sandbox in an agent's inventory. */
export type InventoryItem = z.infer<typeof InventoryItemSchema>;

/** Messages agent → server. */
export const AgentMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocolVersion: z.number().int(),
    nodeId: z.string().min(1).max(128),
    name: z.string(),
    runtimes: z.array(z.string()),
    capacity: NodeResourcesSchema,
    labels: z.record(z.string(), z.string()),
    capabilities: z.record(z.string(), z.unknown()).default({}),
    inventory: z.array(InventoryItemSchema),
  }),
  z.object({
    type: z.literal('heartbeat'),
    used: NodeResourcesSchema.optional(),
    runs: z.array(z.object({ runId: z.string(), epoch: z.number().int() })),
  }),
  z.object({
    type: z.literal('runStarted'),
    runId: z.string(),
    epoch: z.number().int(),
    sandboxId: z.string(),
  }),
  z.object({
    type: z.literal('output'),
    runId: z.string().optional(),
    sandboxId: z.string().optional(),
    epoch: z.number().int().optional(),
    stream: Stream,
    data: z.string(),
    timeMs: z.number(),
    seq: z.number().int(),
  }),
  z.object({
    type: z.literal('runFinished'),
    runId: z.string(),
    epoch: z.number().int(),
    result: AgentProcessResultSchema,
  }),
  /** The attempt could not run (sandbox creation failed, driver error): the server retries it by policy. */
  z.object({
    type: z.literal('runFailed'),
    runId: z.string(),
    epoch: z.number().int(),
    reason: z.enum(['start_failed', 'error']),
    message: z.string(),
    retryable: z.boolean(),
  }),
  z.object({
    type: z.literal('sandboxState'),
    sandboxId: z.string(),
    state: z.enum(['running', 'paused', 'exited', 'killed', 'error']),
    exit: z
      .object({
        exitCode: z.number().int().nullable(),
        reason: z.string(),
        message: z.string().nullable(),
      })
      .optional(),
  }),
  z.object({
    type: z.literal('event'),
    requestId: z.string(),
    event: z.string(),
    data: z.unknown(),
  }),
  z.object({
    type: z.literal('reply'),
    requestId: z.string(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
]);
/** A message agent → server. */
export type AgentMessage = z.input<typeof AgentMessageSchema>;

/** A resolved process for the agent (template defaults are applied on the agent, which holds the templates). */
export const AgentProcessSpecSchema = z.object({
  argv: z.array(z.string()).optional(),
  command: z.string().optional(),
  env: z.record(z.string(), z.string()),
  cwd: z.string().optional(),
  user: z.string().optional(),
});

/** Limits on the wire. */
const LimitsWire = z.object({
  cpu: z.number(),
  memoryMiB: z.number(),
  pids: z.number(),
  diskMiB: z.number(),
});

/** What the agent needs to start a run attempt. */
export const AgentRunSpecSchema = AgentProcessSpecSchema.extend({
  sandboxId: z.string(),
  template: z.string(),
  runtime: z.string(),
  limits: LimitsWire,
  timeoutMs: z.number(),
  /** base64. */
  stdin: z.string().optional(),
});
/** A run attempt's spec on the wire. */
export type AgentRunSpec = z.infer<typeof AgentRunSpecSchema>;

/** Operations the server asks of the agent in a `request`. */
export const AgentOperationSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('createSandbox'),
    sandboxId: z.string(),
    template: z.string(),
    runtime: z.string(),
    limits: LimitsWire,
    env: z.record(z.string(), z.string()),
    timeoutMs: z.number(),
  }),
  z.object({ op: z.literal('killSandbox'), sandboxId: z.string() }),
  z.object({ op: z.literal('pauseSandbox'), sandboxId: z.string() }),
  z.object({ op: z.literal('resumeSandbox'), sandboxId: z.string() }),
  z.object({ op: z.literal('setTimeout'), sandboxId: z.string(), timeoutAtMs: z.number() }),
  z.object({
    op: z.literal('exec'),
    sandboxId: z.string(),
    process: AgentProcessSpecSchema,
    timeoutMs: z.number(),
    stdin: z.string().optional(),
    interactive: z.boolean(),
  }),
  z.object({ op: z.literal('execStdin'), execId: z.string(), data: z.string() }),
  z.object({ op: z.literal('execCloseStdin'), execId: z.string() }),
  z.object({ op: z.literal('execKill'), execId: z.string(), signal: z.string() }),
  z.object({ op: z.literal('fileRead'), sandboxId: z.string(), path: z.string() }),
  z.object({
    op: z.literal('fileWrite'),
    sandboxId: z.string(),
    path: z.string(),
    data: z.string(),
    mode: z.number().optional(),
  }),
  z.object({ op: z.literal('fileList'), sandboxId: z.string(), path: z.string() }),
  z.object({
    op: z.literal('fileRemove'),
    sandboxId: z.string(),
    path: z.string(),
    recursive: z.boolean(),
  }),
  z.object({ op: z.literal('listTemplates') }),
  z.object({ op: z.literal('buildTemplate'), name: z.string() }),
]);
/** An operation the server asks of the agent. */
export type AgentOperation = z.infer<typeof AgentOperationSchema>;

/** Messages server → agent. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('reconcile'),
    heartbeatIntervalMs: z.number(),
    /** Sandboxes to keep (adopt); every other inventory item is destroyed by the agent. */
    keep: z.array(z.string()),
  }),
  z.object({
    type: z.literal('startRun'),
    runId: z.string(),
    epoch: z.number().int(),
    spec: AgentRunSpecSchema,
  }),
  z.object({ type: z.literal('cancelRun'), runId: z.string(), epoch: z.number().int() }),
  z.object({ type: z.literal('request'), requestId: z.string(), operation: AgentOperationSchema }),
]);
/** A message server → agent. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
