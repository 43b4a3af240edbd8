import type {
  Egress,
  LogsDropped,
  NodeStatus,
  Role,
  RunEndReason,
  RunState,
  SandboxState,
  TenantLimitsPolicy,
  WorkloadSpec,
} from '@tartarus/core';

export type { Egress, LogsDropped, NodeStatus, Role, RunEndReason, RunState, SandboxState, WorkloadSpec };

/**
 * Records the store hands out. Every time is an integer of epoch milliseconds (portable across
 * SQLite and PostgreSQL); every JSON value is a plain object already parsed. Ids are opaque strings
 * with a kind prefix (`run_…`, `sbx_…`), sortable by creation time.
 */

/** A JSON value as stored in a `*_json` text column. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** One page of a listing; pass `nextCursor` back as `cursor` to get the next page (null: last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Options shared by every listing. */
export interface PageOptions {
  /** Page size. Default 50, at most 500. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

// ---------------------------------------------------------------------------------- tenants, keys

/** A tenant: the unit of isolation and quota. */
export interface Tenant {
  id: string;
  name: string;
  /** Most runs in state `queued` at once; a submission past it gets QuotaExceededError (HTTP 429). */
  maxQueuedRuns: number;
  /** Most sandboxes not yet ended (requested, running, paused) at once. */
  maxConcurrentSandboxes: number;
  /** Fair-share weight relative to other tenants (default 1). */
  weight: number;
  /** Most work (runs and sandboxes) placed at once; null: no cap. */
  maxRunning: number | null;
  /** The most one run or sandbox may ask for; null: only the API's bounds. */
  maxLimits: TenantLimitsPolicy | null;
  /** Bytes of run output the tenant may keep; past it, further output of its runs is dropped. */
  maxLogBytes: number;
  /** Bytes of run output the tenant keeps now (freed when its runs' logs expire). */
  logBytes: number;
  /** Bytes of snapshots the tenant may keep; null: the server's `maxSnapshotBytes`. */
  maxSnapshotBytes: number | null;
  /** Egress of a sandbox that asks for none; null: the platform's (within `maxEgress`). */
  defaultSandboxEgress: Egress | null;
  /** Egress of a run that asks for none; null: the platform's. */
  defaultRunEgress: Egress | null;
  /** The most any of the tenant's work may reach; null: no maximum. */
  maxEgress: Egress | null;
  createdAt: number;
}


/** An API key as stored: the secret itself is never stored, only its SHA-256. */
export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  /** First characters of the secret, for display (`tt_ab12cd34`). */
  prefix: string;
  createdAt: number;
  /** Last successful `verify`, updated at most once a minute. Null: never used. */
  lastUsedAt: number | null;
  /** When revoked; null while valid. */
  revokedAt: number | null;
}

/** An agent token bound to one node (never its secret). */
export interface NodeToken {
  /** `ntk_…`. */
  id: string;
  /** The only node id an agent holding this token may say `hello` as. */
  nodeId: string;
  createdAt: number;
  /** When revoked; null while valid. */
  revokedAt: number | null;
}

/** One audit-log entry: who (tenant, key) did what (action) to what (target). */
export interface AuditEntry {
  id: string;
  tenantId: string;
  /** Null for actions not taken with a key (bootstrap, the scheduler). */
  keyId: string | null;
  /** Dotted verb, e.g. `run.submit`, `key.revoke`. */
  action: string;
  /** Id of the object acted on, if any. */
  target: string | null;
  at: number;
  details: JsonObject;
}

// ------------------------------------------------------------------------------------------ nodes


/** Resources of a node; `used` has the same shape. */
export interface NodeResources {
  /** CPUs (fractions allowed). */
  cpu: number;
  memoryMiB: number;
  /** Disk for writable layers, MiB; absent when the node does not report it. */
  diskMiB?: number;
  /** Sandboxes at once. */
  slots: number;
}

/** A node running an agent. */
export interface Node {
  id: string;
  name: string;
  /** Runtime drivers the agent can run (`container`, `gvisor`, `microvm`). */
  runtimes: string[];
  /** Free-form capabilities reported by the agent (e.g. `{"kvm": true}`). */
  capabilities: JsonObject;
  labels: Record<string, string>;
  capacity: NodeResources;
  used: NodeResources;
  status: NodeStatus;
  /** Whether new work is placed on it: `active`; `cordoned` (none, what runs goes on); `draining` (cordoned, and deployments move their replicas off). */
  scheduling: NodeScheduling;
  lastHeartbeatAt: number;
  createdAt: number;
}

/** Whether a node takes new work. */
export type NodeScheduling = 'active' | 'cordoned' | 'draining';

// ------------------------------------------------------------------------------------- sandboxes


/** How a sandbox ended. */
export interface SandboxExit {
  exitCode: number | null;
  /** Why it ended (`exit`, `timeout`, `oom`, `killed`, …). */
  reason: string;
  message: string | null;
}

/** A sandbox (interactive, or the one a run attempt executes in). */
export interface Sandbox {
  id: string;
  tenantId: string;
  /** Null until placed. */
  nodeId: string | null;
  runtime: string;
  template: string;
  state: SandboxState;
  spec: WorkloadSpec;
  /** When it is killed if still alive; null: no timeout. */
  timeoutAt: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  exit: SandboxExit | null;
  /** When each phase happened. */
  phases: SandboxPhases;
  /** A termination asked for with a delay, until the sandbox ends or it is cancelled. */
  termination: SandboxTermination | null;
  /** When the termination is due (its time, or the end of its carrier's lease); null without one. */
  terminateDueAt: number | null;
  /** When its node hibernated it; null while awake. */
  hibernatedAt: number | null;
  /** The snapshot its termination kept of its files; null: none, or that snapshot was deleted. */
  finalSnapshotId: string | null;
}

