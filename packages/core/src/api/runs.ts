/** Schemas of `/v1/runs` (submit, list, get, cancel, logs, attempts). */
import { EgressSchema } from '../network.js';
import { NetworkPolicyNameSchema, oneEgressSource } from './network-policies.js';
import { z } from 'zod';
import {
  ArgvSchema,
  BooleanQuerySchema,
  CommandStringSchema,
  durationMsSchema,
  EnvSchema,
  EntrypointSchema,
  ImageRefSchema,
  runCommandRule,
  UserSchema,
  IdSchema,
  LimitQuerySchema,
  LimitsInputSchema,
  LimitsSchema,
  MAX_INLINE_STDIN,
  NodeSelectorSchema,
  pageOf,
  PrioritySchema,
  ResourceRequestsInputSchema,
  RuntimeNameSchema,
  TimestampSchema,
  RunPhasesSchema,
} from './common.js';
import { TemplateNameSchema } from './sandboxes.js';
import { RUN_END_REASONS, RUN_STATES } from '../states.js';
import { ResourceRequestsSchema } from '../workload/spec.js';
import { WORKLOAD_DEFAULTS } from '../workload/defaults.js';

/** Longest run timeout: 24 h. Default 10 min. */
export const MAX_RUN_TIMEOUT_MS = 86_400_000;

/** Run states. Terminal: succeeded, failed, cancelled, dead (dead-lettered after maxAttempts). */
export const RunStateSchema = z.enum(RUN_STATES, {
  error: `state must be one of ${RUN_STATES.join(', ')}`,
});
/** Run state. */
export type RunStateName = z.infer<typeof RunStateSchema>;

/** Why an attempt (and so maybe its run) ended. */
export const RunEndReasonSchema = z.enum(RUN_END_REASONS);

/** POST /v1/runs body. */
export const SubmitRunRequestSchema = z
  .strictObject({
    argv: ArgvSchema.optional(),
    /** Run with the template's shell (`sh -c`). */
    command: CommandStringSchema.optional(),
    // Defaults from WORKLOAD_DEFAULTS, the one place they live (compile applies the same ones).
    /** Default `busybox`; a tenant's own template (from an image or a Dockerfile) by its name. */
    template: TemplateNameSchema.default(WORKLOAD_DEFAULTS.template),
    /** Run from this image (pulled on first use) instead of a template; its ENTRYPOINT, CMD, ENV, WORKDIR and USER apply. */
    image: ImageRefSchema.optional(),
    /** Replaces the image's ENTRYPOINT and clears its CMD (Docker's --entrypoint); `[]` clears it. */
    entrypoint: EntrypointSchema.optional(),
    /** `name`, `uid`, `name:group` or `uid:gid`; default the template's user (an image's USER). */
    user: UserSchema.optional(),
    /** Default `container`. */
    runtime: RuntimeNameSchema.default(WORKLOAD_DEFAULTS.runtime),
    env: EnvSchema.optional(),
    cwd: z.string().max(4096).regex(/^\//, 'cwd must be an absolute path').optional(),
    limits: LimitsInputSchema.optional(),
    /** Reserved on the node for placement; default 0.125 cpu, 128 MiB. */
    requests: ResourceRequestsInputSchema.optional(),
    /** Within the tenant: critical, high, default (default), low. */
    priority: PrioritySchema.optional(),
    /** Labels the node must carry. */
    nodeSelector: NodeSelectorSchema.optional(),
    /** What the run may reach: `none` (default: loopback only), `all`, or an allow list (IPv4, CIDR, DNS name, each with an optional :port). */
    egress: EgressSchema.optional(),
    /** Instead of `egress`: the name of one of the tenant's network policies, whose egress it gets. */
    networkPolicy: NetworkPolicyNameSchema.optional(),
    /** Wall-clock limit of one attempt: 1 s..24 h, default 10 min. */
    timeoutMs: durationMsSchema('timeoutMs', 1000, MAX_RUN_TIMEOUT_MS).default(
      WORKLOAD_DEFAULTS.runTimeoutMs,
    ),
    /** Attempts before the run is dead-lettered: 1..20, default 3. */
    maxAttempts: z
      .number()
      .int('maxAttempts must be a whole number')
      .min(1, 'maxAttempts must be at least 1')
      .max(20, 'maxAttempts must be at most 20')
      .default(WORKLOAD_DEFAULTS.maxAttempts),
    /** UTF-8 text written to stdin, then closed (≤ 1 MiB). */
    stdin: z.string().max(MAX_INLINE_STDIN, 'stdin must be at most 1 MiB').optional(),
  })
  .superRefine(runCommandRule)
  .superRefine(oneEgressSource)
  .meta({ id: 'SubmitRunRequest' });
/** POST /v1/runs body as sent. */
export type SubmitRunRequest = z.input<typeof SubmitRunRequestSchema>;

/** POST /v1/runs query: `wait` = a duration (`30s`, `5m`) or `true` (up to 15 min) to answer once the run is final. */
export const SubmitRunQuerySchema = z.strictObject({
  wait: z
    .string()
    .max(32)
    .regex(
      /^(true|false|\d+(\.\d+)?|(\d+(\.\d+)?(ms|s|m|h))+)$/,
      'wait must be true, false or a duration like 30s or 5m',
    )
    .optional(),
});

/** POST /v1/runs headers: `Idempotency-Key` (1..256 chars) makes a retried submit return the same run. */
export const SubmitRunHeadersSchema = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1, 'Idempotency-Key must not be empty')
    .max(256, 'Idempotency-Key must be at most 256 characters')
    .optional(),
});

