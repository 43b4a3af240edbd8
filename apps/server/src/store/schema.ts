/**
 * Table shapes as Kysely sees them. Columns are portable across SQLite and PostgreSQL: times are
 * epoch-ms integers (`bigint`), booleans are 0/1 integers (better-sqlite3 cannot bind `boolean`),
 * JSON is text in `*_json` columns. `migrations/` creates exactly these.
 */
import type { Generated } from 'kysely';

/** 0 or 1. */
export type Flag = number;

/** Row of `tenants`. */
export interface TenantsTable {
  id: string;
  name: string;
  max_queued_runs: number;
  max_concurrent_sandboxes: number;
  /** Fair-share weight. */
  weight: number;
  /** Most work placed at once; null: no cap. */
  max_running: number | null;
  /** `TenantMaxLimits` as JSON; null: none. */
  max_limits_json: string | null;
  /** Bytes of run output the tenant may keep. */
  max_log_bytes: number;
  /** Bytes of run output the tenant keeps now: Σ `runs.log_bytes`, moved in the same transactions. */
  log_bytes: number;
  /** Bytes of snapshots the tenant may keep; null: the server's `maxSnapshotBytes` (migration 0022). */
  max_snapshot_bytes: number | null;
  /** `Egress` as JSON: a sandbox's egress when it asks for none; null: the platform's. */
  default_sandbox_egress_json: string | null;
  /** `Egress` as JSON: a run's egress when it asks for none; null: the platform's. */
  default_run_egress_json: string | null;
  /** `Egress` as JSON: the most the tenant's work may reach; null: no maximum. */
  max_egress_json: string | null;
  created_at: number;
}

/** Row of the `ApiKeys` table. */
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  /** SHA-256 hex of the secret. */
  secret_hash: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Row of the `Audit` table. */
export interface AuditTable {
  id: string;
  tenant_id: string;
  key_id: string | null;
  action: string;
  target: string | null;
  at: number;
  details_json: string;
}

/** Row of the `Nodes` table. */
export interface NodesTable {
  id: string;
  name: string;
  runtimes_json: string;
  capabilities_json: string;
  labels_json: string;
  capacity_cpu: number;
  capacity_memory_mib: number;
  capacity_slots: number;
  capacity_disk_mib: number;
  used_cpu: number;
  used_memory_mib: number;
  used_slots: number;
  used_disk_mib: number;
  status: string;
  last_heartbeat_at: number;
  created_at: number;
  /** `active`, `cordoned`, `draining` (migration 0017). */
  scheduling: Generated<string>;
}

/** Row of the `Sandboxes` table. */
export interface SandboxesTable {
  id: string;
  tenant_id: string;
  node_id: string | null;
  runtime: string;
  template: string;
  state: string;
  /** The compiled `WorkloadSpec`. */
  spec_json: string;
  /** 0 critical … 3 low (`PRIORITIES` index). */
  priority: number;
  timeout_at: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  exit_reason: string | null;
  exit_message: string | null;
  /** Phases (migration 0007): placed on a node, template ready, cleaned up. */
  placed_at: number | null;
  template_ready_at: number | null;
  cleaned_up_at: number | null;
  /**
   * A termination (migration 0019): when it is due — its time, or once a replica has begun it, the
   * end of that replica's lease (then due again: another takes it over) — and its `{at, graceMs,
   * reason, requestedAt, begun}`. Both null when none is pending; cleared when the sandbox ends.
   */
  terminate_at: number | null;
  termination_json: string | null;
  /** When its node hibernated it (migration 0021); null while awake. */
  hibernated_at: number | null;
  /** The snapshot its termination kept (migration 0021); null: none, or deleted since (0023). */
  final_snapshot_id: string | null;
}

/** Row of the `Runs` table. */
export interface RunsTable {
  id: string;
  tenant_id: string;
  idempotency_key: string | null;
  /** SHA-256 of the canonical request, to tell a replay from a conflicting reuse of the key. */
  request_hash: string;
  /** The compiled `WorkloadSpec`. */
  spec_json: string;
  /** spec.runtime, denormalized so leasing can filter without JSON functions. */
  runtime: string | null;
  /** 0 critical … 3 low (`PRIORITIES` index), denormalized for the queue's order. */
  priority: number;
  state: string;
  attempts: number;
  max_attempts: number;
  backoff_initial_ms: number;
  backoff_max_ms: number;
  next_eligible_at: number;
  lease_node_id: string | null;
  lease_expires_at: number | null;
  epoch: number;
  exit_code: number | null;
  reason: string | null;
  stdout_truncated: Flag;
  stderr_truncated: Flag;
  error_message: string | null;
  log_seq: number;
  /** Bytes of output kept (0 once expired). */
  log_bytes: number;
  /** Some output was dropped (kept for older readers; `logs_dropped` says why). */
  logs_truncated: Flag;
  /** `run-cap` | `tenant-quota`: why output was dropped; null: none was. */
  logs_dropped: string | null;
  stdout_dropped: Flag;
  stderr_dropped: Flag;
  /** When retention deleted the logs; null while kept. */
  logs_expired_at: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  ended_at: number | null;
  /** Phases of the latest attempt (migration 0007): placed, template ready, started, first output, ended, cleaned up. */
  placed_at: number | null;
  template_ready_at: number | null;
  attempt_started_at: number | null;
  first_output_at: number | null;
  attempt_ended_at: number | null;
  cleaned_up_at: number | null;
}

