/**
 * Runs attempts the server leased to this node: create the sandbox with the run's command,
 * confirm the start, stream output, report the result, destroy the sandbox. The server fences by
 * epoch; `cancelRun` (or a stale report answered with it) stops the attempt.
 */
import { TartarusError, type ServerMessage } from '@tartarus/core';
import type { SandboxHandle } from '@tartarus/runtime';
import type { Link } from './link.js';
import { TextOutput } from './output.js';
import type { AgentRuntime } from './runtime-port.js';

type StartRun = Extract<ServerMessage, { type: 'startRun' }>;

interface Attempt {
  runId: string;
  epoch: number;
  sandboxId: string;
  runtime: string;
  handle?: SandboxHandle;
  cancelled: boolean;
  abort: AbortController;
}

/** The attempts running on this node. */
export class RunSupervisor {
  private readonly attempts = new Map<string, Attempt>();

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly link: () => Link,
  ) {}

  /** `{runId, epoch}` of every attempt in progress (heartbeat). */
  active(): { runId: string; epoch: number; sandboxId: string }[] {
    return [...this.attempts.values()].map(({ runId, epoch, sandboxId }) => ({
      runId,
      epoch,
      sandboxId,
    }));
  }

  /** Whether `sandboxId` belongs to an attempt in progress. */
  owns(sandboxId: string): boolean {
    return [...this.attempts.values()].some((a) => a.sandboxId === sandboxId);
  }

  /** Stops an attempt (cancelled or no longer ours). No-op for another epoch. */
  cancel(runId: string, epoch: number): void {
    const a = this.attempts.get(runId);
    if (!a || a.epoch !== epoch) return;
    a.cancelled = true;
    a.abort.abort();
    void a.handle?.kill({ graceMs: 1000 }).catch(() => undefined);
  }

  /** Starts an attempt; reports its outcome over the link. */
  start(msg: StartRun): void {
    const prior = this.attempts.get(msg.runId);
    if (prior) this.cancel(prior.runId, prior.epoch);
    const a: Attempt = {
      runId: msg.runId,
      epoch: msg.epoch,
      sandboxId: msg.spec.sandboxId,
      runtime: msg.spec.runtime,
      cancelled: false,
      abort: new AbortController(),
    };
    this.attempts.set(msg.runId, a);
    void this.execute(a, msg).finally(() => {
      if (this.attempts.get(msg.runId) === a) this.attempts.delete(msg.runId);
    });
  }

  private async execute(a: Attempt, msg: StartRun): Promise<void> {
    const { spec } = msg;
    let seq = 0;
    const out = new TextOutput((stream, data, timeMs) =>
      this.link().send({
        type: 'output',
        runId: a.runId,
        epoch: a.epoch,
        stream,
        data,
        timeMs,
        seq: ++seq,
      }),
    );
    try {
      a.handle = await this.runtime.createAndStart(
        {
          id: spec.sandboxId,
          runtime: spec.runtime,
          template: spec.template,
          command: spec.argv ?? spec.command ?? [],
          env: spec.env,
          ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
          ...(spec.user === undefined ? {} : { user: spec.user }),
          ...(spec.stdin === undefined ? {} : { stdin: Buffer.from(spec.stdin, 'base64') }),
          limits: spec.limits,
          timeoutMs: spec.timeoutMs,
          onOutput: (c) => out.push(c),
        },
        a.abort.signal,
      );
    } catch (err) {
      const invalid =
        err instanceof TartarusError &&
        (err.code === 'invalid_argument' || err.code === 'runtime_unavailable');
      this.link().send({
        type: 'runFailed',
        runId: a.runId,
        epoch: a.epoch,
        reason: 'start_failed',
        message: err instanceof Error ? err.message : String(err),
        // A bad template or missing runtime will not fix itself on retry.
        retryable: !invalid,
      });
      await this.runtime
        .destroy({ id: spec.sandboxId, runtime: spec.runtime as never, state: 'destroyed' })
        .catch(() => undefined);
      return;
    }
    this.link().send({
      type: 'runStarted',
      runId: a.runId,
      epoch: a.epoch,
      sandboxId: spec.sandboxId,
    });
    if (a.cancelled) await a.handle.kill({ graceMs: 1000 }).catch(() => undefined);
    const r = await a.handle.wait();
    out.flush();
    this.link().send({
      type: 'runFinished',
      runId: a.runId,
      epoch: a.epoch,
      result: {
        exitCode: r.exitCode,
        reason: r.reason,
        ...(r.message === undefined ? {} : { message: r.message }),
        // Output already went out as `output` messages; the result carries only the flags.
        stdout: '',
        stderr: '',
        stdoutTruncated: r.stdoutTruncated,
        stderrTruncated: r.stderrTruncated,
        startedAtMs: r.startedAtMs,
        finishedAtMs: r.finishedAtMs,
        durationMs: r.durationMs,
      },
    });
    await a.handle.destroy().catch(() => undefined);
  }
}
