/**
 * The agent protocol: JSON messages with a `type` discriminator over the WebSocket an agent opens
 * to `GET /v1/agent/connect`. The same protocol serves the in-process agent of embedded mode and a
 * remote agent, so distributed mode reuses it unchanged. Both ends validate with these schemas.
 *
 * Rules
 * - The agent sends `hello` first, on every (re)connect, with its full inventory; the server answers
 *   `reconcile` (level-triggered: what to keep, what to destroy) before anything else.
 - Every kind of work (a run, a sandbox) arrives as one `start` with its compiled
 *   `WorkloadSpec`, unchanged from what the store keeps; the spec's lifecycle says whether its
 *   main process's exit ends it (`once`) or it lives until killed or timed out (`until-timeout`).
 *   The agent answers `started`, then `output`s, then `finished` — or `failed` if it could not
 *   start. `workId` is the run's or the sandbox's id; its prefix says which.
 * - Reports are fenced by `epoch` (a run's lease; 0 for a sandbox): the server ignores a report
 *   whose epoch is not the current one and answers it with `stop`.
 * - Everything else the server asks (kill, exec, files, templates) is a typed `request` of one of
 *   `AGENT_CALLS` (`agent-calls.ts`); the agent answers with exactly one `reply` and, for
 *   streaming calls, any number of `event`s before it. Both ends validate both directions.
 * - Output is UTF-8 text (decoded on the agent with a streaming decoder, so a character split
 *   across chunks survives); file contents and stdin are base64.
 */
import { z } from 'zod';
import { NodeResourcesSchema } from './admin.js';
import { WorkloadSpecSchema } from '../workload/spec.js';
import { AgentCallRequestSchema, AgentProcessResultSchema } from './agent-calls.js';

/** Protocol version; a server refuses a `hello` with another major. */
export const AGENT_PROTOCOL_VERSION = 4;

const Stream = z.enum(['stdout', 'stderr']);


/** One sandbox the agent holds, as reported in `hello`. */
export const InventoryItemSchema = z.object({
  sandboxId: z.string(),
  /** Set while the agent supervises it: the work (run or sandbox id) and its epoch. */
  workId: z.string().optional(),
  epoch: z.number().int().optional(),
  state: z.enum(['created', 'running', 'paused', 'exited', 'destroyed']),
});
/** One sandbox in an agent's inventory. */
export type InventoryItem = z.infer<typeof InventoryItemSchema>;

/** Work a heartbeat says is still in progress: `{workId, epoch}`. */
const WorkRefSchema = z.object({ workId: z.string(), epoch: z.number().int() });

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
    /** Work in progress whose lease the heartbeat extends. */
    work: z.array(WorkRefSchema).default([]),
  }),
  z.object({
    type: z.literal('started'),
    workId: z.string(),
    epoch: z.number().int(),
    sandboxId: z.string(),
    /** When the work's template was ready on the node (pulled, built or found), a phase. */
    templateReadyAtMs: z.number().int().nonnegative().optional(),
    /** When its main process started, by the node's clock (the same clock as its output's times). */
    startedAtMs: z.number().int().nonnegative().optional(),
  }),
  /**
   * What a piece of work consumed since its previous `usage` report (the agent's cgroup and
   * network counters): sent every `usageReportMs` while it runs and once more (`final`) as its
   * sandbox ends. `seq` counts the work's reports from 1, so a report sent twice is stored once.
   */
  z.object({
    type: z.literal('usage'),
    workId: z.string(),
    epoch: z.number().int(),
    seq: z.number().int().positive(),
    runtime: z.string(),
    atMs: z.number().int().nonnegative(),
    cpuSeconds: z.number().nonnegative(),
    memoryGibSeconds: z.number().nonnegative(),
    sandboxSeconds: z.number().nonnegative(),
    egressBytes: z.number().int().nonnegative(),
    final: z.boolean(),
  }),
  /** The work's sandbox was hibernated (its memory saved and freed) or woken, at `atMs`. */
  z.object({
    type: z.literal('hibernation'),
    workId: z.string(),
    epoch: z.number().int(),
    hibernated: z.boolean(),
    atMs: z.number().int().nonnegative(),
  }),
  /** The work's sandbox was destroyed on the node (after `finished` or `failed`), a phase. */
  z.object({
    type: z.literal('cleaned'),
    workId: z.string(),
    epoch: z.number().int(),
    atMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('output'),
    workId: z.string(),
    epoch: z.number().int(),
    stream: Stream,
    data: z.string(),
    timeMs: z.number(),
    seq: z.number().int(),
  }),
  /** The main process ended (its own exit, the timeout, an OOM, or a kill the agent was asked for). */
  z.object({
    type: z.literal('finished'),
    workId: z.string(),
    epoch: z.number().int(),
    result: AgentProcessResultSchema,
  }),
  /** The work could not start (sandbox creation failed, driver error): the server retries it by policy. */
  z.object({
    type: z.literal('failed'),
    workId: z.string(),
    epoch: z.number().int(),
    reason: z.enum(['start_failed', 'error']),
    /** The `ErrorCode` of the failure, so the caller waiting for the work gets the same error. */
    code: z.string().default('internal'),
    message: z.string(),
    retryable: z.boolean(),
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

/** Messages server → agent. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('reconcile'),
    heartbeatIntervalMs: z.number(),
    /** Largest message the server accepts from the agent: a larger reply is sent as an error instead. */
    maxMessageBytes: z.number().int().positive().optional(),
    /** Sandboxes to keep (adopt); every other inventory item is destroyed by the agent. */
    keep: z.array(z.string()),
  }),
  /** Start work placed on this node. */
  z.object({
    type: z.literal('start'),
    workId: z.string(),
    epoch: z.number().int(),
    sandboxId: z.string(),
    spec: WorkloadSpecSchema,
    /** The tenant's credentials for the registry of `spec.image`, when it stored some (never kept by the agent). */
    registryAuth: z.object({ username: z.string(), password: z.string() }).optional(),
  }),
  /** Stop work (cancelled, killed, or its epoch is no longer current). */
  z.object({ type: z.literal('stop'), workId: z.string(), epoch: z.number().int() }),
  z.object({ type: z.literal('request'), requestId: z.string(), call: AgentCallRequestSchema }),
]);
/** A message server → agent. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
