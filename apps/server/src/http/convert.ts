/**
 * Store records → API shapes (`@tartarus/core` schemas). The store speaks epoch milliseconds and
 * opaque JSON specs; the API speaks ISO timestamps and typed fields.
 */
import type {
  ApiKey as ApiKeyDto,
  AuditEntry as AuditDto,
  Limits,
  Node as NodeDto,
  Run as RunDto,
  RunAttempt as RunAttemptDto,
  Sandbox as SandboxDto,
  Tenant as TenantDto,
} from '@tartarus/core';
import type { ApiKey, AuditEntry, Node, Run, RunAttempt, Sandbox, Tenant } from '../store/index.js';

/** Limits used when a request leaves some unset. */
export const DEFAULT_LIMITS: Limits = { cpu: 1, memoryMiB: 512, pids: 256, diskMiB: 1024 };

/** Request limits merged over the defaults. */
export function resolveLimits(input?: Partial<Limits>): Limits {
  return { ...DEFAULT_LIMITS, ...stripUndefined(input ?? {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Epoch ms → ISO 8601. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Nullable epoch ms → nullable ISO 8601. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

function stringRecord(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null) return {};
  return Object.fromEntries(
    Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

function limitsOf(v: unknown): Limits {
  return resolveLimits(typeof v === 'object' && v !== null ? (v as Partial<Limits>) : {});
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
    limits: limitsOf(s.spec['limits']),
    metadata: stringRecord(s.spec['metadata']),
    exit: s.exit,
  };
}

/** A run record as the API shows it (without output; the caller adds stdout/stderr when waited). */
export function runDto(r: Run): RunDto {
  const spec = r.spec;
  const shell = typeof spec['shell'] === 'string' ? spec['shell'] : undefined;
  return {
    id: r.id,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.maxAttempts,
    exitCode: r.result?.exitCode ?? null,
    reason: r.result?.reason ?? null,
    message: r.result?.message ?? null,
    stdoutTruncated: r.result?.stdoutTruncated ?? false,
    stderrTruncated: r.result?.stderrTruncated ?? false,
    createdAt: iso(r.createdAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.endedAt),
    durationMs: r.startedAt !== null && r.endedAt !== null ? r.endedAt - r.startedAt : null,
    ...(shell === undefined ? { argv: spec.command } : { command: shell }),
    template: spec.template ?? 'busybox',
    runtime: spec.runtime ?? 'container',
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    env: stringRecord(spec.env),
    limits: limitsOf(spec.limits),
    timeoutMs: spec.timeoutMs ?? 0,
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
    capacity: n.capacity,
    used: n.used,
    status: n.status,
    lastHeartbeatAt: iso(n.lastHeartbeatAt),
    createdAt: iso(n.createdAt),
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
