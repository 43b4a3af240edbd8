/**
 * The store: all control-plane state behind one query layer, on SQLite (embedded) or PostgreSQL
 * (distributed). Design rules:
 *
 * - **The store is the source of truth.** Nothing lives only in memory: a server killed at any
 *   point and restarted finds every accepted run in the store, in a state the queue sweeper
 *   (`queue.requeueExpiredLeases`) moves forward. Every multi-row change is one transaction
 *   (SQLite `BEGIN IMMEDIATE`; PostgreSQL row locks, `FOR UPDATE SKIP LOCKED` where replicas race).
 * - **Tenant scoping.** Every method that takes a `tenantId` only sees that tenant's rows: another
 *   tenant's object is `NotFoundError`, exactly like a missing one.
 * - **Fencing.** Each lease of a run bumps its `epoch`. Agent reports (`confirmStart`,
 *   `extendLease`, `completeAttempt`, `failAttempt`, `appendLogs`) carry the epoch they were given
 *   and the node they come from; a report with a stale epoch, or from a node the lease is not on,
 *   changes nothing and returns `false` — a late result from a lost attempt, or another node's
 *   word about it, is never committed. Returning `false` is also how an agent learns to stop (run
 *   cancelled or re-leased). Sandbox reports are fenced by node the same way
 *   (`sandboxes.transitionOnNode`).
 * - **Nothing accepted is dropped.** A run leaves `queued` only by lease or cancel, and every lease
 *   ends in a result, a requeue with backoff, or `dead` with its reason after `maxAttempts`.
 * - **Idempotent where retried.** `submitRun` with an idempotency key, `nodes.register`,
 *   `handleNodeDown`, `requeueExpiredLeases`, `revoke` and `close` may be called again safely.
 * - **Time.** Every time is epoch milliseconds from the store's clock (`StoreOptions.clock`,
 *   default `Date.now`), so tests move time instead of sleeping.
 *
 * Errors: NotFoundError (missing or other tenant's), ConflictError (state or idempotency
 * conflict), QuotaExceededError (tenant over quota; `retryAfterMs`), InvalidArgumentError.
 */
import type {
  ApiKey,
  AuditEntry,
  BackoffPolicy,
  JsonObject,
  LogStream,
  Egress,
  NetworkPolicy,
  Node,
  NodeResources,
  NodeToken,
  NodeScheduling,
  NodeStatus,
  Page,
  PageOptions,
  Role,
  Run,
  RunAttempt,
  RunEndReason,
  RunLogChunk,
  RunState,
  RegistryCredential,
  RegistryLogin,
  Sandbox,
  SandboxTermination,
  SandboxExit,
  SandboxState,
  TemplateImageConfig,
  TenantTemplate,
  TenantTemplateSource,
  WorkloadSpec,
} from './types.js';
import type { Priority } from '@tartarus/core';
import type { RetentionStore } from './retention-store.js';
import type { OutageLogger } from './outage-log.js';
import type { UsageStore } from './usage.js';
import type { PoolIntervalStore } from './pool-intervals.js';
import type { SnapshotStore } from './snapshots.js';
import type { TenantStore } from './tenants.js';
import type { EventStore } from './events.js';
import type { SecretStore } from './secrets.js';
import type { LogSearchStore } from './log-search.js';
import type { WebhookStore } from './webhooks.js';
import type { WebhookQueue } from './webhook-queue.js';
import type { IntegrationStore } from './integrations.js';
import type { DeploymentStore } from './deployments.js';
import type { DeploymentEventStore } from './deployment-events.js';

/** Which database a store runs on. */
export type StoreBackend = 'sqlite' | 'postgres';

