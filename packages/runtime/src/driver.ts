/**
 * The runtime driver contract: what every isolation backend (`container` on runc, `gvisor` on
 * runsc, `microvm` on QEMU) provides, so that the agent, the conformance suite and the benchmarks
 * never know which one they hold.
 *
 * Design rules
 * - **Who owns what.** The driver owns every host object of a sandbox: its processes (runc/runsc
 *   container or QEMU process), its cgroup, its mounts (overlay, size-capped tmpfs), its state
 *   directory `<stateDir>/<driver>/<id>/`. The caller owns the `SandboxHandle` and must call
 *   `destroy()` once done with it; nothing else frees those objects.
 * - **Names are derivable.** Every host object is named from the sandbox id alone (runc id
 *   `tt-<id>`, cgroup `tartarus/<id>`, state dir `<stateDir>/<driver>/<id>`), so that `list()` finds
 *   them after the owning process crashed, without any record of its own.
 * - **Idempotent teardown.** `kill()` on a finished sandbox, `destroy()` on a destroyed or
 *   half-created one, and both after a crash of the owning process are no-ops that succeed.
 * - **Crash and restart.** A sandbox outlives the process that created it. After a restart,
 *   `list()` reports every sandbox found on the host; `adopt(id)` re-attaches to a running one
 *   (exec, files, pause, kill, destroy work again; the main process's later exit and output
 *   are reported, what it wrote while no host was attached is not; a main process that ended
 *   meanwhile makes `wait()` report reason `error` with a message saying its exit was lost).
 *   Whatever the caller does not adopt, it destroys.
 * - **A workload's failure is data.** A non-zero exit, an OOM kill or a timeout resolves
 *   `wait()` with a `ProcessResult`; only a failure of the driver itself rejects.
 * - **Cancellation.** Every long operation takes an optional `AbortSignal`; aborting `create`
 *   leaves nothing behind.
 * - **Confinement.** File operations resolve paths inside the sandbox (never on the host): `..`,
 *   absolute symlinks and symlinks swapped during the call cannot reach a host file.
 */
import type { Egress } from '@tartarus/core';
import type { TemplateInfo } from './templates/types.js';

/** The isolation backends. */
export type RuntimeName = 'container' | 'gvisor' | 'microvm';

/** Resource limits of one sandbox. All are enforced by the host, not trusted to the guest. */
export interface ResourceLimits {
  /** CPU in cores, fractional allowed (0.5 = half a core). */
  cpu: number;
  /** Memory in MiB; exceeding it kills the workload with reason `oom`. */
  memoryMiB: number;
  /** Maximum number of processes/threads inside the sandbox. */
  pids: number;
  /** Size cap of the sandbox's writable layer in MiB. */
  diskMiB: number;
}

/** A process to run inside a sandbox, fully resolved (template defaults applied). */
export interface ProcessSpec {
  /** The program and its arguments; never passed through a shell unless argv is a shell. */
  argv: string[];
  /** The complete environment of the process (template env merged with the caller's). */
  env: Record<string, string>;
  /** Working directory inside the sandbox, absolute. */
  cwd: string;
  /** `name`, `uid` or `uid:gid`; a name is looked up in the template's /etc/passwd. */
  user: string;
}

/** One piece of output, as produced. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  /** Wall-clock time it was read on the host, ms since the epoch. */
  timeMs: number;
}

/** A sandbox to create, fully resolved by `resolveSandboxOptions()`. */
export interface SandboxSpec {
  /** Caller-chosen id, `[a-z0-9][a-z0-9_-]{0,62}`, unique on the host. */
  id: string;
  template: TemplateInfo;
  /** The main process. The sandbox lives as long as it does. */
  process: ProcessSpec;
  limits: ResourceLimits;
  /** Wall-clock limit from start() to the main process's end; 0 for none. */
  timeoutMs: number;
  /** Cap on captured bytes per stream (stdout, stderr) of every process; the excess is dropped. */
  outputLimitBytes: number;
  /** Bytes written to the main process's stdin, then closed. Undefined: stdin is empty. */
  stdin?: Buffer;
  /** Time between SIGTERM and SIGKILL when the sandbox is killed or times out. */
  killGraceMs: number;
  /** Called for every output chunk of the main process, as produced. */
  onOutput?: (chunk: OutputChunk) => void;
  /**
   * Its network (network/): an interface on the node's bridge with this egress policy (a warm
   * pool's sandbox boots with its pool's, by default `none`, and takes its caller's when handed
   * out). Absent: loopback only, for good.
   */
  network?: { egress: Egress; group?: string };
  /** A tar of a writable layer (a filesystem snapshot) the sandbox's layer starts from. */
  seed?: string;
  /** Hibernate once idle this long, ms (drivers with `hibernate()`). */
  hibernateAfterMs?: number;
}