/** A termination asked for with a delay. */
export interface SandboxTermination {
  /** When it begins (or began), epoch ms. */
  at: number;
  graceMs: number;
  reason: string | null;
  requestedAt: number;
  /** Keep its files as a snapshot just before it ends (absent: no). */
  snapshot?: boolean;
  /** A server replica is carrying it out (it can no longer be cancelled). */
  begun: boolean;
}

// ------------------------------------------------------------------------------------------ runs

/** Retry delay policy: attempt n (1-based) that failed waits min(maxMs, initialMs · 2^(n-1)). */
export interface BackoffPolicy {
  /** Default 1000 ms. */
  initialMs: number;
  /** Default 60000 ms. */
  maxMs: number;
}

/** The outcome of a run, once final. */
export interface RunResult {
  exitCode: number | null;
  reason: RunEndReason;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  message: string | null;
}

/** A queued job. */
export interface Run {
  id: string;
  tenantId: string;
  idempotencyKey: string | null;
  spec: WorkloadSpec;
  state: RunState;
  /** Attempts started so far (leases granted). */
  attempts: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Not leased before this time (backoff after a failure). */
  nextEligibleAt: number;
  /** Node holding the current lease; null when not leased. */
  leaseNodeId: string | null;
  /** Lease deadline: confirm (leased) or heartbeat (running) before it. */
  leaseExpiresAt: number | null;
  /** Fencing token: bumped on every lease; only the holder of the current epoch may report. */
  epoch: number;
  /** Set when the run reaches a final state (and for the last failure while it waits to retry). */
  result: RunResult | null;
  /** Output the store dropped instead of keeping; null: every chunk it was given was kept. */
  logsDropped: DroppedLogs | null;
  /** When retention deleted the run's logs; null while they are kept. */
  logsExpiredAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** First confirmed start. */
  startedAt: number | null;
  endedAt: number | null;
  /** When each phase of its latest attempt happened. */
  phases: RunPhases;
}

/**
 * When each phase of a run's latest attempt happened (epoch ms; null until it has). `queuedAt`
 * is the submission, `placedAt` the lease to a node, `templateReadyAt` and `firstOutputAt` the
 * node's clock, the others the server's.
 */
export interface RunPhases {
  queuedAt: number;
  placedAt: number | null;
  templateReadyAt: number | null;
  startedAt: number | null;
  firstOutputAt: number | null;
  exitedAt: number | null;
  cleanedUpAt: number | null;
}

/** When each phase of a sandbox happened (epoch ms; null until it has; `templateReadyAt` the node's clock). */
export interface SandboxPhases {
  requestedAt: number;
  placedAt: number | null;
  templateReadyAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  cleanedUpAt: number | null;
}

/** Output of a run the store dropped: the first chunk that did not fit and every later one. */
export interface DroppedLogs {
  /** `run-cap`: past `StoreOptions.logCapBytes`; `tenant-quota`: the tenant's `maxLogBytes` was reached. */
  reason: LogsDropped;
  /** Whether chunks of each stream were dropped. */
  stdout: boolean;
  stderr: boolean;
}

/** One execution of a run. */
export interface RunAttempt {
  runId: string;
  /** 1-based. */
  attempt: number;
  epoch: number;
  nodeId: string;
  leasedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  reason: RunEndReason | null;
  message: string | null;
}

/** Output stream of a log chunk. */
export type LogStream = 'stdout' | 'stderr';

/** A chunk of a run's output. `seq` is 1-based, increasing per run across attempts. */
export interface RunLogChunk {
  runId: string;
  attempt: number;
  seq: number;
  stream: LogStream;
  at: number;
  data: string;
}

// ------------------------------------------------------------------------------------ templates

/** Where a tenant's template comes from. */
export type TenantTemplateSource = 'image' | 'dockerfile';
/** `pending` while pulled or built; `ready` to use; `failed` when no build is there to use. */
export type TenantTemplateStatus = 'pending' | 'ready' | 'failed';

/** An image's own settings, as recorded when it became ready. */
export interface TemplateImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workdir: string;
  user: string;
  exposedPorts: string[];
}

/** A tenant's own template (without its build context, which `templates.context` reads). */
export interface TenantTemplate {
  tenantId: string;
  name: string;
  source: TenantTemplateSource;
  /** The reference given, or the tag a Dockerfile build is stored under. */
  image: string;
  /** Manifest digest (`sha256:…`) of the last good pull or build; null before the first. */
  digest: string | null;
  sizeBytes: number | null;
  config: TemplateImageConfig | null;
  /** Dockerfile path inside the build context (`dockerfile` only). */
  dockerfile: string | null;
  status: TenantTemplateStatus;
  /** Why the last attempt failed (`failed` only). */
  error: string | null;
  createdAt: number;
  /** When the last good pull or build finished. */
  builtAt: number | null;
}

/** A tenant's login to one registry, as listed: never the password. */
export interface RegistryCredential {
  tenantId: string;
  /** `host[:port]`, normalised (`docker.io` for Docker Hub). */
  registry: string;
  username: string;
  createdAt: number;
  updatedAt: number;
}

/** What a pull needs to log in. */
export interface RegistryLogin {
  username: string;
  password: string;
}

// -------------------------------------------------------------------------------- network policies

/** A tenant's named egress policy, attached to sandboxes and runs by name. */
export interface NetworkPolicy {
  tenantId: string;
  name: string;
  egress: Egress;
  description: string;
  createdAt: number;
}