/** The whole store, namespaced by concern. */
export interface Store {
  readonly backend: StoreBackend;
  /** Tenants and their quotas (`tenants.ts`). */
  readonly tenants: TenantStore;
  readonly apiKeys: ApiKeyStore;
  /** Agent tokens, each bound to one node. */
  readonly nodeTokens: NodeTokenStore;
  readonly audit: AuditStore;
  readonly nodes: NodeStore;
  readonly sandboxes: SandboxStore;
  /** Runs as users see them: submit, read, list, cancel, logs. */
  readonly runs: RunStore;
  /** Runs as the scheduler and agents see them: lease, confirm, heartbeat, complete, fail. */
  readonly queue: RunQueue;
  /** Tenants' own templates (from images and Dockerfiles). */
  readonly templates: TemplateObjectStore;
  /** Tenants' registry credentials. */
  readonly registryCredentials: RegistryCredentialStore;
  /** Tenants' named network (egress) policies. */
  readonly networkPolicies: NetworkPolicyStore;
  /** Deleting run logs and audit entries past their retention (`retention-store.ts`). */
  readonly retention: RetentionStore;
  /** Usage metering: agents' reports per tenant and their sums (`usage.ts`). */
  readonly usage: UsageStore;
  /** Forecast-driven warm pools: each pool's creates per interval and its forecasts (`pool-intervals.ts`). */
  readonly poolIntervals: PoolIntervalStore;
  /** Tenants' snapshots of sandboxes (`snapshots.ts`; their files stay on their node). */
  readonly snapshots: SnapshotStore;
  /** The event bus's outbox (`events.ts`). */
  readonly events: EventStore;
  /** Tenants' secrets, sealed (`secrets.ts`; sealing is the server's `secrets/`). */
  readonly secrets: SecretStore;
  /** The log search over runs' output and sandboxes' lifecycle lines (`log-search.ts`). */
  readonly logs: LogSearchStore;
  /** Outbound webhook subscriptions and their delivery log, as the API sees them (`webhooks.ts`). */
  readonly webhooks: WebhookStore;
  /** Webhook deliveries as the dispatchers see them: claim, head, record (`webhook-queue.ts`). */
  readonly webhookQueue: WebhookQueue;
  /** Plugins' per-tenant configs and state, and the bus consumers' cursors (`integrations.ts`). */
  readonly integrations: IntegrationStore;
  /** Deployments, their desired state and the runs they started (`deployments.ts`). */
  readonly deployments: DeploymentStore;
  /** What deployments' events told: runs started and ended, `depends` conditions (`deployment-events.ts`). */
  readonly deploymentEvents: DeploymentEventStore;
  /** Closes the connection pool. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------- api keys

/** Input of `apiKeys.create`. */
export interface CreateApiKeyOptions {
  name: string;
  role: Role;
  /** Use this secret instead of generating one (bootstrap from config). At least 16 characters. */
  secret?: string;
}

/** A key just created: the only time the secret is available. */
export interface CreatedApiKey {
  key: ApiKey;
  /** `tt_` + 43 base64url characters. Show once; only its SHA-256 is stored. */
  secret: string;
}

/** API keys (only hashes are stored). */
export interface ApiKeyStore {
  /** NotFoundError if the tenant is missing. */
  create(tenantId: string, options: CreateApiKeyOptions): Promise<CreatedApiKey>;
  /** The key for a presented secret, or null if unknown or revoked. Records `lastUsedAt`. */
  verify(secret: string): Promise<ApiKey | null>;
  list(tenantId: string, options?: PageOptions): Promise<Page<ApiKey>>;
  /** Idempotent; NotFoundError if the key is not the tenant's. */
  revoke(tenantId: string, keyId: string): Promise<ApiKey>;
}

// ------------------------------------------------------------------------------------- node tokens

/** A node token just created: the only time the secret is available. */
export interface CreatedNodeToken {
  token: NodeToken;
  /** `tt_node_` + 43 base64url characters. Show once; only its SHA-256 is stored. */
  secret: string;
}

/**
 * Agent tokens bound to a node (created and revoked by an admin). An agent presenting one may only
 * say `hello` as that node; a node with an active token cannot be spoken for with a shared token.
 */
export interface NodeTokenStore {
  /** A new token for `nodeId` (1–128 characters). InvalidArgumentError for a bad node id. */
  create(nodeId: string): Promise<CreatedNodeToken>;
  /** The token a presented secret belongs to, or null if unknown or revoked. */
  verify(secret: string): Promise<{ id: string; nodeId: string } | null>;
  /** NotFoundError if missing. */
  get(id: string): Promise<NodeToken>;
  /** Every token, revoked ones too, newest first. */
  list(): Promise<NodeToken[]>;
  /** Idempotent; NotFoundError for an unknown id. */
  revoke(id: string): Promise<NodeToken>;
  /** Whether `nodeId` has at least one token not revoked. */
  hasActive(nodeId: string): Promise<boolean>;
}

// ------------------------------------------------------------------------------------------- audit

/** Input of `audit.append`. */
export interface AppendAuditOptions {
  tenantId: string;
  keyId?: string | null;
  action: string;
  target?: string | null;
  details?: JsonObject;
}

/** The audit log (append-only). Listed newest first. */
export interface AuditStore {
  append(entry: AppendAuditOptions): Promise<AuditEntry>;
  list(tenantId: string, options?: PageOptions & { action?: string }): Promise<Page<AuditEntry>>;
}

// ------------------------------------------------------------------------------------------- nodes

/** What an agent reports when it (re)connects. */
export interface RegisterNodeOptions {
  /** Stable id the agent keeps across restarts; default: the node with this name, else generated. */
  id?: string;
  name: string;
  runtimes: string[];
  capabilities?: JsonObject;
  labels?: Record<string, string>;
  capacity: NodeResources;
}

/** Node registry and liveness. */
export interface NodeStore {
  /** Upsert by id (or name): marks the node up with a fresh heartbeat. */
  register(options: RegisterNodeOptions): Promise<Node>;
  /** Records a heartbeat (and usage); marks the node up. False if the node is unknown. */
  heartbeat(nodeId: string, used?: NodeResources): Promise<boolean>;
  /** NotFoundError if missing. */
  get(nodeId: string): Promise<Node>;
  list(options?: { status?: NodeStatus }): Promise<Node[]>;
  /** Nodes `up` whose last heartbeat is older than `now - deadlineMs`; pass each to `queue.handleNodeDown`. */
  listStale(deadlineMs: number): Promise<Node[]>;
  /** Sets whether the node takes new work (cordon, drain, uncordon); NotFoundError if missing. */
  setScheduling(nodeId: string, scheduling: NodeScheduling): Promise<Node>;
  /** The ids of the nodes that take no new work (cordoned or draining). */
  unschedulable(): Promise<Map<string, NodeScheduling>>;
}

// --------------------------------------------------------------------------------------- sandboxes

/** Input of `sandboxes.create`. */
export interface CreateSandboxOptions {
  /** Default: generated `sbx_…`. */
  id?: string;
  nodeId?: string | null;
  runtime: string;
  template: string;
  /** The compiled spec. Default: `compileSandbox({ runtime, template })`. */
  spec?: WorkloadSpec;
  /** Absolute deadline, epoch ms; null: none. */
  timeoutAt?: number | null;
}

/** Sandboxes and their state machine. */
export interface SandboxStore {
  /** State `requested`. QuotaExceededError past the tenant's `maxConcurrentSandboxes`. */
  create(tenantId: string, options: CreateSandboxOptions): Promise<Sandbox>;
  get(tenantId: string, sandboxId: string): Promise<Sandbox>;
  /** A sandbox by id alone, whatever its tenant (the port proxy's access tokens and public sandboxes). NotFoundError when none. */
  find(sandboxId: string): Promise<Sandbox>;
  list(tenantId: string, options?: PageOptions & { state?: SandboxState }): Promise<Page<Sandbox>>;
  /** All sandboxes not ended on a node (for the agent's reconcile). */
  listByNode(nodeId: string): Promise<Sandbox[]>;
  /** Sandboxes not ended, by state and runtime (for /metrics). */
  countLive(): Promise<{ state: SandboxState; runtime: string; count: number }[]>;
  /** Live sandboxes whose `timeoutAt` has passed. */
  listExpired(): Promise<Sandbox[]>;
  /** Places a `requested`, unplaced sandbox on a node. ConflictError if no longer so. */
  assignNode(sandboxId: string, nodeId: string): Promise<Sandbox>;
  /**
   * Ends a sandbox that is still waiting for a node (`requested`, unplaced) in `error` with
   * `exit`. False when it was placed (or ended) meanwhile: the caller then has a sandbox after all.
   */
  withdraw(sandboxId: string, exit: SandboxExit): Promise<boolean>;
  /**
   * Moves a sandbox to `to`. Same state: no-op. ConflictError if the transition is not allowed
   * (e.g. out of a terminal state). Sets startedAt/endedAt and `exit` as they apply; on its
   * first start, a sandbox without a `timeoutAt` gets one `spec.timeoutMs` from now.
   */
  transition(sandboxId: string, to: SandboxState, exit?: SandboxExit): Promise<Sandbox>;
  /**
   * `transition` as a report of the sandbox's node: null, changing nothing, when the sandbox is
   * not placed on `nodeId` (or does not exist).
   */
  transitionOnNode(
    nodeId: string,
    sandboxId: string,
    to: SandboxState,
    exit?: SandboxExit,
    /** To `running`: when its template was ready on the node (a phase). */
    templateReadyAt?: number,
    /** To `running`: when it started, by the node's clock (default now). */
    startedAt?: number,
  ): Promise<Sandbox | null>;
  /** Records when a sandbox placed on `nodeId` was cleaned up (destroyed on its node). */
  recordCleanup(nodeId: string, sandboxId: string, at: number): Promise<void>;
  /**
   * Records a termination of a live sandbox to begin at `t.at`, replacing one pending.
   * ConflictError for a sandbox that has ended or whose termination has begun.
   */
  setTermination(tenantId: string, sandboxId: string, t: Omit<SandboxTermination, 'begun'>): Promise<Sandbox>;
  /** Cancels the pending termination: `none` when there is none, `begun` when it can no longer be (the sandbox as it is). */
  cancelTermination(tenantId: string, sandboxId: string): Promise<{ outcome: 'cancelled' | 'none' | 'begun'; sandbox: Sandbox }>;
  /** Live sandboxes whose termination is due (or whose carrier's lease ran out). */
  listTerminationsDue(): Promise<Sandbox[]>;
  /**
   * Takes a due termination (due at `dueAt`) for carrying out until `leaseUntil`: true for the one
   * caller that took it (replicas race for it); past the lease it is due again.
   */
  claimTermination(sandboxId: string, dueAt: number, leaseUntil: number): Promise<boolean>;
  /** Records that the sandbox on `nodeId` was hibernated at `at` (null: woken). No-op once it has ended or moved. */
  setHibernated(nodeId: string, sandboxId: string, at: number | null): Promise<void>;
  /** Records the snapshot a sandbox's termination kept of its files; a no-op once that snapshot is deleted. */
  setFinalSnapshot(sandboxId: string, snapshotId: string): Promise<void>;
  /** Extends or clears the timeout of a live sandbox. */
  setTimeout(tenantId: string, sandboxId: string, timeoutAt: number | null): Promise<Sandbox>;
  /** Records a sandbox's new egress in its spec (after its node applied it). NotFoundError if missing. */
  setEgress(tenantId: string, sandboxId: string, egress: Egress): Promise<Sandbox>;
}

// -------------------------------------------------------------------------------------------- runs

/** Options of `runs.submit`. */
export interface SubmitRunOptions {
  /** Same key + same body → the existing run; same key + other body → ConflictError. */
  idempotencyKey?: string;
  /** Default: the spec's. */
  maxAttempts?: number;
  /** Default { initialMs: 1000, maxMs: 60000 }. */
  backoff?: Partial<BackoffPolicy>;
}

/** Result of `runs.submit`. */
export interface SubmittedRun {
  run: Run;
  /** False when an earlier submission with the same idempotency key was returned. */
  created: boolean;
}

/** Options of `runs.readLogs`. */
export interface ReadLogsOptions {
  /** Only chunks with seq > sinceSeq (follow: pass the last seq seen). */
  sinceSeq?: number;
  /** Only chunks with at >= sinceTime (epoch ms). */
  sinceTime?: number;
  /** Default 500, at most 5000. */
  limit?: number;
}

/** One chunk for `runs.appendLogs`. */
export interface LogChunkInput {
  stream: LogStream;
  data: string;
  /** Default: now. */
  at?: number;
}

/** The user-facing side of runs. */
export interface RunStore {
  /** Queues a run. NotFoundError (tenant), ConflictError (key reuse), QuotaExceededError (queue full). */
  submit(tenantId: string, spec: WorkloadSpec, options?: SubmitRunOptions): Promise<SubmittedRun>;
  get(tenantId: string, runId: string): Promise<Run>;
  /** Newest first. */
  list(tenantId: string, options?: PageOptions & { state?: RunState }): Promise<Page<Run>>;
  attempts(tenantId: string, runId: string): Promise<RunAttempt[]>;
  /** Cancels a run not final (a leased/running agent learns it from a `false` report). Final: returned unchanged. */
  cancel(tenantId: string, runId: string): Promise<Run>;
  /**
   * Appends output of the current attempt (fenced by `epoch` and the attempt's node). Past the
   * per-run cap (`StoreOptions.logCapBytes`) or the tenant's `maxLogBytes` the chunk and every
   * later one are dropped and recorded in `logsDropped` (never an error); the tenant's `logBytes`
   * moves in the same transaction. Returns false if the epoch is stale, its attempt is not on
   * `nodeId`, or the run's logs expired.
   */
  appendLogs(
    runId: string,
    epoch: number,
    nodeId: string,
    chunks: LogChunkInput[],
  ): Promise<boolean>;
  /** Chunks in seq order; none once the run's logs expired (`logsExpiredAt`). */
  readLogs(tenantId: string, runId: string, options?: ReadLogsOptions): Promise<RunLogChunk[]>;
}

// ------------------------------------------------------------------------------------------- queue

/** A granted lease: run it, then report with this epoch. */
export interface RunLease {
  run: Run;
  epoch: number;
  attempt: number;
  /** Confirm the start before this time (epoch ms). */
  leaseExpiresAt: number;
}

/** Options of `queue.leaseRuns`. */
export interface LeaseRunsOptions {
  /** Most runs to lease. */
  max: number;
  /** Time to confirm the start, milliseconds. */
  leaseMs: number;
  /** Only runs whose spec.runtime is one of these (or unset). Default: any. */
  runtimes?: string[];
}

/** What the agent reports when an attempt ends on its own (a non-zero exit is data, not a failure). */
export interface AttemptResult {
  exitCode: number | null;
  /** Default 'exit'. */
  reason?: RunEndReason;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  message?: string | null;
}

/** Where a run went after a failed or expired attempt. */
export type RequeueOutcome = 'requeued' | 'dead';

/** One run moved by the sweeper or a node loss. */
export interface RequeuedRun {
  runId: string;
  epoch: number;
  outcome: RequeueOutcome;
  reason: RunEndReason;
}

/** The queue: lease (with visibility timeout), fencing by epoch, retry with backoff, dead letter. */
export interface RunQueue {
  /** Leases up to `max` eligible queued runs (oldest first) to a node. Never gives one run to two callers. */
  leaseRuns(nodeId: string, options: LeaseRunsOptions): Promise<RunLease[]>;
  /** Leases this run (chosen by the scheduler) if it is still queued and eligible; else null. */
  leaseRun(runId: string, nodeId: string, leaseMs: number): Promise<RunLease | null>;
  /** leased → running; the lease becomes the heartbeat deadline (`now + leaseMs`). False if stale. `templateReadyAt`, `startedAt`: the node's times (default now). */
  confirmStart(runId: string, epoch: number, nodeId: string, leaseMs: number, templateReadyAt?: number, startedAt?: number): Promise<boolean>;
  /** Records when attempt `epoch`'s sandbox was cleaned up; false when it is not the latest attempt. */
  recordCleanup(runId: string, epoch: number, at: number): Promise<boolean>;
  /** Pushes the lease deadline to now + leaseMs. False if stale or cancelled: stop the attempt. */
  extendLease(runId: string, epoch: number, nodeId: string, leaseMs: number): Promise<boolean>;
  /** Commits the attempt's result: exit 0 → succeeded, else failed (final). False if stale. */
  completeAttempt(
    runId: string,
    epoch: number,
    nodeId: string,
    result: AttemptResult,
  ): Promise<boolean>;
  /**
   * Ends the attempt as failed: requeued after backoff if `retryable` and attempts remain, else
   * `dead` with the reason. Null if stale.
   */
  failAttempt(
    runId: string,
    epoch: number,
    nodeId: string,
    failure: { reason: RunEndReason; message?: string | null; retryable: boolean },
  ): Promise<RequeueOutcome | null>;
  /** Visibility timeout: every leased/running run past its lease deadline fails (retryable). */
  requeueExpiredLeases(): Promise<RequeuedRun[]>;
  /** Marks the node down, fails its runs (`node_lost`, retryable) and marks its live sandboxes lost. */
  handleNodeDown(nodeId: string): Promise<{ runs: RequeuedRun[]; lostSandboxes: string[] }>;
  /** Count of queued runs eligible now (for /metrics). */
  countReady(): Promise<number>;
  /** Queued runs by tenant and priority, eligible now or waiting out a backoff (for /metrics). */
  depth(): Promise<{ tenantId: string; priority: Priority; count: number }[]>;
  /**
   * Work waiting for a node: queued runs eligible now and unplaced `requested` sandboxes, at most
   * `perTenant` of each kind per tenant, each tenant's first in queue order (priority, then age).
   */
  listPending(perTenant: number): Promise<PendingItem[]>;
  /** Any tenant's run (for the scheduler and agent reports). NotFoundError if missing. */
  get(runId: string): Promise<Run>;
}

/** One item of pending work. */
export interface PendingItem {
  kind: 'run' | 'sandbox';
  id: string;
  tenantId: string;
  createdAt: number;
  spec: WorkloadSpec;
}

// --------------------------------------------------------------------------------------- templates

/** Input of `templates.create`. */
export interface CreateTemplateOptions {
  name: string;
  source: TenantTemplateSource;
  /** The reference to pull, or the tag to build under. */
  image: string;
  /** Dockerfile path inside `context` (`dockerfile` only). */
  dockerfile?: string | null;
  /** The build context, a tar archive (`dockerfile` only); at most `MAX_TEMPLATE_CONTEXT_BYTES`. */
  context?: Buffer | null;
}

/** What a finished pull or build recorded. */
export interface TemplateBuildResult {
  digest: string;
  sizeBytes: number;
  config: TemplateImageConfig;
}

/**
 * A tenant's own templates, by (tenant, name). A create claims the name in state `pending`; the
 * caller then records the pull or build with `markReady` or `markFailed`, or removes the claim.
 */
export interface TemplateObjectStore {
  /** A `pending` template. ConflictError if the tenant has one by that name (whatever its state). */
  create(tenantId: string, options: CreateTemplateOptions): Promise<TenantTemplate>;
  /** NotFoundError if the tenant has none by that name. */
  get(tenantId: string, name: string): Promise<TenantTemplate>;
  /** The template, or null (for lookups where absence is not an error). */
  find(tenantId: string, name: string): Promise<TenantTemplate | null>;
  /** Every template of the tenant, by name. */
  list(tenantId: string): Promise<TenantTemplate[]>;
  /** The stored build context (null for an image template). NotFoundError if missing. */
  context(tenantId: string, name: string): Promise<Buffer | null>;
  /** Records a good pull or build: `ready`, with its digest, size and config. NotFoundError if deleted meanwhile. */
  markReady(tenantId: string, name: string, result: TemplateBuildResult): Promise<TenantTemplate>;
  /** A `failed` template back to `pending` for a new attempt; any other is returned unchanged (a ready one stays usable meanwhile). */
  markPending(tenantId: string, name: string): Promise<TenantTemplate>;
  /** Records a failed attempt: `failed` with `error`. NotFoundError if deleted meanwhile. */
  markFailed(tenantId: string, name: string, error: string): Promise<TenantTemplate>;
  /** Removes it. NotFoundError if missing. */
  delete(tenantId: string, name: string): Promise<TenantTemplate>;
}

// ----------------------------------------------------------------------------- registry credentials

/**
 * Tenants' registry credentials, by (tenant, registry). The password only leaves the store
 * through `login`/`logins`, for a pull; listings never carry it.
 */
export interface RegistryCredentialStore {
  /** Creates or replaces the tenant's login for `registry` (normalised with `registryKey`). */
  put(tenantId: string, registry: string, login: RegistryLogin): Promise<RegistryCredential>;
  /** The tenant's registries, by name, without passwords. */
  list(tenantId: string): Promise<RegistryCredential[]>;
  /** The login for `registry`, or null when the tenant stored none. */
  login(tenantId: string, registry: string): Promise<RegistryLogin | null>;
  /** Every login of the tenant, by registry (for a Dockerfile build, whose FROM lines may name any). */
  logins(tenantId: string): Promise<Record<string, RegistryLogin>>;
  /** Removes the login. NotFoundError if missing. */
  delete(tenantId: string, registry: string): Promise<void>;
}

// -------------------------------------------------------------------------------- network policies

/** Input of `networkPolicies.create`. */
export interface CreateNetworkPolicyOptions {
  name: string;
  egress: Egress;
  /** Default empty. */
  description?: string;
}

/** Tenants' named egress policies, by (tenant, name). */
export interface NetworkPolicyStore {
  /** ConflictError if the tenant has one by that name; NotFoundError if the tenant is missing. */
  create(tenantId: string, options: CreateNetworkPolicyOptions): Promise<NetworkPolicy>;
  /** NotFoundError if the tenant has none by that name. */
  get(tenantId: string, name: string): Promise<NetworkPolicy>;
  /** Every policy of the tenant, by name. */
  list(tenantId: string): Promise<NetworkPolicy[]>;
  /** Removes it (work already compiled keeps its egress). NotFoundError if missing. */
  delete(tenantId: string, name: string): Promise<NetworkPolicy>;
}

/** How to open a store. */
export type StoreOptions = {
  /** Clock, epoch ms. Default Date.now. */
  clock?: () => number;
  /** Log bytes kept per run. Default 8 MiB. */
  logCapBytes?: number;
  /** Retry-After given to a tenant over its queue quota, ms. Default 5000. */
  quotaRetryAfterMs?: number;
} & (
  | { backend: 'sqlite'; /** File path, or ':memory:'. */ path: string }
  | {
      backend: 'postgres';
      /** postgres:// URL. */ connectionString: string;
      /** Pool size. Default 10. */ poolMax?: number;
      /** Where a broken connection is logged (once per outage: `outage-log.ts`). Default: nowhere. */
      log?: OutageLogger;
    }
);
