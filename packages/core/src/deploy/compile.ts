/**
 * A checked spec → the `DeploymentPlan` the platform runs: every default applied once
 * (`DEPLOY_DEFAULTS`, upstream's where it has one), durations in ms, memory in MiB, percentages
 * as numbers, `$E:NAME` read from the deploying environment, `$S:name` kept as a secret reference
 * for the server to resolve. Cross-field checks run first (`checks.ts`), so a plan is always whole.
 */
import type {
  DependsPlan,
  DeploymentPlan,
  EndpointPlan,
  EnvValue,
  HealthCheckPlan,
  HealthPlan,
  InitStepPlan,
  ScalePlan,
  ServicePlan,
} from './plan.js';
import type { DeploymentSpec, EndpointSpec, HealthSpec, ScaleSpec, ServiceSpec } from './spec.js';
import { checkDeployment } from './checks.js';
import {
  DeploymentSpecError,
  issueAt,
  sourceWithoutLines,
  type PathSegment,
  type SpecIssue,
  type SpecSource,
} from './source.js';
import { parseMemoryMiB, parsePercent, parseSpecDurationMs, readEnvRef } from './units.js';

/**
 * The defaults of a spec's optional fields. Upstream's (ZLayer `zlayer-spec`) where it has one;
 * where upstream leaves a value to its runtime, Tartarus's choice, marked "ours".
 */
export const DEPLOY_DEFAULTS = {
  /** `rtype`. */
  kind: 'service',
  /** `image.pull_policy`; a `template:` image is never pulled (`never`). */
  pullPolicy: 'if_not_present',
  /** `endpoints[].expose`. */
  expose: 'internal',
  /** `scale` of a service when absent: adaptive 1..10, 30 s cooldown; cpu 70 % when no target is given (ours). */
  adaptive: { min: 1, max: 10, cooldownMs: 30_000, cpuPercent: 70 },
  /** `scale` of a job or cron when absent (ours: one copy per trigger); `manual` starts with this many too. */
  replicas: 1,
  /** `depends[]`: healthy, 300 s, fail. */
  depends: { condition: 'healthy', timeoutMs: 300_000, onTimeout: 'fail' },
  /** `health`: 5 s grace and 3 retries (upstream); 10 s interval and 5 s timeout (ours); HTTP 200. */
  health: {
    startGraceMs: 5_000,
    intervalMs: 10_000,
    timeoutMs: 5_000,
    retries: 3,
    expectStatus: 200,
  },
  /** `init.steps[]`: no retry, no timeout, fail. */
  init: { retry: 0, onFailure: 'fail' },
  /** `errors`: fail on init failure, restart on panic. */
  errors: { onInitFailure: 'fail', onPanic: 'restart' },
  /** `node_mode`. */
  nodeMode: 'shared',
} as const;

/** Options of `compileDeployment`. */
export interface CompileOptions {
  /** The deploying environment, read for `$E:NAME` values (the CLI passes `process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the spec was read from (`parseDeploymentSpec().source`), for lines in errors; default none. */
  source?: SpecSource;
}

type At = (...rest: PathSegment[]) => PathSegment[];

function ms(text: string, source: SpecSource, path: PathSegment[]): number {
  return (
    parseSpecDurationMs(text) ??
    refuseValue(source, path, `"${text}" is not a duration such as 30s`)
  );
}

/** For a spec that did not come through the schema (built in code): a value it would have refused. */
function refuseValue(source: SpecSource, path: PathSegment[], message: string): never {
  throw new DeploymentSpecError(source.file, [issueAt(source, path, message)]);
}

function compileEndpoint(e: EndpointSpec): EndpointPlan {
  return {
    name: e.name,
    protocol: e.protocol,
    port: e.port,
    targetPort: e.target_port ?? e.port,
    path: e.path ?? null,
    expose: e.expose ?? DEPLOY_DEFAULTS.expose,
  };
}