/** Row of the `RunAttempts` table. */
export interface RunAttemptsTable {
  run_id: string;
  attempt: number;
  epoch: number;
  node_id: string;
  leased_at: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  reason: string | null;
  message: string | null;
}

/** Row of the `RunLogs` table. */
export interface RunLogsTable {
  run_id: string;
  seq: number;
  attempt: number;
  stream: string;
  at: number;
  data: string;
}

/** Row of `run_log_purges`: an expired run whose chunks are still being deleted, in batches. */
export interface RunLogPurgesTable {
  run_id: string;
}

/** Row of `templates`: a tenant's own template, from an image or a Dockerfile. */
export interface TemplatesTable {
  tenant_id: string;
  name: string;
  /** `image` | `dockerfile`. */
  source: string;
  /** The reference given, or the tag a Dockerfile build is stored under. */
  image: string;
  /** Manifest digest (`sha256:…`); null until first ready. */
  digest: string | null;
  size_bytes: number | null;
  /** The image's `TemplateConfig`; null until first ready. */
  config_json: string | null;
  /** Dockerfile path inside the context (`dockerfile` only). */
  dockerfile: string | null;
  /** The build context, a tar archive (`dockerfile` only), kept for rebuilds. */
  context: Buffer | null;
  /** `pending` | `ready` | `failed`. */
  status: string;
  error: string | null;
  created_at: number;
  built_at: number | null;
}

/** Row of `registry_credentials`: one tenant's login to one registry. */
export interface RegistryCredentialsTable {
  tenant_id: string;
  /** `host[:port]`, normalised (`registryKey`). */
  registry: string;
  username: string;
  password: string;
  created_at: number;
  updated_at: number;
}

