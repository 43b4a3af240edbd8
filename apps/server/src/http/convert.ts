/**
 * Store records → API shapes (`@tartarus/core` schemas). The store speaks epoch milliseconds and
 * compiled specs; the API speaks ISO timestamps and shows the spec's effective values (no
 * default is applied here: `compile` applied every one).
 */
import type {
  ApiKey as ApiKeyDto,
  AuditEntry as AuditDto,
  Node as NodeDto,
  NodeToken as NodeTokenDto,
  Run as RunDto,
  RunAttempt as RunAttemptDto,
  Sandbox as SandboxDto,
  Tenant as TenantDto,
} from '@tartarus/core';
import type {
  ApiKey,
  AuditEntry,
  Node,
  NodeToken,
  Run,
  RunAttempt,
  Sandbox,
  Tenant,
} from '../store/index.js';

/** Epoch ms → ISO 8601. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Nullable epoch ms → nullable ISO 8601. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** A sandbox record as the API shows it. */
export function sandboxDto(s: Sandbox): SandboxDto {
  return {
    id: s.id,
    state: s.state,
    runtime: s.runtime,
    template: s.template,
    nodeId: s.nodeId,
    createdAt: iso(s.createdAt),
    startedAt: isoOrNull(s.startedAt),
    timeoutAt: isoOrNull(s.timeoutAt),
    endedAt: isoOrNull(s.endedAt),
    phases: {
      requestedAt: iso(s.phases.requestedAt),
      placedAt: isoOrNull(s.phases.placedAt),
      templateReadyAt: isoOrNull(s.phases.templateReadyAt),
      startedAt: isoOrNull(s.phases.startedAt),
      endedAt: isoOrNull(s.phases.endedAt),
      cleanedUpAt: isoOrNull(s.phases.cleanedUpAt),
    },
    timeoutMs: s.spec.timeoutMs,
    limits: s.spec.limits,
    requests: s.spec.requests,
    priority: s.spec.priority,
    env: s.spec.env,
    metadata: s.spec.metadata,
    egress: s.spec.egress,
    // Shown as the tenant named it (kept qualified by the tenant in the spec).
    networkGroup: s.spec.networkGroup === null ? null : s.spec.networkGroup.slice(s.spec.networkGroup.indexOf('/') + 1),
    termination:
      s.termination === null
        ? null
        : { at: iso(s.termination.at), graceMs: s.termination.graceMs, reason: s.termination.reason, requestedAt: iso(s.termination.requestedAt), snapshot: s.termination.snapshot ?? false, begun: s.termination.begun },
    hibernatedAt: isoOrNull(s.hibernatedAt),
    hibernateAfterMs: s.spec.hibernateAfterMs,
    finalSnapshotId: s.finalSnapshotId,
    exit: s.exit,
  };
}

/** A run record as the API shows it (without output; the caller adds stdout/stderr when waited). */
export function runDto(r: Run): RunDto {
  const spec = r.spec;
  return {
    id: r.id,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.maxAttempts,
    exitCode: r.result?.exitCode ?? null,
    reason: r.result?.reason ?? null,
    message: r.result?.message ?? null,
    // Cut by the workload's own output cap (the agent says so), or dropped by the store.
    stdoutTruncated: (r.result?.stdoutTruncated ?? false) || (r.logsDropped?.stdout ?? false),
    stderrTruncated: (r.result?.stderrTruncated ?? false) || (r.logsDropped?.stderr ?? false),
    logsDropped: r.logsDropped?.reason ?? null,
    logsExpiredAt: isoOrNull(r.logsExpiredAt),
    createdAt: iso(r.createdAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.endedAt),
    durationMs: r.startedAt !== null && r.endedAt !== null ? r.endedAt - r.startedAt : null,
    phases: {
      queuedAt: iso(r.phases.queuedAt),
      placedAt: isoOrNull(r.phases.placedAt),
      templateReadyAt: isoOrNull(r.phases.templateReadyAt),
      startedAt: isoOrNull(r.phases.startedAt),
      firstOutputAt: isoOrNull(r.phases.firstOutputAt),
      exitedAt: isoOrNull(r.phases.exitedAt),
      cleanedUpAt: isoOrNull(r.phases.cleanedUpAt),
    },
    ...(typeof spec.command === 'string' ? { command: spec.command } : {}),
    ...(Array.isArray(spec.command) ? { argv: spec.command } : {}),
    template: spec.template,
    ...(spec.image ? { image: spec.image } : {}),
    ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    runtime: spec.runtime,
    ...(spec.cwd === null ? {} : { cwd: spec.cwd }),
    env: spec.env,
    limits: spec.limits,
    requests: spec.requests,
    priority: spec.priority,
    timeoutMs: spec.timeoutMs,
    egress: spec.egress,
  };
}

/** An attempt record as the API shows it. */
export function attemptDto(a: RunAttempt): RunAttemptDto {
  return {
    attempt: a.attempt,
    epoch: a.epoch,
    nodeId: a.nodeId,
    leasedAt: iso(a.leasedAt),
    startedAt: isoOrNull(a.startedAt),
    endedAt: isoOrNull(a.endedAt),
    exitCode: a.exitCode,
    reason: a.reason,
    message: a.message,
  };
}

/** A node record as the API shows it. */
export function nodeDto(n: Node): NodeDto {
  return {
    id: n.id,
    name: n.name,
    runtimes: n.runtimes,
    labels: n.labels,
    capacity: { ...n.capacity, diskMiB: n.capacity.diskMiB ?? 0 },
    used: { ...n.used, diskMiB: n.used.diskMiB ?? 0 },
    status: n.status,
    scheduling: n.scheduling,
    lastHeartbeatAt: iso(n.lastHeartbeatAt),
    createdAt: iso(n.createdAt),
  };
}

/** A node token as the API shows it (never the secret). */
export function nodeTokenDto(t: NodeToken): NodeTokenDto {
  return {
    id: t.id,
    nodeId: t.nodeId,
    createdAt: iso(t.createdAt),
    revokedAt: isoOrNull(t.revokedAt),
  };
}

/** An API key as the API shows it (never the secret). */
export function apiKeyDto(k: ApiKey): ApiKeyDto {
  return {
    id: k.id,
    tenantId: k.tenantId,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    lastUsedAt: isoOrNull(k.lastUsedAt),
    revokedAt: isoOrNull(k.revokedAt),
  };
}

/** A tenant as the API shows it. */
export function tenantDto(t: Tenant): TenantDto {
  return { ...t, createdAt: iso(t.createdAt) };
}

/** An audit entry as the API shows it. */
export function auditDto(a: AuditEntry): AuditDto {
  return { ...a, at: iso(a.at) };
}