function compileScale(
  kind: ServicePlan['kind'],
  scale: ScaleSpec | undefined,
  source: SpecSource,
  at: At,
): ScalePlan {
  const d = DEPLOY_DEFAULTS.adaptive;
  if (!scale) {
    if (kind !== 'service') return { mode: 'fixed', replicas: DEPLOY_DEFAULTS.replicas };
    return {
      mode: 'adaptive',
      min: d.min,
      max: d.max,
      cooldownMs: d.cooldownMs,
      targets: { cpuPercent: d.cpuPercent, memoryPercent: null, rps: null },
    };
  }
  switch (scale.mode) {
    case 'fixed':
      return { mode: 'fixed', replicas: scale.replicas };
    case 'manual':
      return { mode: 'manual', replicas: DEPLOY_DEFAULTS.replicas };
    case 'adaptive': {
      const t = scale.targets ?? {};
      const none = t.cpu === undefined && t.memory === undefined && t.rps === undefined;
      return {
        mode: 'adaptive',
        min: scale.min,
        max: scale.max,
        cooldownMs:
          scale.cooldown === undefined
            ? d.cooldownMs
            : ms(scale.cooldown, source, at('scale', 'cooldown')),
        targets: {
          cpuPercent: t.cpu === undefined ? (none ? d.cpuPercent : null) : parsePercent(t.cpu),
          memoryPercent: t.memory === undefined ? null : parsePercent(t.memory),
          rps: t.rps ?? null,
        },
      };
    }
    default: {
      const never: never = scale;
      throw new Error(`unhandled scale ${JSON.stringify(never)}`);
    }
  }
}

function firstTcpPort(endpoints: EndpointPlan[]): number | null {
  return endpoints.find((e) => e.protocol !== 'udp')?.targetPort ?? null;
}

function compileCheck(check: HealthSpec['check'], endpoints: EndpointPlan[]): HealthCheckPlan {
  switch (check.type) {
    case 'tcp':
      return { type: 'tcp', port: check.port === 0 ? (firstTcpPort(endpoints) ?? 0) : check.port };
    case 'http': {
      const url = new URL(check.url);
      return {
        type: 'http',
        port: url.port === '' ? 80 : Number(url.port),
        path: `${url.pathname}${url.search}`,
        expectStatus: check.expect_status ?? DEPLOY_DEFAULTS.health.expectStatus,
      };
    }
    case 'command':
      return { type: 'command', command: check.command };
    default: {
      const never: never = check;
      throw new Error(`unhandled health check ${JSON.stringify(never)}`);
    }
  }
}

/** The health plan: as written, or for a service with a TCP endpoint, a TCP check of its first one; else none. */
function compileHealth(
  svc: ServiceSpec,
  kind: ServicePlan['kind'],
  endpoints: EndpointPlan[],
  source: SpecSource,
  at: At,
): HealthPlan | null {
  const d = DEPLOY_DEFAULTS.health;
  const h = svc.health;
  if (!h) {
    const port = kind === 'service' ? firstTcpPort(endpoints) : null;
    return port === null
      ? null
      : {
          startGraceMs: d.startGraceMs,
          intervalMs: d.intervalMs,
          timeoutMs: d.timeoutMs,
          retries: d.retries,
          check: { type: 'tcp', port },
        };
  }
  const dur = (text: string | undefined, field: string, fallback: number) =>
    text === undefined ? fallback : ms(text, source, at('health', field));
  return {
    startGraceMs: dur(h.start_grace, 'start_grace', d.startGraceMs),
    intervalMs: dur(h.interval, 'interval', d.intervalMs),
    timeoutMs: dur(h.timeout, 'timeout', d.timeoutMs),
    retries: h.retries ?? d.retries,
    check: compileCheck(h.check, endpoints),
  };
}

function compileDepends(svc: ServiceSpec, source: SpecSource, at: At): DependsPlan[] {
  const d = DEPLOY_DEFAULTS.depends;
  return (svc.depends ?? []).map((dep, i) => ({
    service: dep.service,
    condition: dep.condition ?? d.condition,
    timeoutMs:
      dep.timeout === undefined
        ? d.timeoutMs
        : ms(dep.timeout, source, at('depends', i, 'timeout')),
    onTimeout: dep.on_timeout ?? d.onTimeout,
  }));
}

function compileInit(svc: ServiceSpec, source: SpecSource, at: At): InitStepPlan[] {
  return (svc.init?.steps ?? []).map((s, i) => ({
    id: s.id,
    uses: s.uses,
    with: s.with ?? {},
    retry: s.retry ?? DEPLOY_DEFAULTS.init.retry,
    timeoutMs:
      s.timeout === undefined ? null : ms(s.timeout, source, at('init', 'steps', i, 'timeout')),
    onFailure: s.on_failure ?? DEPLOY_DEFAULTS.init.onFailure,
  }));
}

