/**
 * Request in, compiled spec out, once (as Temporal's `compileWorkerOptions`): every default is
 * applied here from `WORKLOAD_DEFAULTS` (and the tenant's network defaults), and the result is
 * checked against the tenant's policy. A value past the policy is an `InvalidArgumentError`
 * (HTTP 400) that names the maximum.
 */
import { InternalError, InvalidArgumentError } from '../errors.js';
import type { Egress } from '../network.js';
import { checkEgressWithin, defaultEgress, type TenantNetworkPolicy } from '../egress-policy.js';
import type { CreateSandboxRequestSchema } from '../api/sandboxes.js';
import type { SubmitRunRequestSchema } from '../api/runs.js';
import type { Limits } from '../api/common.js';
import type { z } from 'zod';
import { WORKLOAD_DEFAULTS } from './defaults.js';
import { parseImageRef } from '../image-ref.js';
import type { ResourceRequests, WorkloadSpec } from './spec.js';

/** The most one tenant's work may ask for; an unset field has no maximum beyond the API's. */
export interface TenantLimitsPolicy {
  cpu?: number;
  memoryMiB?: number;
  pids?: number;
  diskMiB?: number;
  timeoutMs?: number;
}

/** A run request as sent (defaults not yet applied; compile applies them). */
export type RunRequest = z.input<typeof SubmitRunRequestSchema>;
/** A sandbox request as sent (defaults not yet applied; compile applies them). */
export type SandboxRequest = z.input<typeof CreateSandboxRequestSchema>;

type LimitsInput = Partial<Limits> | undefined;
type RequestsInput = Partial<ResourceRequests> | undefined;

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function compileLimits(input: LimitsInput): Limits {
  return { ...WORKLOAD_DEFAULTS.limits, ...defined(input) };
}

/** A request is a reservation inside the cap: at least the default, never above the limit. */
function compileRequests(input: RequestsInput, limits: Limits): ResourceRequests {
  const given = defined(input);
  const r: ResourceRequests = {
    cpu: given.cpu ?? Math.min(WORKLOAD_DEFAULTS.requests.cpu, limits.cpu),
    memoryMiB: given.memoryMiB ?? Math.min(WORKLOAD_DEFAULTS.requests.memoryMiB, limits.memoryMiB),
    diskMiB: given.diskMiB ?? Math.min(WORKLOAD_DEFAULTS.requests.diskMiB, limits.diskMiB),
  };
  for (const k of ['cpu', 'memoryMiB', 'diskMiB'] as const) {
    if (r[k] > limits[k])
      throw new InvalidArgumentError(
        `requests.${k} ${r[k]} is above limits.${k} ${limits[k]}: a request is reserved within the limit, so ask for at most ${limits[k]} or raise the limit`,
      );
  }
  return r;
}

/** Checks limits and timeout against the tenant's maximums. */
export function checkPolicy(spec: WorkloadSpec, policy: TenantLimitsPolicy | null): void {
  if (policy === null) return;
  const checks: [string, number, number | undefined][] = [
    ['limits.cpu', spec.limits.cpu, policy.cpu],
    ['limits.memoryMiB', spec.limits.memoryMiB, policy.memoryMiB],
    ['limits.pids', spec.limits.pids, policy.pids],
    ['limits.diskMiB', spec.limits.diskMiB, policy.diskMiB],
    ['timeoutMs', spec.timeoutMs, policy.timeoutMs],
  ];
  for (const [name, value, max] of checks) {
    if (max !== undefined && value > max)
      throw new InvalidArgumentError(
        `${name} ${value} is above this tenant's maximum of ${max}: ask for at most ${max}`,
        { context: { field: name, max } },
      );
  }
}

/** What compile knows of the network: the tenant's settings, and the policy a request names. */
export interface NetworkContext {
  /** The tenant's defaults and maximum; absent or null: the platform's defaults, no maximum. */
  tenant?: TenantNetworkPolicy | null;
  /** The network policy the request names (`networkPolicy`), looked up by the caller. */
  policy?: { name: string; egress: Egress };
}

/**
 * The work's egress: its own (`egress`), its named policy's (`networkPolicy`), or the default —
 * the tenant's, else the platform's within the tenant's maximum. What was asked for is checked
 * against the tenant's `maxEgress`.
 */
function compileEgress(
  req: { egress?: Egress | undefined; networkPolicy?: string | undefined },
  runtime: string,
  kind: 'sandbox' | 'run',
  net: NetworkContext,
): Egress {
  const tenant = net.tenant ?? null;
  const max = tenant?.maxEgress ?? null;
  let egress: Egress;
  let what: string;
  if (req.egress !== undefined && req.networkPolicy !== undefined) {
    throw new InvalidArgumentError('give at most one of egress and networkPolicy: a sandbox or run takes its policy from one place');
  }
  if (req.networkPolicy !== undefined) {
    if (net.policy?.name !== req.networkPolicy) throw new InternalError(`network policy ${req.networkPolicy} was not looked up before compile`);
    egress = net.policy.egress;
    what = `network policy ${JSON.stringify(req.networkPolicy)}`;
  } else if (req.egress !== undefined) {
    egress = req.egress;
    what = 'egress';
  } else {
    const platform = kind === 'sandbox' ? WORKLOAD_DEFAULTS.sandboxEgress : WORKLOAD_DEFAULTS.runEgress;
    egress = defaultEgress(platform, (kind === 'sandbox' ? tenant?.defaultSandboxEgress : tenant?.defaultRunEgress) ?? null, max);
    what = `this tenant's default ${kind} egress`;
  }
  checkEgressWithin(egress, max, what);
  return egress;
}

