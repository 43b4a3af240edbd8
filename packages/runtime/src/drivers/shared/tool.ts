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
   * How a sandbox's own user namespace and host uid range (sandbox/uid-ranges.ts, made by
   * `tt-layer --idmap`) reach the runtime, so that no two sandboxes share a host uid:
   * - `join` (runc): the config names the namespace for the container to join;
   * - `enter` (runsc): the runtime itself runs inside it as its root (`tt-layer --enter`), so
   *   the gofer runs as host uid BASE and the sentry as BASE+65534 — never root, and never the
   *   `nobody` every gVisor sandbox would otherwise share (with its per-user limits: processes,
   *   pipe pages). Its bundle, pid file and runtime root then live under the sandbox's run dir,
   *   the one place its mapped root can reach (`SandboxPaths`).
   */
  readonly userns: 'join' | 'enter';
  /**
   * The host pids cgroup's bound for a sandbox whose limit is `limit` (with ownCgroups): the
   * limit plus `pidsOverhead` under runc; gVisor's sentry backs each sandbox process with many host
   * tasks, so its host bound is generous and the exact limit is enforced inside (RLIMIT_NPROC).
   */
  hostPids(limit: number): number;
  /** Host dirs hidden from the runtime (`tt-layer --mask`) when the sandbox has a network. */
  readonly masksWithNetwork: readonly string[];
  /**
   * Whether /tmp is the layer's tmp/ bound apart from the overlay (runsc, `adjustConfig`): a files
   * snapshot then takes it as tmp/ (`tt-layer snapshot --with-tmp`) and a seed's tmp/ goes back
   * there (`tt-layer run --tmp-apart`).
   */
  readonly tmpApart?: boolean;
  /** Prints the version (availability probe). */
  version(): string[];
  /** Runs the container in the foreground; its stdio is the container process's stdio. */
  run(root: string, o: { bundle: string; pidFile: string; containerId: string; network?: boolean }): string[];
  /**
   * Saves the running container's memory and processes to `imagePath` (a directory) and ends it:
   * runsc only (drivers/gvisor/checkpoint.ts), absent for a runtime that cannot.
   */
  checkpoint?(root: string, o: { imagePath: string; containerId: string }): string[];
  /** Runs a container from a checkpoint in `imagePath`, in the foreground, as `run` does (runsc only). */
  restore?(root: string, o: { bundle: string; pidFile: string; containerId: string; imagePath: string; network?: boolean }): string[];
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