/** Why a process ended. */
export type ExitReason = 'exited' | 'killed' | 'timeout' | 'oom' | 'error';

/** How a process ended; a non-zero exit is data, not an exception. */
export interface ProcessResult {
  /** Exit code, or 128+N after signal N; null if the process never ran. */
  exitCode: number | null;
  reason: ExitReason;
  /** Set when reason is `error` (and may be for others): what went wrong. */
  message?: string;
  /**
   * Captured output: at most the spec's `outputLimitBytes` of each stream, followed, when the
   * stream went past it (`*Truncated`), by one marker line saying where it was cut.
   */
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  startedAtMs: number;
  finishedAtMs: number;
  durationMs: number;
}

/** A process to start in a running sandbox. Unset fields take the sandbox's main process values. */
export interface ExecOptions {
  argv: string[];
  /** Merged over the main process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Wall-clock limit of this exec; 0 for none. Default 0. */
  timeoutMs?: number;
  /** Keep stdin open for `ExecHandle.writeStdin`. Default false (stdin is empty). */
  stdin?: boolean;
  onOutput?: (chunk: OutputChunk) => void;
  signal?: AbortSignal;
}

/** A process started by `exec()`. */
export interface ExecHandle {
  /** Writes to the process's stdin (requires `stdin: true`). */
  writeStdin(data: Buffer | string): Promise<void>;
  /** Closes the process's stdin. Idempotent. */
  closeStdin(): Promise<void>;
  /** Sends a signal to the process. No-op once it ended. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when the process ends. */
  wait(): Promise<ProcessResult>;
}

/** A file or directory inside a sandbox. */
export interface FileEntry {
  name: string;
  /** Absolute path inside the sandbox. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  sizeBytes: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  modifiedAtMs: number;
}

/** File access inside a running sandbox, confined to its root. */
export interface SandboxFiles {
  read(path: string, signal?: AbortSignal): Promise<Buffer>;
  /** Creates or replaces the file (parent directories are created). Mode default 0o644. */
  write(path: string, data: Buffer | string, options?: { mode?: number; signal?: AbortSignal }): Promise<void>;
  list(path: string, signal?: AbortSignal): Promise<FileEntry[]>;
  /** Removes a file, or a directory with `recursive`. Missing path: NotFoundError. */
  remove(path: string, options?: { recursive?: boolean; signal?: AbortSignal }): Promise<void>;
}

/** Resource use of a sandbox at one moment. */
export interface SandboxStats {
  cpuUsageNs: number;
  memoryBytes: number;
  pids: number;
}

/** Lifecycle of a sandbox as seen by its driver. */
export type SandboxState = 'created' | 'running' | 'paused' | 'exited' | 'destroyed';

/** What `list()` reports about a sandbox found on the host. */
export interface SandboxInfo {
  id: string;
  runtime: RuntimeName;
  /** `running`/`paused`: adoptable; `exited`/`created`: only destroy() is useful. */
  state: SandboxState;
  /** Hibernated (its memory saved, no process running on the host): adoptable, woken on first use. */
  hibernated?: boolean;
}

/** A live sandbox. Dispose with `destroy()`. */
export interface SandboxHandle {
  readonly id: string;
  readonly runtime: RuntimeName;
  state(): SandboxState;