/** Images built from a Dockerfile live under this registry name, reached only through their template. */
export const LOCAL_IMAGE_REGISTRY = 'tartarus.local';

/** Parses an image named in a request; a Dockerfile build's image is named by its template instead. */
function checkRequestImage(image: string): void {
  if (parseImageRef(image).registry === LOCAL_IMAGE_REGISTRY) {
    throw new InvalidArgumentError(
      `image ${JSON.stringify(image)} is a template built from a Dockerfile: name it by its template (template: NAME), not as an image`,
      { context: { image } },
    );
  }
}

/** Compiles a run request (lifecycle `once`); `network`: see `NetworkContext`. */
export function compileRun(req: RunRequest, policy: TenantLimitsPolicy | null, network: NetworkContext = {}): WorkloadSpec {
  // A reference that can never be pulled is refused now (400 naming it), not by the node later.
  if (req.image !== undefined) checkRequestImage(req.image);
  const limits = compileLimits(req.limits);
  const spec: WorkloadSpec = {
    lifecycle: 'once',
    snapshot: null,
    template: req.image ?? req.template ?? WORKLOAD_DEFAULTS.template,
    image: req.image ?? null,
    entrypoint: req.entrypoint ?? null,
    runtime: req.runtime ?? WORKLOAD_DEFAULTS.runtime,
    command: req.argv ?? req.command ?? null,
    env: req.env ?? {},
    cwd: req.cwd ?? null,
    user: req.user ?? null,
    stdin: req.stdin ?? null,
    limits,
    requests: compileRequests(req.requests, limits),
    timeoutMs: req.timeoutMs ?? WORKLOAD_DEFAULTS.runTimeoutMs,
    priority: req.priority ?? WORKLOAD_DEFAULTS.priority,
    maxAttempts: req.maxAttempts ?? WORKLOAD_DEFAULTS.maxAttempts,
    nodeSelector: req.nodeSelector ?? {},
    metadata: {},
    egress: compileEgress(req, req.runtime ?? WORKLOAD_DEFAULTS.runtime, 'run', network),
    public: false,
    networkGroup: null,
    hibernateAfterMs: null,
  };
  checkPolicy(spec, policy);
  return spec;
}

/** Compiles a sandbox request (lifecycle `until-timeout`, the template's idle process); `network`: see `NetworkContext`. */
export function compileSandbox(
  req: SandboxRequest,
  policy: TenantLimitsPolicy | null,
  network: NetworkContext = {},
): WorkloadSpec {
  if (req.image !== undefined) checkRequestImage(req.image);
  const limits = compileLimits(req.limits);
  const spec: WorkloadSpec = {
    lifecycle: 'until-timeout',
    snapshot: null,
    template: req.image ?? req.template ?? WORKLOAD_DEFAULTS.template,
    image: req.image ?? null,
    entrypoint: null,
    runtime: req.runtime ?? WORKLOAD_DEFAULTS.runtime,
    command: null,
    env: req.env ?? {},
    cwd: null,
    user: req.user ?? null,
    stdin: null,
    limits,
    requests: compileRequests(req.requests, limits),
    timeoutMs: req.timeoutMs ?? WORKLOAD_DEFAULTS.sandboxTimeoutMs,
    priority: req.priority ?? WORKLOAD_DEFAULTS.priority,
    maxAttempts: 1,
    nodeSelector: req.nodeSelector ?? {},
    metadata: req.metadata ?? {},
    egress: compileEgress(req, req.runtime ?? WORKLOAD_DEFAULTS.runtime, 'sandbox', network),
    public: req.public ?? false,
    // Qualified by the tenant where the tenant is known (the sandbox service).
    networkGroup: req.networkGroup ?? null,
    hibernateAfterMs: req.hibernateAfterMs ?? null,
  };
  if (spec.hibernateAfterMs !== null && spec.runtime !== 'microvm') {
    throw new InvalidArgumentError(`hibernateAfterMs needs runtime "microvm": hibernation keeps a sandbox's memory, which only microVMs can save here (runtime ${JSON.stringify(spec.runtime)}); drop hibernateAfterMs or give runtime "microvm"`, { context: { field: 'hibernateAfterMs' } });
  }
  if (spec.networkGroup !== null && spec.egress === 'none') {
    throw new InvalidArgumentError(`networkGroup ${JSON.stringify(spec.networkGroup)} needs a network: give an egress other than "none" (a sandbox with none has no interface)`, { context: { field: 'networkGroup' } });
  }
  checkPolicy(spec, policy);
  return spec;
}
