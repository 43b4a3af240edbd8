/**
 * A gVisor sandbox: the OCI sandbox, whose memory can also be saved (checkpoint.ts). A memory
 * snapshot checkpoints the sandbox and restores it in place at once (runsc ends a sandbox it
 * checkpoints), so it goes on where it was, its main process and timeout included; a sandbox made
 * from one is restored from it instead of booted. Calls that come meanwhile wait for it
 * (`transition`). Not for a sandbox with a network: its copy would carry its address.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InternalError } from '@tartarus/core';
import { writeFileSync } from 'node:fs';
import type { SandboxSpec } from '../../driver.js';
import type { ResolvedUser } from '../../sandbox/user.js';
import type { OciContext } from '../shared/context.js';
import { BOOT_TIMEOUT_MS, OciSandbox, readMainRecord, type Adopted, type MainRecord } from '../shared/sandbox.js';
import { checkpointSandbox, writeMemorySnapshot, type Checkpoint, type MemoryManifest } from './checkpoint.js';

/** A deadline far off: a restored sandbox without a timeout replaces the one its init had with it, ms. */
const NO_DEADLINE_MS = 10 * 365 * 86_400_000;

/** A sandbox to be started from a memory snapshot (unpacked by the driver). */
export interface Restored {
  checkpoint: Checkpoint;
  manifest: MemoryManifest;
}

/** See the file header. */
export class GvisorSandbox extends OciSandbox {
  constructor(
    ctx: OciContext,
    spec: SandboxSpec,
    user: ResolvedUser,
    agentSecret: string,
    adopted?: Adopted,
    uidBase?: number,
    networkRules?: Promise<void>,
    private restored?: Restored,
  ) {
    super(ctx, spec, user, agentSecret, adopted, uidBase, networkRules);
  }

  /** Boots the sandbox, or restores it from its memory snapshot: its main process goes on, under this sandbox's timeout from now. */
  override async start(signal?: AbortSignal): Promise<void> {
    const restored = this.restored;
    if (!restored) return super.start(signal);
    if (this.current !== 'created' || this.channel) throw new ConflictError(`sandbox ${this.id} is ${this.current}: it can be started only once`);
    signal?.throwIfAborted();
    this.restored = undefined;
    const record = { id: restored.manifest.mainId, startedAtMs: Date.now() };
    try {
      writeFileSync(join(this.paths.dir, 'main.json'), JSON.stringify(record satisfies MainRecord));
      await this.restoreFrom(restored.checkpoint, record);
    } finally {
      await rm(restored.checkpoint.dir, { recursive: true, force: true });
    }
    await this.limitCpu();
  }

  override destroy(): Promise<void> {
    if (this.restored) void rm(this.restored.checkpoint.dir, { recursive: true, force: true });
    return super.destroy();
  }

  /**
   * Writes the sandbox's memory and files, one moment of both, to `path` (≤ `maxBytes`): a sandbox
   * made from it goes on from that moment. The sandbox stops for the checkpoint and goes on after.
   */
  snapshotMemory(path: string, options: { maxBytes?: number } = {}): Promise<{ sizeBytes: number }> {
    if (this.spec.network) {
      return Promise.reject(new ConflictError(`sandbox ${this.id} has a network: its memory snapshot would carry its address into the copy; take a files snapshot, or snapshot a sandbox created with egress "none"`));
    }
    return this.step(async () => {
      this.requireState('running', 'snapshot the memory of');
      const agent = this.channel?.agent;
      const main = this.main;
      if (!agent?.isOpen || !main || main.done) throw new ConflictError(`sandbox ${this.id} has no main process running: its memory cannot be snapshotted`);
      const busy = agent.processCount - 1;
      if (busy > 0) throw new ConflictError(`sandbox ${this.id} has ${busy} command(s) running: its memory can be snapshotted once they end`);
      const record = readMainRecord(this.paths.dir) ?? { id: main.id, startedAtMs: Date.now() };
      const checkpoint = await this.checkpoint();
      try {
        await this.restoreFrom(checkpoint, record);
        const manifest = { mainId: record.id, agentSecret: this.agentSecret };
        return { sizeBytes: await writeMemorySnapshot(checkpoint, manifest, path, options.maxBytes ?? Number.MAX_SAFE_INTEGER) };
      } finally {
        await rm(checkpoint.dir, { recursive: true, force: true });
      }
    });
  }

  /** Runs `fn` after the checkpoint or restore under way; calls made meanwhile wait for it. */
  private step<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.transition.then(fn);
    this.transition = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Checkpoints the running sandbox: its runtime process ends, but not the sandbox. */
  private async checkpoint(): Promise<Checkpoint> {
    const old = this.channel;
    if (!old) throw new ConflictError(`sandbox ${this.id} has no runtime process to checkpoint`);
    this.replacing = old;
    try {
      return await checkpointSandbox(this.ctx, this.paths, this.id, old.proc.wait(), this.uidBase);
    } catch (err) {
      // Not checkpointed: the sandbox runs on, unless its runtime ended meanwhile (then so did it).
      this.replacing = undefined;
      const ended = this.replacedExit;
      this.replacedExit = undefined;
      if (ended) await this.onRuntimeExit(ended.res, ended.ran);
      throw err;
    }
  }

  /**
   * Starts the runtime from `checkpoint` in this sandbox's place and reaches the main process
   * `record` again. A restore that fails ends the sandbox, with runsc's words.
   */
  private async restoreFrom(checkpoint: Checkpoint, record: MainRecord): Promise<void> {
    const { runtimeRoot } = this.paths;
    // The checkpointed container's state, and its pid file, go: the restored one takes its name.
    await this.ctx.call(this.ctx.tool.delete(runtimeRoot, this.ctx.containerId(this.id)), { allowNonZero: true });
    await rm(this.paths.pidFile, { force: true });
    clearInterval(this.adoptedTick);
    const channel = this.spawn(checkpoint);
    this.replacing = undefined;
    this.replacedExit = undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), BOOT_TIMEOUT_MS)));
    const outcome = await Promise.race([channel.agent.ready, channel.agent.closed, late]);
    clearTimeout(timer);
    if (outcome === 'late' || !channel.agent.isOpen) {
      channel.proc.kill('SIGKILL');
      const said = (await channel.proc.wait()).stderr.toString('utf8').trim().split('\n').slice(-3).join('\n');
      throw new InternalError(`sandbox ${this.id} could not be restored from its checkpoint: ${outcome === 'late' ? 'its init did not answer' : said || 'its runtime exited'}`);
    }
    this.current = 'running';
    this.attachMain(channel.agent, record, (r) => void this.onMainExit(r));
    // The init's deadline is the one it had: replaced by this sandbox's.
    const left = this.spec.timeoutMs > 0 ? Math.max(1, record.startedAtMs + this.spec.timeoutMs - Date.now()) : NO_DEADLINE_MS;
    this.sendDeadline(channel.agent, left);
  }
}
