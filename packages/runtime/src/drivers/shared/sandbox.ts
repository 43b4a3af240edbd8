/**
 * A sandbox of an OCI runtime (runc or runsc): the `SandboxHandle` both drivers hand out.
 *
 * The main process runs in the foreground of a `tt-layer … runc run` child (main-process.ts).
 * Kill and timeout are enforced from the host: the signal, then `kill --all KILL` after the
 * grace period, then the runtime client's process group as a last resort. An adopted sandbox
 * (after a restart) has no main process child: its end is noticed by watching the container's
 * host pid, and its result says that output and exit status were lost.
 */
import { ConflictError, SandboxNotRunningError } from '@tartarus/core';
import type {
  ExecHandle,
  ExecOptions,
  ProcessResult,
  RuntimeName,
  SandboxFiles,
  SandboxHandle,
  SandboxSpec,
  SandboxState,
  SandboxStats,
} from '../../driver.js';
import type { ProcessHandle } from '../../process/run.js';
import { OutputCapture } from '../../sandbox/capture.js';
import { emptyResult } from '../../sandbox/result.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import { applyCpuLimit, readStats } from '../../cgroups/v1.js';
import type { OciContext, SandboxPaths } from './context.js';
import { startExec, type ExecTarget } from './exec.js';
import { HelperFiles, helperExec } from './files.js';
import { CPU_PERIOD_US } from './oci-spec.js';
import { exists, spawnMain, toResult, waitRunning, type EndedBy } from './main-process.js';
import { removeSandbox } from './teardown.js';
import { signalArg } from './tool.js';

/** How long to wait for a container to die after `kill --all KILL`, ms. */
const KILL_WAIT_MS = 10_000;

/** A sandbox found on the host after a restart. */
export interface Adopted {
  state: 'running' | 'paused';
  /** Host pid of the container's init (runc) or sandbox (runsc). */
  pid: number;
}

/** `SandboxHandle` over runc/runsc. */
export class OciSandbox implements SandboxHandle {
  readonly runtime: RuntimeName;
  readonly files: SandboxFiles;
  private current: SandboxState;
  private main: ProcessHandle | undefined;
  private endedBy: EndedBy;
  private timer: NodeJS.Timeout | undefined;
  private readonly paths: SandboxPaths;
  private readonly ended: Promise<ProcessResult>;
  private finish!: (r: ProcessResult) => void;
  private destroying: Promise<void> | undefined;

  constructor(
    private readonly ctx: OciContext,
    private readonly spec: SandboxSpec,
    private readonly user: ResolvedUser,
    adopted?: Adopted,
  ) {
    this.runtime = ctx.tool.runtime;
    this.paths = ctx.paths(spec.id);
    this.current = adopted ? adopted.state : 'created';
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.files = new HelperFiles((argv, stdin, limit, signal) => this.runHelper(argv, stdin, limit, signal), spec.process.cwd);
    if (adopted) this.watchAdopted(adopted.pid);
  }

  get id(): string {
    return this.spec.id;
  }

