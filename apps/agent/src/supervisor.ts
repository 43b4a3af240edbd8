/**
 * The one supervisor of every piece of work on this node, whatever its kind: it creates the
 * sandbox from the compiled spec, reports `started`, streams a run's output, enforces a sandbox's
 * timeout locally (even while the server is away), reports `finished` when the main process ends
 * and destroys the sandbox. The spec's lifecycle is the only difference: `once` ends with its main
 * process; `until-timeout` lives until killed or timed out. The server fences reports by epoch;
 * `stop` (or a stale report answered with it) stops the work.
 */
import { SandboxNotRunningError, TartarusError, type SandboxUsageNow, type ServerMessage } from '@tartarus/core';
import type { SandboxHandle, SandboxInfo } from '@tartarus/runtime';
import type { Link } from './link.js';
import { TextOutput } from './output.js';
import type { AgentRuntime } from './runtime-port.js';
import type { UsageMeters } from './usage-meter.js';
import type { AgentMetrics } from './metrics.js';

/** The grace between SIGTERM and SIGKILL of a kill that names none, ms. */
const DEFAULT_GRACE_MS = 1000;

type StartMessage = Extract<ServerMessage, { type: 'start' }>;

interface Work {
  workId: string;
  epoch: number;
  sandboxId: string;
  /** Its runtime (from the spec, or the adopted sandbox's). */
  runtime: string;
  /** Absent for a sandbox adopted after a restart (its spec stayed with the server). */
  start?: StartMessage;
  handle?: SandboxHandle;
  abort: AbortController;
  /** Why the agent ended it, when it did: the report says so instead of the raw `killed`. */
  endedBy?: 'timeout' | 'stop';
  /** What the server said of its kill (a termination's reason): the report's message. */
  stopMessage?: string;
  timer?: NodeJS.Timeout;
  /** Settles once the sandbox is destroyed. */
  done?: Promise<void>;
}

/** What the server must not confuse with a transient failure: it will not fix itself on retry. */
function permanent(err: unknown): boolean {
  return (
    err instanceof TartarusError &&
    (err.code === 'invalid_argument' || err.code === 'runtime_unavailable')
  );
}

