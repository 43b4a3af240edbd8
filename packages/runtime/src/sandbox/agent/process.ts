/**
 * A process inside a sandbox (the main process or an exec), seen from the host: its frames from
 * the agent become output chunks and a `ProcessResult`; stdin, signals, the wall-clock timeout
 * and kill-with-grace go back as frames. The timeout runs on the host: an agent that stops
 * answering is still ended, by the sandbox ending its VM or container.
 */
import { constants } from 'node:os';
import type { ExecHandle, ExitReason, OutputChunk, ProcessResult } from '../../driver.js';
import { OutputCapture } from '../capture.js';
import type { AgentClient } from './client.js';
import {
  decodeError,
  decodeExit,
  encodeExec,
  Msg,
  PayloadWriter,
  type ExecRequest,
  type Frame,
} from './protocol.js';

/** Host-side settings of one guest process. */
export interface AgentProcessOptions {
  outputLimitBytes: number;
  onOutput?: ((chunk: OutputChunk) => void) | undefined;
  /** Wall-clock limit, ms; 0 for none. */
  timeoutMs: number;
  /** SIGTERM → SIGKILL delay on timeout or abort, ms. */
  killGraceMs: number;
  signal?: AbortSignal | undefined;
  /** The message of a process whose connection closed under it (default: the sandbox stopped). */
  closedMessage?: string | undefined;
}

const STDIN_CHUNK = 256 * 1024;

/** See the file header. */
export class AgentProcess implements ExecHandle {
  /** Resolves once the agent started the process (or failed to). */
  readonly started: Promise<void>;
  private readonly result: Promise<ProcessResult>;
  private readonly capture: OutputCapture;
  /** The agent's id of the process (stored so that an adopter can re-attach). */
  readonly id: number;
  private endedBy: 'killed' | 'timeout' | undefined;
  private ended = false;
  private stdinClosed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAtMs = Date.now();
  private program: string | undefined;
  private closedFirst = false;
  private settleStarted!: () => void;
  private settle!: (r: ProcessResult) => void;

  /** Starts `req`, or with a number re-attaches to the running process of that id (after adopt()). */
  constructor(
    private readonly agent: AgentClient,
    req: ExecRequest | number,
    private readonly o: AgentProcessOptions,
  ) {
    this.capture = new OutputCapture(o.outputLimitBytes, o.onOutput);
    this.started = new Promise((r) => (this.settleStarted = r));
    this.result = new Promise((r) => (this.settle = r));
    const listener = { frame: (f: Frame) => this.onFrame(f), closed: () => this.onClosed() };
    if (typeof req === 'number') {
      this.id = req;
      agent.attach(req, listener);
      this.settleStarted();
      // The process may have ended while no host was connected: the guest then sends its EXIT now, or ENOENT.
      agent.send(Msg.attach, req);
    } else {
      this.program = req.argv[0];
      this.id = agent.exec(encodeExec(req), listener);
    }
    if (o.timeoutMs > 0) this.timers.push(setTimeout(() => void this.stop('timeout'), o.timeoutMs));
    const onAbort = (): void => void this.stop('killed');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    void this.result.then(() => o.signal?.removeEventListener('abort', onAbort));
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case Msg.started:
        this.settleStarted();
        break;
      case Msg.stdout:
      case Msg.stderr:
        this.capture.push(f.type === Msg.stdout ? 'stdout' : 'stderr', f.payload);
        break;
      case Msg.exit: {
        const e = decodeExit(f.payload);
        let reason: ExitReason = this.endedBy ?? 'exited';
        if (!this.endedBy && e.oom) reason = 'oom';
        const message =
          reason === 'oom'
            ? 'killed by the out-of-memory killer: the sandbox reached its memory limit'
            : undefined;
        this.finish(reason, e.exitCode, message);
        break;
      }
      case Msg.error: {
        const message = decodeError(f.payload).message;
        this.finish('error', null, this.program ? `cannot start ${this.program}: ${message}` : message);
        break;
      }
    }
  }

  /** True when the connection closed before the agent reported the process's end. */
  get lostConnection(): boolean {
    return this.closedFirst;
  }

  private onClosed(): void {
    if (!this.ended) this.closedFirst = true;
    // The sandbox went away under the process: expected after a kill/timeout, a failure otherwise.
    if (this.endedBy) this.finish(this.endedBy, 137);
    else this.finish('error', null, this.o.closedMessage ?? 'the sandbox stopped while the process ran');
  }

  private finish(reason: ExitReason, exitCode: number | null, message?: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.settleStarted();
    const finishedAtMs = Date.now();
    this.settle({
      exitCode,
      reason,
      ...(message ? { message } : {}),
      ...this.capture.result(),
      startedAtMs: this.startedAtMs,
      finishedAtMs,
      durationMs: finishedAtMs - this.startedAtMs,
    });
  }

  get done(): boolean {
    return this.ended;
  }

  async writeStdin(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.stdinClosed || this.ended) return;
    for (let off = 0; off < buf.length; off += STDIN_CHUNK)
      this.agent.send(Msg.stdin, this.id, buf.subarray(off, off + STDIN_CHUNK));
  }

  async closeStdin(): Promise<void> {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.agent.send(Msg.stdin, this.id, Buffer.alloc(0));
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.ended) this.endedBy ??= 'killed';
    this.signal(signal, false);
  }

  /** Sends `signal` to the process's group; `tree` with SIGKILL also kills everything it started. */
  signal(signal: NodeJS.Signals, tree: boolean): void {
    if (this.ended) return;
    this.agent.send(
      Msg.signal,
      this.id,
      new PayloadWriter()
        .u32(constants.signals[signal] ?? 15)
        .u8(tree ? 1 : 0)
        .build(),
    );
  }

  /**
   * Ends the process for `reason`: `signal` now, SIGKILL to its whole tree after `graceMs`. With
   * `wholeSandbox` (a main process; the agent client to send it) the init gives every process of
   * the sandbox SIGTERM instead and holds the main's exit until they are gone (`Msg.terminate`);
   * an init that does not know it answers with an error, and the main gets `signal` alone.
   */
  stop(
    reason: 'killed' | 'timeout',
    signal: NodeJS.Signals = 'SIGTERM',
    graceMs = this.o.killGraceMs,
    wholeSandbox = false,
  ): Promise<ProcessResult> {
    if (!this.ended && !this.endedBy) {
      // Set before anything is sent: an exit that comes back is this stop's.
      this.endedBy = reason;
      if (signal === 'SIGKILL' || graceMs <= 0) this.signal('SIGKILL', true);
      else {
        if (wholeSandbox && signal === 'SIGTERM') {
          this.agent.request(Msg.terminate, new PayloadWriter().u64(graceMs).build()).catch(() => this.signal(signal, false));
        } else this.signal(signal, false);
        this.timers.push(setTimeout(() => this.signal('SIGKILL', true), graceMs));
      }
    }
    return this.result;
  }

  wait(): Promise<ProcessResult> {
    return this.result;
  }
}