/** Row of `node_tokens`: an agent token bound to one node. */
export interface NodeTokensTable {
  /** `ntk_…`. */
  id: string;
  /** The node the token may say `hello` as. */
  node_id: string;
  /** SHA-256 hex of the secret. */
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** Row of `network_policies`: a tenant's named egress policy. */
export interface NetworkPoliciesTable {
  tenant_id: string;
  name: string;
  /** `Egress` as JSON. */
  egress_json: string;
  description: string;
  created_at: number;
}

/** Row of `usage_records`: what one piece of work consumed between two of its agent's reports. */
export interface UsageRecordsTable {
  /** `work:epoch:seq:at` of the report. */
  id: string;
  tenant_id: string;
  /** The run or sandbox id. */
  work_id: string;
  runtime: string;
  node_id: string;
  /** When the report's interval ended, epoch ms. */
  at: number;
  cpu_seconds: number;
  memory_gib_seconds: number;
  sandbox_seconds: number;
  egress_bytes: number;
}

/** Row of `pool_intervals`: one warm pool's creates in one interval and the forecast it was sized by. */
export interface PoolIntervalsTable {
  node_id: string;
  /** The pool's key (runtime/template/limits/network). */
  pool_key: string;
  /** The interval's start, epoch ms. */
  start_ms: number;
  /** The interval's length, ms. */
  interval_ms: number;
  /** Creates that matched the pool, and those it served. */
  demand: number;
  hits: number;
  /** The forecast made for the interval; null when none was. */
  forecast_mean: number | null;
  forecast_low: number | null;
  forecast_high: number | null;
  /** The size the pool was given for it; null when it was not resized. */
  size: number | null;
}

/** Row of `snapshots`: a tenant's snapshot of a sandbox, its files kept on `node_id` under `digest`. */
export interface SnapshotsTable {
  id: string;
  tenant_id: string;
  sandbox_id: string;
  node_id: string;
  template: string;
  /** The image the sandbox was made from, when it was (then `template` is the same reference); null: a template. */
  image: string | null;
  runtime: string;
  digest: string;
  size_bytes: number;
  created_at: number;
  /** 1: memory and processes kept too (migration 0021). */
  memory: number;
}

/** Row of `events`, the event bus's outbox. */
export interface EventsTable {
  /** The database's counter, at insert. */
  id: Generated<number>;
  /** The position in the bus, given by the sequencer; null until then. */
  seq: number | null;
  tenant_id: string;
  type: string;
  object_id: string;
  at: number;
  data_json: string;
}

/** Row of `secrets`: a tenant's named secret, sealed by the server (`secrets/cipher.ts`). */
export interface SecretsTable {
  tenant_id: string;
  name: string;
  /** `v1.<base64url of iv, ciphertext and tag>`. */
  sealed: string;
  created_at: number;
  updated_at: number;
}

/** Row of `integration_configs`: a tenant's config of a plugin. */
export interface IntegrationConfigsTable {
  tenant_id: string;
  plugin: string;
  config_json: string;
  updated_at: number;
}

/** Row of `integration_state`: a plugin's small state per tenant and key. */
export interface IntegrationStateTable {
  tenant_id: string;
  plugin: string;
  key: string;
  value_json: string;
  updated_at: number;
}

/** Row of `event_cursors`: how far an in-process consumer of the bus got, and who holds it. */
export interface EventCursorsTable {
  consumer: string;
  seq: number;
  lease_owner: string | null;
  lease_until: number | null;
}

/** Row of `webhooks`: a tenant's outbound webhook subscription and its delivery state. */
export interface WebhooksTable {
  id: string;
  tenant_id: string;
  url: string;
  /** Event types, a JSON array. */
  types_json: string;
  /** The signing secret, sealed by the server (bound to `webhook/<id>`). */
  secret_sealed: string;
  enabled: Flag;
  /** The last `events.seq` handled (delivered, or not of its types). */
  cursor: number;
  /** The delivery of the event after the cursor, while one is being delivered. */
  head_delivery_id: string | null;
  /** When the head's next attempt is due; null: no head (look for the next event). */
  next_attempt_at: number | null;
  /** First failure since the last success. */
  failing_since: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  /** The dispatcher (one per server process) delivering it now, until `lease_until`. */
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

/** Row of `webhook_deliveries`: one event (or ping) to one subscription, its attempts counted. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  tenant_id: string;
  /** `event`, `redelivery` or `ping`. */
  kind: string;
  /** Null for a ping. */
  event_seq: number | null;
  event_type: string;
  object_id: string | null;
  /** `pending`, `succeeded` or `failed`. */
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  response_excerpt: string | null;
  duration_ms: number | null;
  created_at: number;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  completed_at: number | null;
  redelivery_of: string | null;
}

/** Row of `deployments`: a tenant's deployment, desired state and controller lease. */
export interface DeploymentsTable {
  id: string;
  tenant_id: string;
  name: string;
  spec_text: string;
  plan_json: string;
  revision: number;
  state: string;
  replicas_json: string;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  /** Per service, per dependency: whether its condition was last told as met (`deployment.dependency`). */
  dependencies_told_json: string | null;
}

/** Row of `deployment_runs`: a run a deployment started. */
export interface DeploymentRunsTable {
  run_id: string;
  deployment_id: string;
  service: string;
  kind: string;
  revision: number;
  tick: number | null;
  /** `unknown` (no check yet, or none), `healthy`, `unhealthy`, `isolated`, `draining`. */
  health: Generated<string>;
  created_at: number;
  /** What its events told: null (nothing), `started`, `ended`. */
  told: string | null;
}

/** Row of `deployment_revisions`: each revision's spec and plan (what a rollback returns to). */
export interface DeploymentRevisionsTable {
  deployment_id: string;
  revision: number;
  spec_text: string;
  plan_json: string;
  created_at: number;
}

/** The database. */
export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  audit: AuditTable;
  nodes: NodesTable;
  sandboxes: SandboxesTable;
  runs: RunsTable;
  run_attempts: RunAttemptsTable;
  run_logs: RunLogsTable;
  run_log_purges: RunLogPurgesTable;
  templates: TemplatesTable;
  registry_credentials: RegistryCredentialsTable;
  node_tokens: NodeTokensTable;
  network_policies: NetworkPoliciesTable;
  usage_records: UsageRecordsTable;
  pool_intervals: PoolIntervalsTable;
  snapshots: SnapshotsTable;
  events: EventsTable;
  secrets: SecretsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  integration_configs: IntegrationConfigsTable;
  integration_state: IntegrationStateTable;
  event_cursors: EventCursorsTable;
  deployments: DeploymentsTable;
  deployment_runs: DeploymentRunsTable;
  deployment_revisions: DeploymentRevisionsTable;
}