/** Longest `?wait=` honoured: 15 min (then the current Run is returned). */
export const MAX_RUN_WAIT_MS = 900_000;

/**
 * Why the server dropped some of a run's output instead of keeping it: `run-cap`, past the
 * server's per-run cap (8 MiB); `tenant-quota`, the tenant's `maxLogBytes` of kept output was
 * reached. The first chunk that did not fit and everything after it were dropped.
 */
export const LogsDroppedSchema = z.enum(['run-cap', 'tenant-quota']);
/** Why a run's output was dropped. */
export type LogsDropped = z.infer<typeof LogsDroppedSchema>;

/** A run. `stdout`/`stderr` are present only on a waited submit or GET with `?output=true`. */
export const RunSchema = z
  .object({
    id: IdSchema,
    state: RunStateSchema,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    exitCode: z.number().int().nullable(),
    reason: RunEndReasonSchema.nullable(),
    message: z.string().nullable(),
    /** Stdout is incomplete: cut by the workload's own output cap, or dropped by the server (`logsDropped`). */
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    /** Why the server dropped output of this run; null: every chunk it received was kept. */
    logsDropped: LogsDroppedSchema.nullable(),
    /** When the run's logs were deleted by the server's retention (`runLogRetentionMs` after it ended); null: kept. */
    logsExpiredAt: TimestampSchema.nullable(),
    createdAt: TimestampSchema,
    startedAt: TimestampSchema.nullable(),
    finishedAt: TimestampSchema.nullable(),
    durationMs: z.number().nullable(),
    /** When each phase of its latest attempt happened. */
    phases: RunPhasesSchema,
    // the spec, as resolved at submission
    argv: z.array(z.string()).optional(),
    command: z.string().optional(),
    template: z.string(),
    /** The image the run starts from (pinned by digest for a tenant's template), when not a built-in template. */
    image: z.string().optional(),
    entrypoint: z.array(z.string()).optional(),
    user: z.string().optional(),
    runtime: z.string(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()),
    limits: LimitsSchema,
    requests: ResourceRequestsSchema,
    priority: PrioritySchema,
    timeoutMs: z.number(),
    /** What the run may reach: `none`, `all` or an allow list. */
    egress: EgressSchema,
    stdout: z.string().optional(),
    stderr: z.string().optional(),
  })
  .meta({ id: 'Run' });
/** A run. */
export type Run = z.infer<typeof RunSchema>;

/** GET /v1/runs query. */
export const ListRunsQuerySchema = z.strictObject({
  state: RunStateSchema.optional(),
  limit: LimitQuerySchema,
  cursor: z.string().min(1).max(512).optional(),
});

/** GET /v1/runs response. */
export const RunPageSchema = pageOf(RunSchema).meta({ id: 'RunPage' });
/** GET /v1/runs response. */
export type RunPage = z.infer<typeof RunPageSchema>;

/** GET /v1/runs/:id query. */
export const GetRunQuerySchema = z.strictObject({ output: BooleanQuerySchema.optional() });

/** One chunk of a run's output (`seq` 1-based, increasing across attempts). */
export const RunLogEntrySchema = z
  .object({
    seq: z.number().int(),
    attempt: z.number().int(),
    stream: z.enum(['stdout', 'stderr']),
    /** UTF-8 text. */
    data: z.string(),
    timeMs: z.number(),
  })
  .meta({ id: 'RunLogEntry' });
/** One chunk of a run's output. */
export type RunLogEntry = z.infer<typeof RunLogEntrySchema>;

/** GET /v1/runs/:id/logs query. `since`: return chunks with seq > since. `follow`: stream (SSE) until final. */
export const RunLogsQuerySchema = z.strictObject({
  since: z.coerce
    .number({ error: 'since must be a whole number (a seq)' })
    .int()
    .min(0, 'since must be ≥ 0')
    .default(0),
  follow: BooleanQuerySchema.optional(),
  limit: z.coerce.number().int().min(1).max(5000, 'limit must be at most 5000').default(1000),
});

/** GET /v1/runs/:id/logs JSON response; pass `nextSince` as `since` to continue. */
export const RunLogsResponseSchema = z
  .object({ items: z.array(RunLogEntrySchema), nextSince: z.number().int() })
  .meta({ id: 'RunLogs' });
/** GET /v1/runs/:id/logs JSON response. */
export type RunLogsResponse = z.infer<typeof RunLogsResponseSchema>;

/** Payload of the SSE `end` event of a log stream: the run's final state. */
export const RunLogEndSchema = z.object({ state: RunStateSchema });

/** One execution of a run. */
export const RunAttemptSchema = z
  .object({
    attempt: z.number().int(),
    epoch: z.number().int(),
    nodeId: z.string(),
    leasedAt: TimestampSchema,
    startedAt: TimestampSchema.nullable(),
    endedAt: TimestampSchema.nullable(),
    exitCode: z.number().int().nullable(),
    reason: RunEndReasonSchema.nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'RunAttempt' });
/** One execution of a run. */
export type RunAttempt = z.infer<typeof RunAttemptSchema>;

/** GET /v1/runs/:id/attempts response. */
export const RunAttemptListSchema = z
  .object({ items: z.array(RunAttemptSchema) })
  .meta({ id: 'RunAttemptList' });
