/** Schemas of `/v1/sandboxes` (create, list, get, kill, timeout, pause/resume). */
import { z } from 'zod';
import {
  durationMsSchema,
  EnvSchema,
  IdSchema,
  ImageRefSchema,
  UserSchema,
  LimitQuerySchema,
  LimitsInputSchema,
  LimitsSchema,
  MetadataSchema,
  NodeSelectorSchema,
  pageOf,
  PrioritySchema,
  ResourceRequestsInputSchema,
  RuntimeNameSchema,
  TimestampSchema,
  SandboxPhasesSchema,
} from './common.js';
import { SANDBOX_STATES } from '../states.js';
import { WORKLOAD_DEFAULTS } from '../workload/defaults.js';
import { ResourceRequestsSchema } from '../workload/spec.js';
import { EgressSchema } from '../network.js';
import { NetworkPolicyNameSchema, oneEgressSource } from './network-policies.js';

/** Longest sandbox timeout accepted: 24 h. */
export const MAX_SANDBOX_TIMEOUT_MS = 86_400_000;
/** Sandbox timeout when none is given: 5 minutes (`WORKLOAD_DEFAULTS.sandboxTimeoutMs`). */
export const DEFAULT_SANDBOX_TIMEOUT_MS = WORKLOAD_DEFAULTS.sandboxTimeoutMs;
/** Longest a create waits for capacity: 5 min. */
export const MAX_SANDBOX_WAIT_MS = 300_000;

/** Sandbox states. Terminal: exited, killed, error. `lost`: its node vanished; it may come back. */
export const SandboxStateSchema = z.enum(SANDBOX_STATES, {
  error: `state must be one of ${SANDBOX_STATES.join(', ')}`,
});
/** Sandbox state. */
export type SandboxStateName = z.infer<typeof SandboxStateSchema>;

/** Template names: lowercase letters, digits, `.`, `_`, `-`, ≤ 64 chars. */
export const TemplateNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'template names use lowercase letters, digits, ".", "_" and "-"',
  );

/** POST /v1/sandboxes body. */
export const CreateSandboxRequestSchema = z
  .strictObject({
    // Defaults from WORKLOAD_DEFAULTS, the one place they live (compile applies the same ones).
    /** Default `busybox`. */
    template: TemplateNameSchema.default(WORKLOAD_DEFAULTS.template),
    /** Start from this image (pulled on first use) instead of a template: its ENV, WORKDIR and USER apply. */
    image: ImageRefSchema.optional(),
    /** The user commands run as unless an exec says otherwise; default the template's (an image's USER). */
    user: UserSchema.optional(),
    /** Default `container`. */
    runtime: RuntimeNameSchema.default(WORKLOAD_DEFAULTS.runtime),
    /** Killed this long after start unless extended; 1 s..24 h, default 5 min. */
    timeoutMs: durationMsSchema('timeoutMs', 1000, MAX_SANDBOX_TIMEOUT_MS).default(
      WORKLOAD_DEFAULTS.sandboxTimeoutMs,
    ),
    limits: LimitsInputSchema.optional(),
    /** Reserved on the node for placement; default 0.125 cpu, 128 MiB. */
    requests: ResourceRequestsInputSchema.optional(),
    /** Within the tenant: critical, high, default (default), low. */
    priority: PrioritySchema.optional(),
    /** Labels the node must carry. */
    nodeSelector: NodeSelectorSchema.optional(),
    /** How long to wait for capacity when every node is full, then 503 with Retry-After; 0..5 min, default 30 s. */
    waitMs: durationMsSchema('waitMs', 0, MAX_SANDBOX_WAIT_MS).optional(),
    env: EnvSchema.optional(),
    metadata: MetadataSchema.optional(),
    /** What the sandbox may reach: `none` (loopback only), `all` (default), or an allow list (IPv4, CIDR, DNS name, each with an optional :port). Changeable while it runs unless `none`. */
    egress: EgressSchema.optional(),
    /** Its ports are reachable through the proxy by anyone who has the URL, without a key or token. Default false. */
    public: z.boolean().optional(),
    /**
     * A named group of this tenant's sandboxes that may reach each other (sandboxes are otherwise
     * never reachable from one another); on one node. Needs a network (egress other than `none`).
     */
    networkGroup: TemplateNameSchema.optional(),
    /** Instead of `egress`: the name of one of the tenant's network policies, whose egress it gets. */
    networkPolicy: NetworkPolicyNameSchema.optional(),
    /**
     * A snapshot of the tenant's (`POST /v1/sandboxes/:id/snapshots`) to start from: its files as
     * they were; its template and runtime, on the node that holds it.
     */
    snapshot: IdSchema.optional(),
    /**
     * Hibernate it after this long without an exec, file call or proxied connection (1 s..24 h; microvm
     * runtime): its memory is saved and freed, and the next call wakes it where it was.
     */
    hibernateAfterMs: durationMsSchema('hibernateAfterMs', 1000, MAX_SANDBOX_TIMEOUT_MS).optional(),
  })
  .superRefine(oneEgressSource)
  .meta({ id: 'CreateSandboxRequest' });
/** POST /v1/sandboxes body (as sent). */
export type CreateSandboxRequest = z.input<typeof CreateSandboxRequestSchema>;