function action<T extends string>(policy: T | { action?: T } | undefined, fallback: T): T {
  if (policy === undefined) return fallback;
  return typeof policy === 'string' ? policy : (policy.action ?? fallback);
}

/** Every env value of every service resolved; all unset `$E:` variables reported at once, the first as the message. */
function resolveEnv(
  spec: DeploymentSpec,
  env: CompileOptions['env'],
  source: SpecSource,
): Map<string, Record<string, EnvValue>> {
  const out = new Map<string, Record<string, EnvValue>>();
  const missing: { name: string; issue: SpecIssue }[] = [];
  for (const [svcName, svc] of Object.entries(spec.services)) {
    const values: Record<string, EnvValue> = {};
    for (const [key, raw] of Object.entries(svc.env ?? {})) {
      const path = ['services', svcName, 'env', key];
      const ref = readEnvRef(String(raw));
      if (ref.kind === 'literal') values[key] = { value: ref.value };
      else if (ref.kind === 'secret') values[key] = { secret: ref.name };
      else if (ref.kind === 'invalid') refuseValue(source, path, ref.reason);
      else if (env[ref.name] !== undefined) values[key] = { value: env[ref.name] as string };
      else
        missing.push({
          name: ref.name,
          issue: issueAt(
            source,
            path,
            `$E:${ref.name}: the variable ${ref.name} is not set in the deploying environment`,
          ),
        });
    }
    out.set(svcName, values);
  }
  if (missing.length > 0) {
    const names = [...new Set(missing.map((m) => m.name))];
    const first = missing[0] as (typeof missing)[number];
    const also = names.filter((n) => n !== first.name);
    const issues = missing.map((m) => m.issue);
    if (also.length > 0)
      issues[0] = {
        ...first.issue,
        message: `${first.issue.message} (also unset: ${also.join(', ')})`,
      };
    throw new DeploymentSpecError(source.file, issues);
  }
  return out;
}

function compileService(
  name: string,
  svc: ServiceSpec,
  env: Record<string, EnvValue>,
  source: SpecSource,
): ServicePlan {
  const at: At = (...rest) => ['services', name, ...rest];
  const kind = svc.rtype ?? DEPLOY_DEFAULTS.kind;
  const endpoints = (svc.endpoints ?? []).map(compileEndpoint);
  const memory = svc.resources?.memory;
  return {
    name,
    kind,
    image: svc.image.name,
    pullPolicy: svc.image.name.startsWith('template:')
      ? 'never'
      : (svc.image.pull_policy ?? DEPLOY_DEFAULTS.pullPolicy),
    entrypoint: svc.command?.entrypoint ?? null,
    args: svc.command?.args ?? null,
    workdir: svc.command?.workdir ?? null,
    env,
    cpu: svc.resources?.cpu ?? null,
    memoryMiB:
      memory === undefined
        ? null
        : (parseMemoryMiB(memory) ??
          refuseValue(
            source,
            at('resources', 'memory'),
            `"${memory}" is not a size such as 512Mi`,
          )),
    endpoints,
    scale: compileScale(kind, svc.scale, source, at),
    depends: compileDepends(svc, source, at),
    health: compileHealth(svc, kind, endpoints, source, at),
    init: compileInit(svc, source, at),
    errors: {
      onInitFailure: action(svc.errors?.on_init_failure, DEPLOY_DEFAULTS.errors.onInitFailure),
      onPanic: action(svc.errors?.on_panic, DEPLOY_DEFAULTS.errors.onPanic),
    },
    schedule: svc.schedule ?? null,
    nodeMode: svc.node_mode ?? DEPLOY_DEFAULTS.nodeMode,
    nodeSelector: Object.fromEntries(
      Object.entries(svc.node_selector?.labels ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  };
}

/**
 * Compiles a checked spec (from `parseDeploymentSpec`) into the plan. Throws `DeploymentSpecError`
 * for a cross-field problem (cron without schedule, a dependency cycle, clashing ports, …) or an
 * unset `$E:` variable, naming the field and, given `source`, its line.
 */
export function compileDeployment(spec: DeploymentSpec, options: CompileOptions): DeploymentPlan {
  const source = options.source ?? sourceWithoutLines();
  checkDeployment(spec, source);
  const env = resolveEnv(spec, options.env, source);
  return {
    name: spec.deployment,
    services: Object.entries(spec.services).map(([name, svc]) =>
      compileService(name, svc, env.get(name) ?? {}, source),
    ),
  };
}
