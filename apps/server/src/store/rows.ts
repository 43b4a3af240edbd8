/** Row → record mappers: the one place that knows how columns become the public types. */
import type { Selectable } from 'kysely';
import type {
  ApiKeysTable,
  AuditTable,
  NodesTable,
  RunAttemptsTable,
  RunLogsTable,
  RunsTable,
  SandboxesTable,
  TenantsTable,
} from './schema.js';
import type {
  ApiKey,
  AuditEntry,
  LogsDropped,
  LogStream,
  Node,
  NodeScheduling,
  NodeStatus,
  Role,
  Run,
  RunAttempt,
  RunEndReason,
  RunLogChunk,
  RunState,
  Sandbox,
  SandboxTermination,
  SandboxState,
  Tenant,
} from './types.js';
import {
  EgressSchema,
  PRIORITIES,
  WorkloadSpecSchema,
  type Egress,
  type Priority,
  type TenantLimitsPolicy,
  type WorkloadSpec,
} from '@tartarus/core';
import { flag, parseJson } from './util.js';

/** Specs recently parsed, by their stored JSON (insertion order: the oldest goes first). */
const parsedSpecs = new Map<string, WorkloadSpec>();
const PARSED_SPECS_MAX = 256;

/**
 * A stored spec, validated: every row holds a compiled `WorkloadSpec` (0002 rewrote older ones).
 * A row's spec never changes once written, and one run's row is read several times on its way
 * (queue, lease, reports, answer; ≈ 0.2 ms of validation each), so the last few hundred are kept,
 * frozen: shared between readers, no caller can change another's.
 */
export function parseSpec(json: string): WorkloadSpec {
  const known = parsedSpecs.get(json);
  if (known !== undefined) return known;
  const spec = deepFreeze(WorkloadSpecSchema.parse(JSON.parse(json)));
  if (parsedSpecs.size >= PARSED_SPECS_MAX) parsedSpecs.delete(parsedSpecs.keys().next().value as string);
  parsedSpecs.set(json, spec);
  return spec;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A priority as its column value (0 critical … 3 low). */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

/** Resources with the disk dimension only when reported. */
function resources(cpu: number, memoryMiB: number, diskMiB: number, slots: number) {
  return { cpu, memoryMiB, ...(diskMiB > 0 ? { diskMiB } : {}), slots };
}

/** A tenant's egress setting as stored (JSON), or null when unset. */
function egressOrNull(json: string | null): Egress | null {
  return json === null ? null : EgressSchema.parse(JSON.parse(json));
}

/** `tenants` row → Tenant. */
export function toTenant(r: Selectable<TenantsTable>): Tenant {
  return {
    id: r.id,
    name: r.name,
    maxQueuedRuns: r.max_queued_runs,
    maxConcurrentSandboxes: r.max_concurrent_sandboxes,
    weight: r.weight,
    maxRunning: r.max_running,
    maxLimits: r.max_limits_json === null ? null : parseJson<TenantLimitsPolicy>(r.max_limits_json),
    maxLogBytes: r.max_log_bytes,
    logBytes: r.log_bytes,
    maxSnapshotBytes: r.max_snapshot_bytes,
    defaultSandboxEgress: egressOrNull(r.default_sandbox_egress_json),
    defaultRunEgress: egressOrNull(r.default_run_egress_json),
    maxEgress: egressOrNull(r.max_egress_json),
    createdAt: r.created_at,
  };
}

/** `api_keys` row → ApiKey (the hash stays inside the store). */
export function toApiKey(r: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    role: r.role as Role,
    prefix: r.prefix,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** `audit` row → AuditEntry. */
export function toAuditEntry(r: Selectable<AuditTable>): AuditEntry {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    keyId: r.key_id,
    action: r.action,
    target: r.target,
    at: r.at,
    details: parseJson(r.details_json),
  };
}

/** `nodes` row → Node. */
export function toNode(r: Selectable<NodesTable>): Node {
  return {
    id: r.id,
    name: r.name,
    runtimes: parseJson<string[]>(r.runtimes_json),
    capabilities: parseJson(r.capabilities_json),
    labels: parseJson<Record<string, string>>(r.labels_json),
    capacity: resources(r.capacity_cpu, r.capacity_memory_mib, r.capacity_disk_mib, r.capacity_slots),
    used: resources(r.used_cpu, r.used_memory_mib, r.used_disk_mib, r.used_slots),
    status: r.status as NodeStatus,
    scheduling: r.scheduling as NodeScheduling,
    lastHeartbeatAt: r.last_heartbeat_at,
    createdAt: r.created_at,
  };
}

/** `sandboxes` row → Sandbox. */
export function toSandbox(r: Selectable<SandboxesTable>): Sandbox {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    nodeId: r.node_id,
    runtime: r.runtime,
    template: r.template,
    state: r.state as SandboxState,
    spec: parseSpec(r.spec_json),
    timeoutAt: r.timeout_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    phases: {
      requestedAt: r.created_at,
      placedAt: r.placed_at,
      templateReadyAt: r.template_ready_at,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      cleanedUpAt: r.cleaned_up_at,
    },
    exit:
      r.exit_reason === null
        ? null
        : { exitCode: r.exit_code, reason: r.exit_reason, message: r.exit_message },
    termination: r.termination_json === null ? null : (JSON.parse(r.termination_json) as SandboxTermination),
    terminateDueAt: r.terminate_at === null ? null : Number(r.terminate_at),
    hibernatedAt: r.hibernated_at === null ? null : Number(r.hibernated_at),
    finalSnapshotId: r.final_snapshot_id,
  };
}

