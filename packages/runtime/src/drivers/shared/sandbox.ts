/**
 * A sandbox of an OCI runtime (runc or runsc): the `SandboxHandle` both drivers hand out.
 *
 * PID 1 of the container is `tt-init`, the in-sandbox agent (main-process.ts); the workload, its
 * execs and file requests are frames over the runtime process's stdio, so an exec costs a fork
 * in the sandbox, not a `runc exec`. The sandbox ends as soon as the workload has gone: the init
 * exits with it. Kill and timeout: SIGTERM to the workload, SIGKILL to everything after the
 * grace; should the agent not answer, `kill --all KILL` and then the runtime process itself.
 * The init also holds the deadline (timeout plus a margin), so a sandbox ends on time even when
 * no host process watches it. After a restart the sandbox is reached again through
 * `tt-init attach` and the main process's later exit is still reported.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, InternalError, InvalidArgumentError, SandboxNotRunningError, type Egress } from '@tartarus/core';
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
import type { ProcessExit } from '../../process/run.js';
import type { AgentClient } from '../../sandbox/agent/client.js';
import { AgentFiles } from '../../sandbox/agent/files.js';
import { AgentProcess } from '../../sandbox/agent/process.js';
import { Msg, PayloadWriter } from '../../sandbox/agent/protocol.js';
import { snapshotLayer } from './snapshot.js';
import { emptyResult } from '../../sandbox/result.js';
import { resolveUser, type ResolvedUser } from '../../sandbox/user.js';
import { applyCpuLimit, memoryLimitReached, readStats } from '../../cgroups/v1.js';
import type { OciContext, SandboxPaths } from './context.js';
import { CPU_PERIOD_US } from './oci-spec.js';
import { attachChannel, exists, lastLines, spawnMain, waitRunning, type Channel, type RestoreFrom } from './main-process.js';
import { storable, writeStored } from './stored.js';
import { removeSandbox } from './teardown.js';

/** How long to wait for a container to die after `kill --all KILL`, ms. */
const KILL_WAIT_MS = 10_000;
/** Time the agent gets past a kill's grace before the host ends the container itself, ms. */
const BACKSTOP_MS = 3000;
/** How long a warm pool's sandbox may take to boot (its init to answer), ms. */
export const BOOT_TIMEOUT_MS = 30_000;
/** The init's own deadline comes this long after the host's timeout: the host normally acts first. */
const DEADLINE_MARGIN_MS = 2000;

/** A sandbox found on the host after a restart. */
export interface Adopted {
  state: 'running' | 'paused';
  /** Host pid of the container's init (runc) or sandbox (runsc). */
  pid: number;
}

/** What start() records in `main.json`, so that an adopter re-attaches to the main process. */
export interface MainRecord {
  id: number;
  startedAtMs: number;
}

/** `SandboxHandle` over runc/runsc. */
export class OciSandbox implements SandboxHandle {
  readonly runtime: RuntimeName;
  readonly files: SandboxFiles;
  protected current: SandboxState;
  protected channel: Channel | undefined;
  private attaching: Promise<AgentClient> | undefined;
  protected main: AgentProcess | undefined;
  private endedBy: 'killed' | 'timeout' | undefined;
  protected timer: NodeJS.Timeout | undefined;
  protected readonly paths: SandboxPaths;
  private readonly ended: Promise<ProcessResult>;
  private finish!: (r: ProcessResult) => void;
  private destroying: Promise<void> | undefined;
  /** An adopted sandbox's watch on its host pid (a restore from a checkpoint replaces that pid). */
  protected adoptedTick: NodeJS.Timeout | undefined;
  /** The checkpoint or restore under way (one at a time: drivers/gvisor/sandbox.ts); calls wait for it. */
  protected transition: Promise<void> = Promise.resolve();
  /** The runtime process being checkpointed: its end is not the sandbox's. */
  protected replacing: Channel | undefined;
  /** How that process ended, if it did. */
  protected replacedExit: { res: ProcessExit; ran: boolean } | undefined;

