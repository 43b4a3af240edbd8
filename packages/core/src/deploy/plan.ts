/**
 * A deployment as the platform runs it: the ZLayer V1 spec (`spec.ts`) compiled once
 * (`compile.ts`) into plain values with every default applied, durations in ms, sizes in MiB and
 * `$E:` variables resolved. The server's controllers read only this.
 */

/** A value of an environment variable: literal text, or a tenant secret (`$S:name`) resolved by the server at start. */
export type EnvValue = { value: string } | { secret: string };

/** A health check of a replica. */
export type HealthCheckPlan =
  | { type: 'tcp'; port: number }
  | { type: 'http'; port: number; path: string; expectStatus: number }
  | { type: 'command'; command: string };

/** When and how a replica is judged healthy. */
export interface HealthPlan {
  startGraceMs: number;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  check: HealthCheckPlan;
}

/** One endpoint of a service, bound by the proxy. */
export interface EndpointPlan {
  name: string;
  protocol: 'http' | 'https' | 'tcp' | 'udp' | 'websocket';
  /** The port the endpoint is published on. */
  port: number;
  /** The port in the replica (default `port`). */
  targetPort: number;
  path: string | null;
  expose: 'public' | 'internal';
}

/** How many replicas a service has. */
export type ScalePlan =
  | { mode: 'fixed'; replicas: number }
  | { mode: 'manual'; replicas: number }
  | { mode: 'adaptive'; min: number; max: number; cooldownMs: number; targets: { cpuPercent: number | null; memoryPercent: number | null; rps: number | null } };

/** A start-up dependency. */
export interface DependsPlan {
  service: string;
  condition: 'started' | 'healthy' | 'ready';
  timeoutMs: number;
  onTimeout: 'fail' | 'warn' | 'continue';
}

/** A pre-start step. */
export interface InitStepPlan {
  id: string;
  uses: string;
  with: Record<string, unknown>;
  retry: number;
  timeoutMs: number | null;
  onFailure: 'fail' | 'warn' | 'continue';
}

/** One service of a deployment. */
export interface ServicePlan {
  name: string;
  kind: 'service' | 'job' | 'cron';
  /** An OCI image reference, or `template:<name>` for a built-in or tenant template. */
  image: string;
  pullPolicy: 'always' | 'if_not_present' | 'never';
  entrypoint: string[] | null;
  args: string[] | null;
  workdir: string | null;
  env: Record<string, EnvValue>;
  /** CPU cap in cores (null: the platform's default). */
  cpu: number | null;
  /** Memory cap in MiB (null: the platform's default). */
  memoryMiB: number | null;
  endpoints: EndpointPlan[];
  scale: ScalePlan;
  depends: DependsPlan[];
  health: HealthPlan | null;
  init: InitStepPlan[];
  errors: { onInitFailure: 'fail' | 'restart' | 'backoff'; onPanic: 'restart' | 'shutdown' | 'isolate' };
  /** Cron only: the schedule as written (5, 6 or 7 fields, UTC). */
  schedule: string | null;
  nodeMode: string | null;
  nodeSelector: Record<string, string>;
}

/** A compiled deployment. */
export interface DeploymentPlan {
  name: string;
  services: ServicePlan[];
}