/** `runs` row → Run. `result` is present once a reason has been recorded. */
export function toRun(r: Selectable<RunsTable>): Run {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    idempotencyKey: r.idempotency_key,
    spec: parseSpec(r.spec_json),
    state: r.state as RunState,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    backoff: { initialMs: r.backoff_initial_ms, maxMs: r.backoff_max_ms },
    nextEligibleAt: r.next_eligible_at,
    leaseNodeId: r.lease_node_id,
    leaseExpiresAt: r.lease_expires_at,
    epoch: r.epoch,
    result:
      r.reason === null
        ? null
        : {
            exitCode: r.exit_code,
            reason: r.reason as RunEndReason,
            stdoutTruncated: flag(r.stdout_truncated),
            stderrTruncated: flag(r.stderr_truncated),
            message: r.error_message,
          },
    logsDropped:
      r.logs_dropped === null
        ? null
        : {
            reason: r.logs_dropped as LogsDropped,
            stdout: flag(r.stdout_dropped),
            stderr: flag(r.stderr_dropped),
          },
    logsExpiredAt: r.logs_expired_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    phases: {
      queuedAt: r.created_at,
      placedAt: r.placed_at,
      templateReadyAt: r.template_ready_at,
      startedAt: r.attempt_started_at,
      firstOutputAt: r.first_output_at,
      exitedAt: r.attempt_ended_at,
      cleanedUpAt: r.cleaned_up_at,
    },
  };
}

/** `run_attempts` row → RunAttempt. */
export function toRunAttempt(r: Selectable<RunAttemptsTable>): RunAttempt {
  return {
    runId: r.run_id,
    attempt: r.attempt,
    epoch: r.epoch,
    nodeId: r.node_id,
    leasedAt: r.leased_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    exitCode: r.exit_code,
    reason: r.reason as RunEndReason | null,
    message: r.message,
  };
}

/** `run_logs` row → RunLogChunk. */
export function toRunLogChunk(r: Selectable<RunLogsTable>): RunLogChunk {
  return {
    runId: r.run_id,
    attempt: r.attempt,
    seq: r.seq,
    stream: r.stream as LogStream,
    at: r.at,
    data: r.data,
  };
}