  protected runs: Promise<boolean> | undefined;
  /** A handed-out pooled sandbox's policy going in (see `assign`): every process of the caller's waits for it. */
  private egressApplied: Promise<void> | undefined;

  constructor(
    protected readonly ctx: OciContext,
    protected spec: SandboxSpec,
    protected user: ResolvedUser,
    /** What an attaching host presents to the init (given to it first over the inherited pipes). */
    protected readonly agentSecret: string,
    private readonly adopted?: Adopted,
    /** Host id of container uid 0 when the sandbox has its own user namespace. */
    protected readonly uidBase?: number,
    /** Its network's rules being put in (network/sandbox.ts): awaited before its first process runs. */
    private readonly networkRules?: Promise<void>,
  ) {
    this.runtime = ctx.tool.runtime;
    this.paths = ctx.paths(spec.id);
    this.current = adopted ? adopted.state : 'created';
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.files = new AgentFiles(() => {
      this.requireState('running', 'access files of');
      return this.agent();
    }, () => this.spec.process.cwd);
    if (adopted) this.adopt(adopted);
  }

  get id(): string {
    return this.spec.id;
  }

  state(): SandboxState {
    return this.current;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'created' || this.main) throw new ConflictError(`sandbox ${this.id} is ${this.current}: it can be started only once`);
    signal?.throwIfAborted();
    const booted = this.channel !== undefined;
    const channel = this.channel ?? this.spawn();
    // The runtime boots meanwhile; nothing of the caller's runs before the sandbox's rules are in.
    await this.untilNetworkReady();
    this.current = 'running';
    this.startMain(channel.agent);
    if (booted) return;
    const onAbort = (): void => void this.terminate('killed', 'SIGKILL', 0);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.limitCpu();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async boot(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'created' || this.channel) throw new ConflictError(`sandbox ${this.id} is ${this.current}: it can be booted only once`);
    signal?.throwIfAborted();
    const channel = this.spawn();
    await this.untilNetworkReady();
    await this.limitCpu();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), BOOT_TIMEOUT_MS)));
    const outcome = await Promise.race([channel.agent.ready, channel.agent.closed, late]);
    clearTimeout(timer);
    if (outcome === 'late') throw new InternalError(`sandbox ${this.id} did not boot within ${BOOT_TIMEOUT_MS} ms: its init did not answer`);
    if (!channel.agent.isOpen) throw new InternalError(`sandbox ${this.id} did not boot: ${(await this.ended).message ?? 'its runtime exited'}`);
  }

  async assign(spec: SandboxSpec, options: { idleMain?: boolean } = {}): Promise<void> {
    if (this.current !== 'created' || this.main || !this.channel?.agent.isOpen) {
      throw new ConflictError(`sandbox ${this.id} is ${this.current}: only a booted, unstarted sandbox takes a spec`);
    }
    if (!spec.network !== !this.spec.network) {
      throw new ConflictError(`sandbox ${this.id} was booted ${this.spec.network ? 'with' : 'without'} a network: it cannot take a spec ${spec.network ? 'with' : 'without'} one`);
    }
    const user = await resolveUser(spec.template.rootfsPath, spec.process.user);
    // The init learns the user while the record is written (below): no process of the caller's runs before both.
    const told = this.channel.agent.request(Msg.user, new PayloadWriter().u32(user.uid).u32(user.gid).build());
    told.catch(() => undefined);
    // The caller's policy replaces the pool's (unless it is the same) before any process of theirs
    // runs. One that only widens (the pool's was `none`) may go in while an idle main starts (it is
    // not theirs), and their first exec waits for it; one that narrows is in before this returns,
    // so that the sandbox never runs, nor is recorded as running, with more than the caller's.
    if (spec.network && !isDeepStrictEqual(spec.network.egress, this.spec.network?.egress)) {
      this.egressApplied = this.applyEgress(spec.network.egress);
      if (!options.idleMain || this.spec.network?.egress !== 'none') await this.egressApplied;
    }
    this.spec = { ...spec, id: this.spec.id };
    this.user = user;
    await Promise.all([
      told,
      writeStored(this.paths.spec, {
        runtime: this.runtime,
        spec: storable(this.spec),
        user,
        createdAtMs: Date.now(),
        agentSecret: this.agentSecret,
        ...(this.uidBase === undefined ? {} : { uidBase: this.uidBase }),
      }),
    ]);
  }

  /** Puts the handed-out sandbox's policy in; when it cannot be, the sandbox ends (it would reach nothing) and every exec says why. */
  private applyEgress(egress: Egress): Promise<void> {
    const applied = this.ctx
      .networks()
      .setEgress(this.id, egress)
      .catch(async (err: Error) => {
        await this.destroy().catch(() => undefined);
        throw new InternalError(`sandbox ${this.id} was ended: its egress policy could not be put in: ${err.message}`);
      });
    applied.catch(() => undefined);
    return applied;
  }

  /** Waits for the network's rules; when they could not be put in, the booting sandbox is ended and the error thrown. */
  private async untilNetworkReady(): Promise<void> {
    if (!this.networkRules) return;
    try {
      await this.networkRules;
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  /** Starts the runtime process (tt-init as PID 1, or from a checkpoint) and watches for its end. */
  protected spawn(restore?: RestoreFrom): Channel {
    const channel = spawnMain(this.ctx, this.spec, this.paths, this.agentSecret, this.uidBase, restore);
    this.channel = channel;
    const runs = waitRunning(this.paths, channel.proc).catch(() => exists(this.paths.pidFile));
    this.runs = runs;
    void channel.proc.wait().then(async (res) => {
      // One checkpointed for a restore ends without ending the sandbox.
      if (this.replacing === channel) this.replacedExit = { res, ran: await runs };
      else if (this.channel === channel) await this.onRuntimeExit(res, await runs);
    });
    return channel;
  }

  // runsc (ownCgroups): the CPU limit is written once the container runs, so its boot is not throttled.
  protected async limitCpu(): Promise<void> {
    const running = await this.runs;
    if (running && this.ctx.tool.ownCgroups) {
      // The container may already be gone (a short command): then there is nothing to limit.
      await applyCpuLimit(this.id, this.spec.limits.cpu, CPU_PERIOD_US).catch(() => undefined);
    }
  }

  private startMain(agent: AgentClient): AgentProcess {
    const { spec, user } = this;
    const main = new AgentProcess(
      agent,
      { ...spec.process, ...ids(user), stdin: true, main: true, outputLimitBytes: spec.outputLimitBytes },
      { outputLimitBytes: spec.outputLimitBytes, onOutput: spec.onOutput, timeoutMs: 0, killGraceMs: spec.killGraceMs },
    );
    this.main = main;
    // The sandbox's result is known when the init reports the workload's exit: the runtime's own
    // teardown of the container (which follows at once) is not waited for.
    void main.wait().then((r) => {
      if (!main.lostConnection) void this.onMainExit(r);
    });
    writeFileSync(join(this.paths.dir, 'main.json'), JSON.stringify({ id: main.id, startedAtMs: Date.now() } satisfies MainRecord));
    if (spec.stdin?.length) void main.writeStdin(spec.stdin);
    void main.closeStdin();
    if (spec.timeoutMs > 0) {
      this.timer = setTimeout(() => void this.terminate('timeout', 'SIGTERM', spec.killGraceMs), spec.timeoutMs);
      this.sendDeadline(agent, spec.timeoutMs);
    }
    return main;
  }

  /** Tells the init to end the main process at `inMs` (plus a margin) even if no host is there then. */
  protected sendDeadline(agent: AgentClient, inMs: number): void {
    const payload = new PayloadWriter().u64(Math.max(1, inMs + DEADLINE_MARGIN_MS)).u64(this.spec.killGraceMs).build();
    agent.request(Msg.deadline, payload).catch(() => undefined);
  }

  async setDeadline(atMs: number): Promise<void> {
    this.requireState('running', 'set the deadline of');
    const payload = new PayloadWriter().u64(Math.max(1, atMs - Date.now() + DEADLINE_MARGIN_MS)).u64(this.spec.killGraceMs).build();
    await (await this.agent()).request(Msg.deadline, payload);
  }

  protected async onMainExit(r: ProcessResult): Promise<void> {
    clearTimeout(this.timer);
    if (this.current === 'running' || this.current === 'paused') this.current = 'exited';
    this.finish(await this.withOom(r));
  }

  /** A SIGKILL Tartarus did not send, with the memory cgroup at its limit, is an OOM kill. */
  private async withOom(r: ProcessResult): Promise<ProcessResult> {
    if (r.reason === 'exited' && r.exitCode === 137 && (await memoryLimitReached(this.id, this.spec.limits.memoryMiB))) {
      return { ...r, reason: 'oom', message: 'killed by the out-of-memory killer: the sandbox reached its memory limit' };
    }
    return r;
  }

  /** The runtime process ended: the sandbox's result is the main process's, or why it never ran. */
  protected async onRuntimeExit(res: ProcessExit, ran: boolean): Promise<void> {
    clearTimeout(this.timer);
    if (this.current !== 'destroyed') this.current = 'exited';
    const main = this.main;
    if (!main) {
      const why = lastLines(res.stderr) || `its runtime exited with ${res.exitCode ?? res.signal}`;
      return this.finish(emptyResult(this.endedBy ?? 'killed', `the sandbox ended before its process started: ${why}`));
    }
    let r = await main.wait();
    if (!ran || res.spawnError) {
      const message = res.spawnError ? `could not start the runtime: ${res.spawnError.message}` : lastLines(res.stderr);
      r = { ...r, reason: this.endedBy ?? 'error', exitCode: null, message: message || `the runtime failed with exit code ${res.exitCode}` };
    } else if (main.lostConnection && !this.endedBy) {
      // The sandbox ended under the workload (the runtime failed, or was killed): an error with
      // the runtime's own words, never a bare exit code — unless it was the memory limit.
      const exitCode = res.exitCode ?? (res.signal ? 128 + (constants.signals[res.signal] ?? 0) : null);
      const oom = await this.withOom({ ...r, reason: 'exited', exitCode });
      if (oom.reason === 'oom') return this.finish(oom);
      const said = lastLines(res.stderr);
      const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.exitCode}`;
      r = { ...r, reason: 'error', exitCode: null, message: `the sandbox's runtime (${this.runtime}) ${how} while the process ran${said ? `: ${said}` : ' without a message'}` };
    }
    this.finish(await this.withOom(r));
  }

  wait(): Promise<ProcessResult> {
    return this.ended;
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    await this.transition;
    await this.terminate('killed', options.signal ?? 'SIGTERM', options.graceMs ?? this.spec.killGraceMs);
  }

  async exec(options: ExecOptions): Promise<ExecHandle> {
    this.requireState('running', 'exec');
    if (!Array.isArray(options.argv) || options.argv.length === 0) {
      throw new InvalidArgumentError('exec argv is empty: give at least the program to run');
    }
    const user = options.user === undefined ? this.user : await resolveUser(this.spec.template.rootfsPath, options.user);
    await this.egressApplied;
    const proc = new AgentProcess(
      await this.agent(),
      {
        argv: options.argv,
        env: { ...this.spec.process.env, ...(options.env ?? {}) },
        cwd: options.cwd ?? this.spec.process.cwd,
        ...ids(user),
        stdin: options.stdin === true,
        outputLimitBytes: this.spec.outputLimitBytes,
      },
      {
        outputLimitBytes: this.spec.outputLimitBytes,
        onOutput: options.onOutput,
        timeoutMs: options.timeoutMs ?? 0,
        killGraceMs: this.spec.killGraceMs,
        signal: options.signal,
      },
    );
    await proc.started;
    return proc;
  }

  async snapshotFiles(path: string, options: { maxBytes?: number } = {}): Promise<{ sizeBytes: number }> {
    if (this.current !== 'running' && this.current !== 'paused') {
      throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}: only a running or paused sandbox's files can be snapshotted`);
    }
    // Frozen while its files are read: one moment's files, not a mix of before and after.
    const freeze = this.current === 'running';
    if (freeze) await this.pause();
    try {
      return { sizeBytes: await snapshotLayer(this.paths.bundle, this.paths.pidFile, path, options.maxBytes, this.ctx.tool.tmpApart) };
    } finally {
      if (freeze && this.current === 'paused') await this.resume();
    }
  }

  async pause(): Promise<void> {
    this.requireState('running', 'pause');
    await this.ctx.call(this.ctx.tool.pause(this.paths.runtimeRoot, this.ctx.containerId(this.id)));
    this.current = 'paused';
  }

  async resume(): Promise<void> {
    this.requireState('paused', 'resume');
    await this.ctx.call(this.ctx.tool.resume(this.paths.runtimeRoot, this.ctx.containerId(this.id)));
    this.current = 'running';
  }

  async setEgress(egress: Egress): Promise<void> {
    if (this.current === 'destroyed' || this.current === 'exited') throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}`);
    if (!this.spec.network) throw new ConflictError(`sandbox ${this.id} was created with egress "none" (loopback only): its egress cannot change; create a sandbox with a network`);
    await this.ctx.networks().setEgress(this.id, egress);
    this.spec = { ...this.spec, network: { egress } };
  }

  /** The sandbox's address, read once from its network record: it keeps it for life (the port proxy asks on every connection). */
  async address(): Promise<string | undefined> {
    if (!this.spec.network) return undefined;
    this.knownAddress ??= (await this.ctx.networks().get(this.id))?.address;
    return this.knownAddress;
  }

  private knownAddress: string | undefined;

  async stats(): Promise<SandboxStats> {
    if (this.current === 'destroyed') throw new SandboxNotRunningError(`sandbox ${this.id} is destroyed`);
    return readStats(this.id);
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      await this.transition;
      if (this.current === 'running' || this.current === 'paused') await this.terminate('killed', 'SIGKILL', 0);
      else if (this.current === 'created' && this.channel) await this.shutdownBooted();
      clearTimeout(this.timer);
      this.channel?.agent.close();
      await this.channel?.proc.wait();
      await removeSandbox(this.ctx, this.id);
      if (this.current === 'created') this.finish(emptyResult('killed', 'destroyed before it was started'));
      this.current = 'destroyed';
    })();
    return this.destroying;
  }

  /** Signal, grace, SIGKILL to all (by the agent); then `kill --all KILL`, then the runtime process. */
  private async terminate(by: 'killed' | 'timeout', signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.current !== 'running' && this.current !== 'paused') return;
    this.endedBy ??= by;
    const { tool } = this.ctx;
    const { runtimeRoot } = this.paths;
    const cid = this.ctx.containerId(this.id);
    // A frozen task does not die until thawed (cgroup v1 freezer).
    if (this.current === 'paused') {
      await this.ctx.call(tool.resume(runtimeRoot, cid), { allowNonZero: true });
      this.current = 'running';
    }
    const main = this.main;
    if (main && !main.done) {
      // SIGTERM goes to every process of the workload, not only the main's (an idle main's would
      // end the sandbox at once); the init holds the main's exit until they are all gone or the
      // grace is over.
      void main.stop(by, signal, graceMs, true);
      if (await this.endsWithin(graceMs + BACKSTOP_MS)) return;
    }
    await this.ctx.call(tool.kill(runtimeRoot, cid, 'KILL', true), { allowNonZero: true });
    if (await this.endsWithin(KILL_WAIT_MS)) return;
    this.channel?.proc.kill('SIGKILL');
  }

  // A booted sandbox that never ran a process (a warm pool's): the init kills all and exits.
  private async shutdownBooted(): Promise<void> {
    this.endedBy ??= 'killed';
    this.channel?.agent.send(Msg.shutdown, 0);
    if (await this.endsWithin(BACKSTOP_MS)) return;
    const { tool } = this.ctx;
    const { runtimeRoot } = this.paths;
    await this.ctx.call(tool.kill(runtimeRoot, this.ctx.containerId(this.id), 'KILL', true), { allowNonZero: true });
    if (!(await this.endsWithin(KILL_WAIT_MS))) this.channel?.proc.kill('SIGKILL');
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

  protected requireState(state: SandboxState, op: string): void {
    if (this.current !== state) {
      throw new SandboxNotRunningError(`cannot ${op} sandbox ${this.id}: it is ${this.current}, not ${state}`);
    }
  }

  /** The agent connection: the runtime's stdio, or after a restart a `tt-init attach` relay (after a checkpoint under way). */
  protected async agent(): Promise<AgentClient> {
    await this.transition;
    if (this.channel?.agent.isOpen) return Promise.resolve(this.channel.agent);
    if (!this.adopted) return Promise.reject(new SandboxNotRunningError(`sandbox ${this.id} is not running`));
    this.attaching ??= attachChannel(this.ctx, this.id, this.agentSecret, this.uidBase !== undefined && this.ctx.tool.userns === 'join').then(async (channel) => {
      this.channel = channel;
      void channel.agent.closed.then(() => (this.attaching = undefined));
      // A relay that cannot reach the init (the sandbox is ending, paused, or at its pids
      // limit) closes without answering: fail instead of waiting for an answer forever.
      await Promise.race([channel.agent.ready, channel.agent.closed]);
      if (!channel.agent.isOpen) throw new SandboxNotRunningError(`sandbox ${this.id} cannot be reached: its init did not answer`);
      return channel.agent;
    });
    this.attaching.catch(() => (this.attaching = undefined));
    return this.attaching;
  }

  // After a restart: re-attach to the main process (its later exit is reported), and watch the
  // container's host pid for the end.
  private adopt(adopted: Adopted): void {
    const startedAtMs = Date.now();
    const record = readMainRecord(this.paths.dir);
    if (record && adopted.state === 'running') {
      void this.agent().then(
        (agent) => this.attachMain(agent, record, () => void this.onAdoptedEnd(startedAtMs)),
        () => undefined,
      );
    }
    this.adoptedTick = setInterval(() => {
      try {
        process.kill(adopted.pid, 0);
        return;
      } catch {
        clearInterval(this.adoptedTick);
      }
      void this.onAdoptedEnd(startedAtMs);
    }, 250);
    this.adoptedTick.unref();
  }

  /**
   * Reaches the main process `record` names again over `agent` (after a restart, or a restore from
   * a checkpoint): its exit, when the init reports it, calls `onEnd`; its timeout keeps counting.
   */
  protected attachMain(agent: AgentClient, record: MainRecord, onEnd: (r: ProcessResult) => void): AgentProcess {
    const main = new AgentProcess(agent, record.id, {
      outputLimitBytes: this.spec.outputLimitBytes,
      onOutput: this.spec.onOutput,
      timeoutMs: 0,
      killGraceMs: this.spec.killGraceMs,
    });
    this.main = main;
    // Its exit is the sandbox's end (the container follows at once); not one whose connection was closed under it.
    void main.wait().then((r) => {
      if (!main.lostConnection) onEnd(r);
    });
    if (this.spec.timeoutMs > 0) {
      clearTimeout(this.timer);
      const left = Math.max(0, record.startedAtMs + this.spec.timeoutMs - Date.now());
      this.timer = setTimeout(() => void this.terminate('timeout', 'SIGTERM', this.spec.killGraceMs), left);
    }
    return main;
  }

  private async onAdoptedEnd(startedAtMs: number): Promise<void> {
    clearTimeout(this.timer);
    if (this.current !== 'destroyed') this.current = 'exited';
    const main = this.main;
    if (main) {
      const r = await main.wait();
      if (r.reason !== 'error' || this.endedBy) return this.finish(r);
    }
    const lost = 'adopted after a restart: the main process output and exit status were lost';
    this.finish(emptyResult(this.endedBy ?? 'error', lost, startedAtMs));
  }
}

function ids(user: ResolvedUser): { uid: number; gid: number; groups: number[] } {
  return { uid: user.uid, gid: user.gid, groups: user.additionalGids };
}

export function readMainRecord(dir: string): MainRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'main.json'), 'utf8')) as MainRecord;
  } catch {
    return undefined;
  }
}