  // -- lifecycle of the main process --
  /** Starts the main process; the timeout clock starts now. */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves when the main process ends (for any reason). Safe to call many times. */
  wait(): Promise<ProcessResult>;
  /**
   * Stops the sandbox: `signal` (default SIGTERM) to the main process, then SIGKILL to everything
   * after `graceMs` (default: the spec's killGraceMs). The result's reason is `killed`. Idempotent.
   */
  kill(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;

  // -- warm pools (optional: a driver without them is never pooled) --
  /**
   * Boots the sandbox without its main process (its init and agent run, the state stays
   * `created`), so that a later `start()` only starts the process. Throws when it does not boot.
   */
  boot?(signal?: AbortSignal): Promise<void>;
  /**
   * Gives a booted, unstarted sandbox a caller's spec before `start()`: process, timeout, output
   * handling, stdin. The template and limits must be the ones it was created with. With
   * `idleMain` (the main process is the template's idle one, not the caller's) a network policy
   * that only widens may still be going in when it returns: every process of the caller's (an
   * exec) waits for it.
   */
  assign?(spec: SandboxSpec, options?: { idleMain?: boolean }): Promise<void>;

  // -- deadline --
  /**
   * The sandbox ends itself at `atMs` (ms since the epoch) even if no host process is there
   * then: SIGTERM to the workload, SIGKILL to all after the grace. It moves with each call; the
   * caller's own timer should act first (the sandbox's comes a margin later). Optional.
   */
  setDeadline?(atMs: number): Promise<void>;

  // -- working inside --
  /** Starts another process inside the running sandbox. */
  exec(options: ExecOptions): Promise<ExecHandle>;
  readonly files: SandboxFiles;

  // -- suspension --
  /**
   * Replaces the policy of a sandbox that has a network (created with an egress other than
   * `none`); open connections are held to the new policy at once. Optional: a driver without
   * networks has none.
   */
  setEgress?(egress: Egress): Promise<void>;
  /**
   * Writes the files the sandbox changed (its writable layer, with deletions) to `path` as a tar,
   * while it runs or is paused: a filesystem snapshot, for `SandboxOptions.seed`. Not every
   * driver has it (microVMs do not yet). The sandbox is frozen meanwhile; past `maxBytes` it
   * stops with QuotaExceededError.
   */
  snapshotFiles?(path: string, options?: { maxBytes?: number }): Promise<{ sizeBytes: number }>;

  /**
   * Writes the sandbox's memory and files, one moment of both, to `path` (≤ `maxBytes`, else
   * QuotaExceeded): a sandbox seeded from it goes on from that moment, processes included.
   * Optional: drivers that can save a sandbox's memory (microVMs without a network).
   */
  snapshotMemory?(path: string, options?: { maxBytes?: number }): Promise<{ sizeBytes: number }>;

  // -- hibernation (optional: drivers that can save a sandbox's memory) --
  /**
   * Saves the whole sandbox (memory, processes) and frees its memory and CPU; it keeps its files,
   * network and id. Exec, files and `kill()` wake it first; `stats()` does not. Refused
   * (ConflictError) while a command other than the main process runs.
   */
  hibernate?(): Promise<{ stateBytes: number }>;
  /** Starts a hibernated sandbox again where it was. */
  wake?(): Promise<void>;
  /** Whether it is hibernated now. */
  readonly hibernated?: boolean;
  /** Calls `fn` after each hibernation (true: on its own once idle, or asked) and wake (false). */
  onHibernation?(fn: (hibernated: boolean) => void): void;
  /** Marks the sandbox busy (never hibernated for idleness) until the returned function is called. */
  hold?(): () => void;
  /** The sandbox's address on the node's bridge, when it has a network. */
  address?(): Promise<string | undefined>;

  /** Freezes every process of the sandbox (timeout clock keeps running). */
  pause(): Promise<void>;
  resume(): Promise<void>;

  // -- observation --
  stats(): Promise<SandboxStats>;

  // -- disposal --
  /** Kills whatever still runs and removes every host object of the sandbox. Idempotent, safe after a crash. */
  destroy(): Promise<void>;
}

/** Result of probing whether a driver can run here. */
export type Availability = { ok: true; detail?: string } | { ok: false; reason: string };

/** An isolation backend. */
export interface Driver {
  readonly name: RuntimeName;
  /** Whether this driver's tools and hardware work on this machine; never throws. */
  available(): Promise<Availability>;
  /** Creates the sandbox (filesystem, cgroup, runtime object) without starting its main process. */
  create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle>;
  /** Every sandbox of this driver found on the host, including ones created before a restart. */
  list(): Promise<SandboxInfo[]>;
  /** Re-attaches to a running or paused sandbox found by `list()`. */
  adopt(id: string): Promise<SandboxHandle>;
  /** Removes every host object of a sandbox by id (for orphans never adopted). Idempotent. */
  destroy(id: string): Promise<void>;
  /** Ends what the driver keeps ahead of need (a waiting runtime process); sandboxes are untouched. Optional. */
  close?(): void;
}