/** The work running on this node. */
export class Supervisor {
  private readonly work = new Map<string, Work>();
  private detached = false;
  /** Sandboxes being destroyed now (also after `detach`): `settled()` waits for them. */
  private readonly destroying = new Set<Promise<unknown>>();

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly link: () => Link,
    private readonly meters: UsageMeters,
    private readonly metrics: AgentMetrics,
  ) {}

  /** Sandboxes of the work here, by runtime (a metric). */
  byRuntime(): Map<string, number> {
    const n = new Map<string, number>();
    for (const w of this.work.values()) n.set(w.runtime, (n.get(w.runtime) ?? 0) + 1);
    return n;
  }

  /** Work in progress: `{workId, epoch, sandboxId}` (hello inventory, heartbeats). */
  active(): { workId: string; epoch: number; sandboxId: string }[] {
    return [...this.work.values()].map(({ workId, epoch, sandboxId }) => ({
      workId,
      epoch,
      sandboxId,
    }));
  }

  /** What the work here reserves and how many sandboxes it holds (heartbeat `used`). */
  used(): { cpu: number; memoryMiB: number; diskMiB: number; slots: number } {
    const u = { cpu: 0, memoryMiB: 0, diskMiB: 0, slots: this.work.size };
    for (const w of this.work.values()) {
      const r = w.start?.spec.requests;
      if (r === undefined) continue;
      u.cpu += r.cpu;
      u.memoryMiB += r.memoryMiB;
      u.diskMiB += r.diskMiB;
    }
    return u;
  }

  /** Whether `sandboxId` belongs to work in progress. */
  owns(sandboxId: string): boolean {
    return this.bySandbox(sandboxId) !== undefined;
  }

  private bySandbox(sandboxId: string): Work | undefined {
    for (const w of this.work.values()) if (w.sandboxId === sandboxId) return w;
    return undefined;
  }

  /** The handle of a running sandbox held here; 409 when this node does not hold it. */
  sandbox(sandboxId: string): SandboxHandle {
    const h = this.bySandbox(sandboxId)?.handle;
    if (h === undefined)
      throw new SandboxNotRunningError(`sandbox ${sandboxId} is not running on this node`);
    return h;
  }

  /**
   * What the given sandboxes use now, from their usage meters: CPU as a share of the sandbox's
   * CPU limit (of one core when its spec is not known here: adopted after a restart), memory of
   * its memory limit (null then). Sandboxes not held here or not sampled yet are left out.
   */
  async usageNow(sandboxIds: string[]): Promise<SandboxUsageNow[]> {
    const out: SandboxUsageNow[] = [];
    for (const sandboxId of new Set(sandboxIds)) {
      const w = this.bySandbox(sandboxId);
      const now = w === undefined ? undefined : await this.meters.current(w.workId);
      if (w === undefined || now === undefined) continue;
      const limits = w.start?.spec.limits;
      out.push({
        sandboxId,
        cpuCores: now.cpuCores,
        cpuPercent: (now.cpuCores / (limits?.cpu ?? 1)) * 100,
        memoryBytes: now.memoryBytes,
        memoryPercent: limits === undefined ? null : (now.memoryBytes / (limits.memoryMiB * 1024 * 1024)) * 100,
        windowMs: now.windowMs,
      });
    }
    return out;
  }

  /** Starts work; reports its progress over the link. A restart of the same work replaces it. */
  start(msg: StartMessage): void {
    const prior = this.work.get(msg.workId);
    if (prior) this.stop(prior.workId, prior.epoch);
    const w: Work = {
      workId: msg.workId,
      epoch: msg.epoch,
      sandboxId: msg.sandboxId,
      runtime: msg.spec.runtime,
      start: msg,
      abort: new AbortController(),
    };
    this.work.set(msg.workId, w);
    w.done = this.execute(w, msg).finally(() => this.forget(w));
  }

  /** Re-attaches to a sandbox found after a restart that the server wants kept. */
  async adopt(info: SandboxInfo): Promise<void> {
    if (this.work.has(info.id)) return;
    const w: Work = { workId: info.id, epoch: 0, sandboxId: info.id, runtime: info.runtime, abort: new AbortController() };
    w.handle = await this.runtime.adopt(info);
    this.work.set(info.id, w);
    this.meter(w, w.handle, w.runtime, true);
    this.reportHibernation(w, w.handle);
    w.done = this.finish(w, w.handle).finally(() => this.forget(w));
  }

  /** Stops work (cancelled, killed, or no longer ours), giving it `graceMs` after SIGTERM. No-op for another epoch. */
  stop(workId: string, epoch: number, graceMs = DEFAULT_GRACE_MS): void {
    const w = this.work.get(workId);
    if (!w || w.epoch !== epoch) return;
    w.endedBy ??= 'stop';
    w.abort.abort();
    void w.handle?.kill({ graceMs }).catch(() => undefined);
  }

  /** Kills a sandbox (SIGTERM, SIGKILL `graceMs` later) and waits until it is destroyed; `message` goes in its report. Idempotent. */
  async kill(sandboxId: string, graceMs?: number, message?: string): Promise<void> {
    const w = this.bySandbox(sandboxId);
    if (!w) return;
    if (message !== undefined && w.endedBy === undefined) w.stopMessage = message;
    this.stop(w.workId, w.epoch, graceMs);
    await w.done;
  }

  /**
   * Kills the sandbox at `timeoutAtMs` (local enforcement of a sandbox's timeout); the sandbox
   * itself holds the same deadline (plus a margin), so it ends on time even with no agent.
   */
  setTimeout(sandboxId: string, timeoutAtMs: number): void {
    const w = this.bySandbox(sandboxId);
    if (!w) throw new SandboxNotRunningError(`sandbox ${sandboxId} is not on this node`);
    w.handle?.setDeadline?.(timeoutAtMs).catch(() => undefined);
    clearTimeout(w.timer);
    w.timer = setTimeout(
      () => {
        w.endedBy = 'timeout';
        void w.handle?.kill({ graceMs: 1000 }).catch(() => undefined);
      },
      Math.max(0, timeoutAtMs - Date.now()),
    );
    w.timer.unref();
  }

  /** Stops timers (agent shutting down; the sandboxes keep running for re-adoption). */
  detach(): void {
    this.detached = true;
    this.meters.stop();
    for (const w of this.work.values()) clearTimeout(w.timer);
    this.work.clear();
  }

  private forget(w: Work): void {
    clearTimeout(w.timer);
    if (this.work.get(w.workId) === w) this.work.delete(w.workId);
  }

  private async execute(w: Work, msg: StartMessage): Promise<void> {
    const once = msg.spec.lifecycle === 'once';
    let seq = 0;
    const out = new TextOutput((stream, data, timeMs) =>
      this.link().send({ type: 'output', workId: w.workId, epoch: w.epoch, stream, data, timeMs, seq: ++seq }),
    );
    let templateReadyAtMs: number | undefined;
    const launchedAt = performance.now();
    try {
      w.handle = await this.runtime.createAndStart(
        {
          sandboxId: w.sandboxId,
          spec: msg.spec,
          ...(msg.registryAuth ? { registryAuth: msg.registryAuth } : {}),
          ...(once ? { onOutput: (c) => out.push(c) } : {}),
          onTemplateReady: () => (templateReadyAtMs = Date.now()),
        },
        w.abort.signal,
      );
    } catch (err) {
      this.metrics.startFailures.inc({ runtime: w.runtime, code: err instanceof TartarusError ? err.code : 'internal' });
      this.link().send({
        type: 'failed',
        workId: w.workId,
        epoch: w.epoch,
        reason: 'start_failed',
        code: err instanceof TartarusError ? err.code : 'internal',
        message: err instanceof Error ? err.message : String(err),
        retryable: !permanent(err),
      });
      await this.track(this.runtime.destroy({ id: w.sandboxId, runtime: msg.spec.runtime, state: 'destroyed' }));
      this.cleaned(w);
      return;
    }
    this.link().send({
      type: 'started',
      workId: w.workId,
      epoch: w.epoch,
      sandboxId: w.sandboxId,
      ...(templateReadyAtMs === undefined ? {} : { templateReadyAtMs }),
      startedAtMs: Date.now(),
    });
    this.metrics.launch.observe({ runtime: w.runtime }, (performance.now() - launchedAt) / 1000);
    this.meter(w, w.handle, w.runtime, false);
    this.reportHibernation(w, w.handle);
    if (!once) this.setTimeout(w.sandboxId, Date.now() + msg.spec.timeoutMs);
    if (w.endedBy !== undefined) await w.handle.kill({ graceMs: 1000 }).catch(() => undefined);
    await this.finish(w, w.handle, () => out.flush());
  }

  /** Waits for the main process, reports how it ended, destroys the sandbox. */
  private async finish(w: Work, handle: SandboxHandle, flush?: () => void): Promise<void> {
    const r = await handle.wait();
    // Shutting down: the sandbox stays for the next start to re-adopt; nobody reports here.
    if (this.detached) return;
    flush?.();
    this.link().send({
      type: 'finished',
      workId: w.workId,
      epoch: w.epoch,
      result: {
        exitCode: r.exitCode,
        reason: w.endedBy === 'timeout' ? 'timeout' : r.reason,
        ...(w.stopMessage !== undefined ? { message: w.stopMessage } : r.message === undefined ? {} : { message: r.message }),
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
    // The last sample before the sandbox (and its cgroup) is gone: its final usage report.
    await this.meters.end(w.workId);
    await this.track(handle.destroy());
    this.cleaned(w);
  }

  /** Runs a destroy, known to `settled()` while it lasts; never throws. */
  private async track(destroy: Promise<unknown>): Promise<void> {
    const p = destroy.catch(() => undefined);
    this.destroying.add(p);
    try {
      await p;
    } finally {
      this.destroying.delete(p);
    }
  }

  /**
   * Resolves once the sandboxes being destroyed now are gone (at most `timeoutMs`): a shutdown
   * waits for them before it looks whether the machine still needs its bridge and rules.
   */
  async settled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...this.destroying]), limit]);
    clearTimeout(timer);
  }

  /** Meters `w`'s sandbox until it ends (usage-meter.ts). */
  /** Tells the server each time the sandbox hibernates or wakes (drivers that can). */
  private reportHibernation(w: Work, handle: SandboxHandle): void {
    handle.onHibernation?.((hibernated) => {
      if (this.work.get(w.workId) === w) this.link().send({ type: 'hibernation', workId: w.workId, epoch: w.epoch, hibernated, atMs: Date.now() });
    });
  }

  private meter(w: Work, handle: SandboxHandle, runtime: string, adopted: boolean): void {
    const source = { stats: () => handle.stats(), egressBytes: () => this.runtime.egressBytes(w.sandboxId) };
    this.meters.start({ workId: w.workId, epoch: w.epoch, runtime }, source, adopted);
  }

  /** Reports that `w`'s sandbox is gone from this node (a phase; nothing waits for it). */
  private cleaned(w: Work): void {
    if (this.detached) return;
    this.link().send({ type: 'cleaned', workId: w.workId, epoch: w.epoch, atMs: Date.now() });
  }
}
