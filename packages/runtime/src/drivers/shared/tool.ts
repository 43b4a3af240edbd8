/**
 * What differs between OCI runtimes (runc, runsc) as seen by the shared OCI driver: their
 * command lines and the config adjustments each needs. Every builder here is pure; each
 * driver's `argv.ts` provides one `OciTool`, tested with golden cases.
 */
import type { RuntimeName } from '../../driver.js';
import type { OciConfig } from './oci-spec.js';

/** Command-line builders and quirks of one OCI runtime. Every argv starts with the binary. */
export interface OciTool {
  readonly runtime: Extract<RuntimeName, 'container' | 'gvisor'>;
  /** The executable, e.g. `runc`. */
  readonly binary: string;
  /**
   * Whether Tartarus makes the sandbox's cgroups itself (`createOwnCgroups`), starts the
   * runtime inside them and writes the CPU limit once the workload runs; then the runtime
   * ignores cgroups and `adjustConfig` drops `cgroupsPath` and `resources`.
   */
  readonly ownCgroups: boolean;
  /** Host tasks the runtime itself needs in the sandbox's pids cgroup, added to the workload's limit (with `ownCgroups`). */
  readonly pidsOverhead: number;
  /**
   * Whether each sandbox gets its own user namespace and host uid range (sandbox/uid-ranges.ts):
   * runc. gVisor's sandboxes need none — the sentry is their kernel, and per-user limits
   * (message queues, inotify, pipes) live in it, not in the host's.
   */
  readonly userns: boolean;
  /**
   * The host pids cgroup's bound for a sandbox whose limit is `limit` (with ownCgroups): the
   * limit plus `pidsOverhead` under runc; gVisor's sentry backs each sandbox process with many host
   * tasks, so its host bound is generous and the exact limit is enforced inside (RLIMIT_NPROC).
   */
  hostPids(limit: number): number;
  /** Prints the version (availability probe). */
  version(): string[];
  /** Runs the container in the foreground; its stdio is the container process's stdio. */
  run(root: string, o: { bundle: string; pidFile: string; containerId: string }): string[];
  /** Starts a process from a process.json in a running container, in the foreground (`tt-init attach` after a restart). */
  exec(root: string, o: { processFile: string; pidFile: string; containerId: string }): string[];
  /** Signals the container's init, or every process with `all`. */
  kill(root: string, containerId: string, signal: string, all: boolean): string[];
  delete(root: string, containerId: string): string[];
  pause(root: string, containerId: string): string[];
  resume(root: string, containerId: string): string[];
  /** Lists containers as a JSON array with `id`, `status`, `bundle` (runc) or `id`, `status` (runsc). */
  list(root: string): string[];
  /** Returns a copy of `config` adjusted for this runtime. */
  adjustConfig(config: OciConfig): OciConfig;
}

/** Signal name as runc/runsc take it (`SIGTERM` → `TERM`). */
export function signalArg(signal: NodeJS.Signals | string): string {
  return signal.startsWith('SIG') ? signal.slice(3) : signal;
}