/** How a sandbox ended. */
export const SandboxExitSchema = z.object({
  exitCode: z.number().int().nullable(),
  reason: z.string(),
  message: z.string().nullable(),
});

/** A termination asked for with a delay (`POST /v1/sandboxes/:id/terminate`), until the sandbox ends. */
export const SandboxTerminationSchema = z
  .object({
    /** When it begins: SIGTERM to the workload, SIGKILL to its tree `graceMs` later. */
    at: TimestampSchema,
    graceMs: z.number().int(),
    reason: z.string().nullable(),
    requestedAt: TimestampSchema,
    /** Its files are kept as a snapshot just before it ends (the sandbox's `finalSnapshotId`). */
    snapshot: z.boolean(),
    /** It is being carried out: it can no longer be cancelled or replaced. */
    begun: z.boolean(),
  })
  .meta({ id: 'SandboxTermination' });
/** A pending termination. */
export type SandboxTermination = z.infer<typeof SandboxTerminationSchema>;

/** A sandbox. */
export const SandboxSchema = z
  .object({
    id: IdSchema,
    state: SandboxStateSchema,
    runtime: z.string(),
    template: z.string(),
    nodeId: z.string().nullable(),
    createdAt: TimestampSchema,
    startedAt: TimestampSchema.nullable(),
    /** When it will be killed if still alive; null: no timeout. */
    timeoutAt: TimestampSchema.nullable(),
    endedAt: TimestampSchema.nullable(),
    /** When each phase happened. */
    phases: SandboxPhasesSchema,
    /** Effective: the timeout it was created with (extensions move `timeoutAt`). */
    timeoutMs: z.number().int(),
    limits: LimitsSchema,
    requests: ResourceRequestsSchema,
    priority: PrioritySchema,
    env: z.record(z.string(), z.string()),
    metadata: z.record(z.string(), z.string()),
    /** What it may reach now: `none`, `all` or an allow list (changed with `PUT /v1/sandboxes/:id/egress`). */
    egress: EgressSchema,
    /** Its network group, if it is in one. */
    networkGroup: z.string().nullable(),
    /** A termination pending (until it begins, or is cancelled); null when none is. */
    termination: SandboxTerminationSchema.nullable(),
    /** When it was hibernated (its memory saved and freed; the next exec, file call or proxied connection wakes it); null: awake. */
    hibernatedAt: TimestampSchema.nullable(),
    /** Hibernated after this long idle, ms; null: only when asked (`POST /v1/sandboxes/:id/hibernate`). */
    hibernateAfterMs: z.number().int().nullable(),
    /** The snapshot of its files its termination kept (`POST /v1/sandboxes {snapshot}` resumes from it); null: none, or that snapshot was deleted. */
    finalSnapshotId: z.string().nullable(),
    /** Set once ended. */
    exit: SandboxExitSchema.nullable(),
  })
  .meta({ id: 'Sandbox' });
/** A sandbox. */
export type Sandbox = z.infer<typeof SandboxSchema>;

/** GET /v1/sandboxes query. */
export const ListSandboxesQuerySchema = z.strictObject({
  state: SandboxStateSchema.optional(),
  limit: LimitQuerySchema,
  cursor: z.string().min(1).max(512).optional(),
});

/** GET /v1/sandboxes response. */
export const SandboxPageSchema = pageOf(SandboxSchema).meta({ id: 'SandboxPage' });
/** GET /v1/sandboxes response. */
export type SandboxPage = z.infer<typeof SandboxPageSchema>;

/** POST /v1/sandboxes/:id/timeout body: the new timeout counted from now. */
export const SetSandboxTimeoutRequestSchema = z.strictObject({
  timeoutMs: durationMsSchema('timeoutMs', 1000, MAX_SANDBOX_TIMEOUT_MS),
});
/** POST /v1/sandboxes/:id/timeout body. */
export type SetSandboxTimeoutRequest = z.input<typeof SetSandboxTimeoutRequestSchema>;

/** Longest grace a termination may give, ms (10 min). */
export const MAX_TERMINATION_GRACE_MS = 600_000;

/**
 * POST /v1/sandboxes/:id/terminate body: end the sandbox `delayMs` from now (0: now) — SIGTERM to
 * its workload, SIGKILL to what is left `graceMs` later — with `reason` recorded in its exit.
 */
export const TerminateSandboxRequestSchema = z.strictObject({
  delayMs: durationMsSchema('delayMs', 0, MAX_SANDBOX_TIMEOUT_MS).default(0),
  graceMs: durationMsSchema('graceMs', 0, MAX_TERMINATION_GRACE_MS).default(10_000),
  reason: z.string().max(500, 'reason must be at most 500 characters').optional(),
  /**
   * Keep its files as a snapshot just before it ends (within the tenant's room for snapshots): the
   * ended sandbox's `finalSnapshotId`, from which `POST /v1/sandboxes {snapshot}` resumes. Default false.
   */
  snapshot: z.boolean().default(false),
});
/** POST /v1/sandboxes/:id/terminate body. */
export type TerminateSandboxRequest = z.input<typeof TerminateSandboxRequestSchema>;

/** `:id` of a sandbox. */
export const SandboxIdParamsSchema = z.strictObject({ id: IdSchema });
