/**
 * Every default of a workload, in one place. `compile.ts` applies them; the API schemas describe
 * them by referring to these constants; the API shows the effective values a workload got.
 */

/** Priorities within a tenant, highest first (as Asynq's queues critical/high/default/low). */
export const PRIORITIES = ['critical', 'high', 'default', 'low'] as const;
/** A priority within a tenant. */
export type Priority = (typeof PRIORITIES)[number];

/** How a workload's life is bound to its main process. */
export const LIFECYCLES = [
  /** A run: the main process runs once; its exit ends the work (retried by policy). */
  'once',
  /** A sandbox: lives until killed or its timeout; exec and files in between. */
  'until-timeout',
] as const;
/** A lifecycle policy. */
export type Lifecycle = (typeof LIFECYCLES)[number];

/** The defaults. Units are in the names. */
export const WORKLOAD_DEFAULTS = {
  template: 'busybox',
  runtime: 'container',
  /** Caps enforced on the node: 1 core, 512 MiB, 256 pids, 1 GiB writable layer. */
  limits: { cpu: 1, memoryMiB: 512, pids: 256, diskMiB: 1024 },
  /**
   * What placement reserves on a node. A limit is a cap, not a reservation: an idle sandbox
   * reserves 1/8 of a core and 128 MiB, so one 2-core node holds hundreds of them.
   */
  requests: { cpu: 0.125, memoryMiB: 128, diskMiB: 0 },
  /** Wall-clock limit of one run attempt: 10 min. */
  runTimeoutMs: 600_000,
  /** A sandbox is killed this long after it starts unless extended: 5 min. */
  sandboxTimeoutMs: 300_000,
  /** Attempts of a run before it is dead-lettered. */
  maxAttempts: 3,
  priority: 'default',
  /** How long a sandbox create waits for capacity before a 503 with Retry-After: 30 s. */
  sandboxWaitMs: 30_000,
  /** A sandbox reaches anything but what is always denied (as E2B); a run has loopback only (as Judge0, Piston). */
  sandboxEgress: 'all',
  runEgress: 'none',
} as const;