  state(): SandboxState {
    return this.current;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'created') throw new ConflictError(`sandbox ${this.id} is ${this.current}: it can be started only once`);
    signal?.throwIfAborted();
    const startedAtMs = Date.now();
    const capture = new OutputCapture(this.spec.outputLimitBytes, this.spec.onOutput);
    const main = spawnMain(this.ctx, this.spec, this.paths, capture);
    this.main = main;
    this.current = 'running';
    if (this.spec.timeoutMs > 0) {
      this.timer = setTimeout(() => void this.terminate('timeout', 'SIGTERM', this.spec.killGraceMs), this.spec.timeoutMs);
    }
    // Whether the container ever ran: waitRunning already answers it (checking the pid file after
    // the process ended when it had not seen it before), so the end needs no second look.
    const runs = waitRunning(this.paths, main).catch(() => exists(this.paths.pidFile));
    void main.wait().then(async (res) => {
      clearTimeout(this.timer);
      if (this.current !== 'destroyed') this.current = 'exited';
      const ran = await runs;
      this.finish(await toResult(this.spec, res, capture, { endedBy: this.endedBy, ran, startedAtMs }));
    });
    const onAbort = (): void => void this.terminate('killed', 'SIGKILL', 0);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const running = await runs;
      if (running && this.ctx.tool.ownCgroups) {
        // The container may already be gone (a short command): then there is nothing to limit.
        await applyCpuLimit(this.id, this.spec.limits.cpu, CPU_PERIOD_US).catch(() => undefined);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  wait(): Promise<ProcessResult> {
    return this.ended;
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    await this.terminate('killed', options.signal ?? 'SIGTERM', options.graceMs ?? this.spec.killGraceMs);
  }

  async exec(options: ExecOptions): Promise<ExecHandle> {
    this.requireState('running', 'exec');
    return startExec(this.target(), options, this.spec.outputLimitBytes);
  }

  async pause(): Promise<void> {
    this.requireState('running', 'pause');
    await this.ctx.call(this.ctx.tool.pause(this.ctx.runtimeRoot, this.ctx.containerId(this.id)));
    this.current = 'paused';
  }

  async resume(): Promise<void> {
    this.requireState('paused', 'resume');
    await this.ctx.call(this.ctx.tool.resume(this.ctx.runtimeRoot, this.ctx.containerId(this.id)));
    this.current = 'running';
  }

  async stats(): Promise<SandboxStats> {
    if (this.current === 'destroyed') throw new SandboxNotRunningError(`sandbox ${this.id} is destroyed`);
    return readStats(this.id);
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (this.current === 'running' || this.current === 'paused') await this.terminate('killed', 'SIGKILL', 0);
      clearTimeout(this.timer);
      await this.main?.wait();
      await removeSandbox(this.ctx, this.id);
      if (this.current === 'created') this.finish(emptyResult('killed', 'destroyed before it was started'));
      this.current = 'destroyed';
    })();
    return this.destroying;
  }

  /** Signal, grace, `kill --all KILL`, then the runtime client itself. No-op once ended. */
  private async terminate(by: 'killed' | 'timeout', signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.current !== 'running' && this.current !== 'paused') return;
    this.endedBy ??= by;
    const { tool, runtimeRoot } = this.ctx;
    const cid = this.ctx.containerId(this.id);
    // A frozen task does not die until thawed (cgroup v1 freezer).
    if (this.current === 'paused') await this.ctx.call(tool.resume(runtimeRoot, cid), { allowNonZero: true });
    if (signal !== 'SIGKILL') {
      await this.ctx.call(tool.kill(runtimeRoot, cid, signalArg(signal), false), { allowNonZero: true });
      if (await this.endsWithin(graceMs)) return;
    }
    await this.ctx.call(tool.kill(runtimeRoot, cid, 'KILL', true), { allowNonZero: true });
    if (await this.endsWithin(KILL_WAIT_MS)) return;
    this.main?.kill('SIGKILL');
  }

  private async endsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([this.ended.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private requireState(state: SandboxState, op: string): void {
    if (this.current !== state) {
      throw new SandboxNotRunningError(`cannot ${op} sandbox ${this.id}: it is ${this.current}, not ${state}`);
    }
  }

  private target(): ExecTarget {
    return { ctx: this.ctx, spec: this.spec, user: this.user, paths: this.paths };
  }

  private async runHelper(argv: string[], stdin: Buffer | undefined, limit: number, signal?: AbortSignal): Promise<ProcessResult> {
    this.requireState('running', 'access files of');
    const exec = await startExec(this.target(), helperExec(argv, signal), limit);
    if (stdin) await exec.writeStdin(stdin);
    await exec.closeStdin();
    return exec.wait();
  }

  // After a restart there is no child to wait on: watch the container's host pid instead.
  private watchAdopted(pid: number): void {
    const startedAtMs = Date.now();
    const tick = setInterval(() => {
      try {
        process.kill(pid, 0);
        return;
      } catch {
        clearInterval(tick);
      }
      if (this.current !== 'destroyed') this.current = 'exited';
      const lost = 'adopted after a restart: the main process output and exit status were lost';
      this.finish(emptyResult(this.endedBy ?? 'error', lost, startedAtMs));
    }, 250);
    tick.unref();
  }
}
