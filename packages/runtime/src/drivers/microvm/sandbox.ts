/**
 * One microVM sandbox: a QEMU process, the agent connection to its guest, and the main process
 * inside. The VM boots from create() on; start() waits for its agent, so that an abort or kill
 * during the boot ends the sandbox with reason `killed` like any other. When the main process
 * ends the VM is powered off (the sandbox's life is the main
 * process's); a timeout or kill that the guest does not honour within the grace period ends
 * the VM from the host. Pause and resume stop and continue the whole VM through QMP. The
 * egress policy of a VM with a network is enforced on the host (network/), so changing it is
 * the same call as for any sandbox.
 *
 * Hibernation (hibernate.ts) saves the VM and ends QEMU; exec, files, kill, pause and destroy all
 * wait for one under way through the single `transition` chain, and exec and files wake it. That
 * is why this class is long (past the ~500 lines of the house style): every entry point takes part
 * in that ordering, and split across classes it would be spread thin. QEMU's own part of a wake
 * lives in boot.ts (`resumeQemu`), the snapshots' in files-snapshot.ts.
 */
import { writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, SandboxNotRunningError, type Egress } from '@tartarus/core';
import type {
  ExecHandle,
  ExecOptions,
  ProcessResult,
  SandboxHandle,
  SandboxSpec,
  SandboxState,
  SandboxStats,
} from '../../driver.js';
import type { SandboxNetworks } from '../../network/sandbox.js';
import { IdleWatch } from '../../sandbox/idle.js';
import { emptyResult } from '../../sandbox/result.js';
import { resolveUser, type ResolvedUser } from '../../sandbox/user.js';
import type { AgentClient } from '../../sandbox/agent/client.js';
import { AgentFiles } from '../../sandbox/agent/files.js';
import { AgentProcess } from '../../sandbox/agent/process.js';
import { Msg, PayloadReader, PayloadWriter } from '../../sandbox/agent/protocol.js';
import { resumeQemu, SpentStateError, type VmLaunch } from './boot.js';
import { snapshotDisk, snapshotMemory } from './files-snapshot.js';
import { guestMemoryMiB } from './sizing.js';
import { saveVm } from './hibernate.js';
import { qmpCommand } from './qmp.js';
import type { VmPaths } from './paths.js';
import type { VmProcess } from './vm.js';

/** What a sandbox keeps of its spec (spec.json): everything but the callbacks and stdin. */
export type StoredSpec = Omit<SandboxSpec, 'onOutput' | 'stdin'>;

/** The guest's own deadline comes this long after the host's timeout: the host normally acts first. */
const DEADLINE_MARGIN_MS = 2000;
/** How long the guest may take to power off before QEMU is killed, ms. */
const SHUTDOWN_GRACE_MS = 2000;
/** Extra time after a timeout's or kill's grace before the host gives up on the guest, ms. */
const BACKSTOP_MS = 3000;

/** Everything a sandbox is made of. */
export interface MicrovmParts {
  spec: StoredSpec;
  paths: VmPaths;
  vm: VmProcess;
  /** The agent once the guest answered; rejects when the VM does not boot. */
  ready: Promise<AgentClient>;
  user: ResolvedUser;
  /** How QEMU was started: a wake starts it again so. */
  launch: VmLaunch;
  onOutput?: SandboxSpec['onOutput'];
  stdin?: Buffer | undefined;
  /** Adopted after a restart: the VM runs (or is hibernated: no agent); `main` is what start() recorded in main.json, if it ran. */
  adopted?: { paused: boolean; agent: AgentClient | undefined; main?: MainRecord | undefined } | undefined;
  /** Made from a memory snapshot: start() starts it from its saved state, where the main process (`mainId`) goes on. */
  restored?: { mainId: number } | undefined;
  /** Removes every host object (the driver's destroy(id)). */
  teardown: () => Promise<void>;
  /** The sandboxes' networks (used only when the spec has a network). */
  networks: () => SandboxNetworks;
}

/** What start() records in `main.json` so that an adopter can re-attach to the main process. */
export interface MainRecord {
  /** The agent's id of the main process. */
  id: number;
  startedAtMs: number;
}

/** Marker file of a sandbox whose main process ended (list() reports it exited even while its VM powers off). */
export const EXITED_MARKER = 'exited';

/** See the file header. */
export class MicrovmSandbox implements SandboxHandle {
  readonly runtime = 'microvm' as const;
  readonly files: AgentFiles;
  private current: SandboxState;
  private main: AgentProcess | undefined;
  private readonly result: Promise<ProcessResult>;
  private settle!: (r: ProcessResult) => void;
  private lastStats: SandboxStats = { cpuUsageNs: 0, memoryBytes: 0, pids: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private agent: AgentClient | undefined;
  private starting = false;
  /** Hibernated: QEMU has ended, its state is in `paths.savedState`; `record` re-attaches the main at wake. */
  private asleep: { record: MainRecord | undefined } | undefined;
  /** The hibernation or wake under way (one at a time). */
  private transition: Promise<void> = Promise.resolve();
  /** When the guest ends the main process by itself (setDeadline), ms since the epoch. */
  private deadlineAtMs: number | undefined;
  private mainStartedAtMs = 0;
  /** Hibernates the VM once idle for the spec's `hibernateAfterMs` (none without it). */
  private idle: IdleWatch | undefined;
  private readonly hibernationListeners: Array<(hibernated: boolean) => void> = [];

  constructor(private readonly p: MicrovmParts) {
    p.ready.catch(() => undefined); // a failed boot is reported by start()
    this.current = p.adopted ? (p.adopted.paused ? 'paused' : 'running') : 'created';
    this.result = new Promise((r) => (this.settle = r));
    this.files = new AgentFiles(() => this.awakeAgent());
    if (p.adopted?.agent) this.agent = p.adopted.agent;
    if (p.adopted && !p.adopted.agent) this.asleep = { record: p.adopted.main };
    else if (p.adopted?.main && p.adopted.agent) this.attachMain(p.adopted.agent, p.adopted.main);
    this.watch(p.vm);
    if (p.adopted) this.watchIdle();
  }

  /** Starts idle detection if the spec asks for hibernation. */
  private watchIdle(): void {
    const after = this.p.spec.hibernateAfterMs;
    if (after === undefined || this.idle) return;
    this.idle = new IdleWatch(after, async () => {
      if (this.current === 'running' && !this.asleep) await this.hibernate();
    });
    this.idle.start();
  }

  /** Calls `fn` after each hibernation (true) and wake (false). */
  onHibernation(fn: (hibernated: boolean) => void): void {
    this.hibernationListeners.push(fn);
  }

  /** Marks the sandbox busy (not idle) until the returned function is called: a proxied connection. */
  hold(): () => void {
    return this.idle?.hold() ?? (() => undefined);
  }

  /** A VM that dies on its own (guest panic, QEMU crash, OOM kill of QEMU) ends the sandbox. */
  private watch(vm: VmProcess): void {
    void vm.exited.then(() => {
      // (A VM that dies before start() is reported by start(), with its reason; one hibernated or replaced is not this.)
      if (this.p.vm !== vm || this.asleep) return;
      if (this.current === 'running' || this.current === 'paused') this.current = 'exited';
    });
  }

  /** Whether the VM is hibernated (its QEMU ended, its state saved). */
  get hibernated(): boolean {
    return this.asleep !== undefined;
  }

  get id(): string {
    return this.p.spec.id;
  }

  state(): SandboxState {
    return this.current;
  }

  /** The agent, the VM woken first if it is hibernated. */
  private async awakeAgent(): Promise<AgentClient> {
    this.idle?.touch();
    // A hibernation under way finishes first (its guest is stopped meanwhile), then this wakes it.
    await this.transition;
    if (this.asleep) await this.wake();
    return this.liveAgent();
  }

  private liveAgent(): AgentClient {
    if (this.current !== 'running' || !this.agent?.isOpen || this.asleep) {
      throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}, not running`);
    }
    return this.agent;
  }

  /**
   * Waits for the guest's agent (the VM has been booting since create()), then starts the main
   * process. The wall-clock timeout counts from the main process's start: the boot has its own
   * limit (`bootTimeoutMs`) and is not charged to the workload.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'created' || this.starting)
      throw new ConflictError(`sandbox ${this.id} was already started (it is ${this.current})`);
    this.starting = true;
    if (this.p.restored) return this.startRestored(this.p.restored.mainId);
    const onAbort = (): void => void this.kill({ graceMs: 0 });
    if (signal?.aborted) return this.kill({ graceMs: 0 });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const agent = await Promise.race([this.p.ready, this.result.then(() => undefined)]).catch(
        (err: Error) => {
          this.end(emptyResult('error', err.message), false);
          this.current = 'exited';
          throw err;
        },
      );
      // Killed or destroyed while booting: the result (killed) is already there.
      if (!agent || this.current !== 'created') return;
      this.agent = agent;
      await this.startMain(agent);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Starts a VM made from a memory snapshot from its saved state, as a wake does: its main process
   * goes on, under this sandbox's timeout from now (the guest's own deadline is replaced).
   */
  private async startRestored(mainId: number): Promise<void> {
    const now = Date.now();
    this.asleep = { record: { id: mainId, startedAtMs: now } };
    this.current = 'running';
    // No timeout: a deadline far off replaces the one the guest had.
    this.deadlineAtMs = now + (this.p.spec.timeoutMs > 0 ? this.p.spec.timeoutMs : 10 * 365 * 86_400_000);
    try {
      await this.wake();
    } catch (err) {
      this.asleep = undefined;
      this.end(emptyResult('error', `the sandbox could not be started from its snapshot: ${(err as Error).message}`), false);
      this.current = 'exited';
      throw err;
    }
    this.watchIdle();
  }

  /** Waits until the guest's agent answers (the VM boots from create() on): a warm pool's sandbox. */
  async boot(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'created' || this.starting)
      throw new ConflictError(`sandbox ${this.id} was already started (it is ${this.current})`);
    signal?.throwIfAborted();
    await this.p.ready;
  }

  /** Gives the booted VM a caller's spec before start() (the template and limits are the VM's). */
  async assign(spec: SandboxSpec): Promise<void> {
    if (this.current !== 'created' || this.starting)
      throw new ConflictError(`sandbox ${this.id} was already started (it is ${this.current})`);
    if (!spec.network !== !this.p.spec.network) {
      throw new ConflictError(`sandbox ${this.id} was booted ${this.p.spec.network ? 'with' : 'without'} a network: it cannot take a spec ${spec.network ? 'with' : 'without'} one`);
    }
    const user = await resolveUser(spec.template.rootfsPath, spec.process.user);
    // The caller's policy replaces the pool's (unless it is the same) before any process of theirs runs.
    if (spec.network && !isDeepStrictEqual(spec.network.egress, this.p.spec.network?.egress)) await this.p.networks().setEgress(this.id, spec.network.egress);
    const { onOutput, stdin, ...stored } = spec;
    this.p.spec = { ...stored, id: this.p.spec.id };
    this.p.user = user;
    this.p.onOutput = onOutput;
    this.p.stdin = stdin;
    writeFileSync(this.p.paths.spec, JSON.stringify(this.p.spec), { mode: 0o600 });
  }

  private async startMain(agent: AgentClient): Promise<void> {
    const { spec, user } = this.p;
    this.current = 'running';
    const main = new AgentProcess(
      agent,
      {
        ...spec.process,
        uid: user.uid,
        gid: user.gid,
        stdin: true,
        main: true,
        outputLimitBytes: spec.outputLimitBytes,
      },
      {
        outputLimitBytes: spec.outputLimitBytes,
        onOutput: this.p.onOutput,
        timeoutMs: 0,
        killGraceMs: spec.killGraceMs,
      },
    );
    this.main = main;
    this.mainStartedAtMs = Date.now();
    writeFileSync(
      join(this.p.paths.dir, 'main.json'),
      JSON.stringify({ id: main.id, startedAtMs: this.mainStartedAtMs } satisfies MainRecord),
    );
    if (this.p.stdin?.length) await main.writeStdin(this.p.stdin);
    await main.closeStdin();
    if (spec.timeoutMs > 0) {
      this.timers.push(
        setTimeout(
          () => void this.stopMain('timeout', 'SIGTERM', spec.killGraceMs).catch(() => undefined),
          spec.timeoutMs,
        ),
      );
      this.setDeadline(Date.now() + spec.timeoutMs).catch(() => undefined);
    }
    void main.wait().then((r) => this.mainEnded(main, r));
    this.watchIdle();
    await main.started;
  }

  /** Re-attaches to the main process after a restart (output before it is lost); its timeout keeps counting. */
  private attachMain(agent: AgentClient, record: MainRecord): void {
    const { spec } = this.p;
    this.mainStartedAtMs = record.startedAtMs;
    const main = new AgentProcess(agent, record.id, {
      outputLimitBytes: spec.outputLimitBytes,
      // After a wake its output goes on to the caller (before a restart's adoption, there is none).
      onOutput: this.p.onOutput,
      timeoutMs: 0,
      killGraceMs: spec.killGraceMs,
    });
    this.main = main;
    if (spec.timeoutMs > 0 && this.timers.length === 0) {
      const left = Math.max(0, record.startedAtMs + spec.timeoutMs - Date.now());
      this.timers.push(
        setTimeout(() => void this.stopMain('timeout', 'SIGTERM', spec.killGraceMs).catch(() => undefined), left),
      );
    }
    void main.wait().then((r) => this.mainEnded(main, r));
  }

  /** The main process ended (unless it is no longer this sandbox's: its connection was closed for a hibernation). */
  private mainEnded(main: AgentProcess, r: ProcessResult): void {
    if (this.main === main) this.end(r, true);
  }

  /** Records the main process's end and powers the VM off. */
  private end(r: ProcessResult, powerOff: boolean): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.idle?.stop();
    if (this.current !== 'destroyed') {
      try {
        writeFileSync(join(this.p.paths.dir, EXITED_MARKER), r.reason);
      } catch {
        /* the state dir is already gone: nothing left to mark */
      }
    }
    this.settle(r);
    if (!powerOff || this.current === 'destroyed') return;
    this.current = 'exited';
    if (!this.agent) return void this.p.vm.kill(); // still booting: nothing to shut down cleanly
    this.agent.send(Msg.shutdown, 0);
    const t = setTimeout(() => void this.p.vm.kill(), SHUTDOWN_GRACE_MS);
    void this.p.vm.exited.then(() => clearTimeout(t));
  }

  private async stopMain(
    reason: 'killed' | 'timeout',
    signal: NodeJS.Signals,
    graceMs: number,
  ): Promise<void> {
    this.idle?.stop();
    await this.transition;
    // Hibernated: nothing runs to be signalled; it ends where it sleeps.
    if (this.asleep) return this.endAsleep(reason);
    const main = this.main;
    if (!main || main.done) return;
    if (this.current === 'paused') await this.resume().catch(() => undefined);
    // If the guest does not end the process (hung, or tampered with), the host ends the VM.
    const backstop = setTimeout(() => void this.p.vm.kill(), graceMs + BACKSTOP_MS);
    // SIGTERM to every process of the workload; the guest holds the main's exit until they are gone.
    await main.stop(reason, signal, graceMs, true);
    clearTimeout(backstop);
  }

  wait(): Promise<ProcessResult> {
    return this.result;
  }

  /** Ends a hibernated sandbox for `reason` without starting it again: its saved state goes. */
  private async endAsleep(reason: 'killed' | 'timeout'): Promise<void> {
    this.asleep = undefined;
    await rm(this.p.paths.savedState, { force: true });
    this.end(emptyResult(reason), false);
    this.current = 'exited';
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    this.idle?.stop();
    await this.transition;
    if (this.asleep) return this.endAsleep('killed');
    if (this.current === 'created') {
      this.end(emptyResult('killed'), true);
      return;
    }
    if (!this.main && (this.current === 'running' || this.current === 'paused')) {
      // Adopted, but its main process was never started: nothing to signal, end the VM.
      this.end(emptyResult('killed'), false);
      this.current = 'exited';
      await this.p.vm.kill();
      return;
    }
    await this.stopMain(
      'killed',
      options.signal ?? 'SIGTERM',
      options.graceMs ?? this.p.spec.killGraceMs,
    );
  }

  async exec(options: ExecOptions): Promise<ExecHandle> {
    const release = this.hold();
    try {
      const proc = await this.startExec(options);
      void proc.wait().finally(release);
      return proc;
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Starts a process through `agent` (given within a hibernation step, which must not wait for itself), else the woken one. */
  private async startExec(options: ExecOptions, given?: AgentClient): Promise<AgentProcess> {
    const agent = given ?? (await this.awakeAgent());
    const { spec } = this.p;
    const user =
      options.user === undefined
        ? this.p.user
        : await resolveUser(spec.template.rootfsPath, options.user);
    const proc = new AgentProcess(
      agent,
      {
        argv: options.argv,
        env: { ...spec.process.env, ...(options.env ?? {}) },
        cwd: options.cwd ?? spec.process.cwd,
        uid: user.uid,
        gid: user.gid,
        stdin: options.stdin === true,
        outputLimitBytes: spec.outputLimitBytes,
      },
      {
        outputLimitBytes: spec.outputLimitBytes,
        onOutput: options.onOutput,
        timeoutMs: options.timeoutMs ?? 0,
        killGraceMs: spec.killGraceMs,
        signal: options.signal,
      },
    );
    await proc.started;
    return proc;
  }

  /** The guest ends the main process at `atMs` plus a margin even with no host (and then powers off). */
  async setDeadline(atMs: number): Promise<void> {
    this.deadlineAtMs = atMs;
    if (this.asleep) return; // told again at wake
    const payload = new PayloadWriter()
      .u64(Math.max(1, atMs - Date.now() + DEADLINE_MARGIN_MS))
      .u64(this.p.spec.killGraceMs)
      .build();
    await this.liveAgent().request(Msg.deadline, payload);
  }

  async pause(): Promise<void> {
    await this.transition;
    if (this.asleep) await this.wake();
    if (this.current === 'paused') return;
    if (this.current !== 'running')
      throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}, not running`);
    await qmpCommand(this.p.paths.qmpSocket, 'stop');
    this.current = 'paused';
  }

  async resume(): Promise<void> {
    await this.transition;
    if (this.current !== 'paused') return;
    await qmpCommand(this.p.paths.qmpSocket, 'cont');
    this.current = 'running';
  }

  async setEgress(egress: Egress): Promise<void> {
    if (this.current === 'destroyed' || this.current === 'exited') throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}`);
    if (!this.p.spec.network) throw new ConflictError(`sandbox ${this.id} was created with egress "none" (loopback only): its egress cannot change; create a sandbox with a network`);
    await this.p.networks().setEgress(this.id, egress);
    this.p.spec = { ...this.p.spec, network: { egress } };
  }

  async address(): Promise<string | undefined> {
    return this.p.spec.network ? (await this.p.networks().get(this.id))?.address : undefined;
  }

  async stats(): Promise<SandboxStats> {
    // A hibernated VM uses no memory and no CPU (and is not woken to say so).
    if (this.asleep) return { cpuUsageNs: this.lastStats.cpuUsageNs, memoryBytes: 0, pids: 0 };
    if (this.current !== 'running') return this.lastStats;
    const r = new PayloadReader(await this.liveAgent().request(Msg.stats));
    this.lastStats = { cpuUsageNs: r.u64(), memoryBytes: r.u64(), pids: r.u32() };
    return this.lastStats;
  }

  /**
   * Writes the VM's memory and disk, one moment of both, to `path` (a sparse tar ≤ `maxBytes`); the
   * VM is stopped meanwhile. A VM made from it goes on from that moment, its processes included.
   * Not for a VM with a network (its guest would keep this one's address).
   */
  snapshotMemory(path: string, options: { maxBytes?: number } = {}): Promise<{ sizeBytes: number }> {
    if (this.p.spec.network) {
      return Promise.reject(new ConflictError(`sandbox ${this.id} has a network: its memory snapshot would carry its address into the copy; take a files snapshot, or snapshot a sandbox created with egress "none"`));
    }
    return this.step(async () => {
      if (this.asleep) await this.wakeNow();
      this.liveAgent();
      if (this.p.launch.argv.length === 0 || !this.main) throw new ConflictError(`sandbox ${this.id} was booted by an older Tartarus or has no main process: its memory cannot be snapshotted`);
      const image = { memoryMiB: guestMemoryMiB(this.p.spec.limits.memoryMiB), cpus: Math.max(1, Math.ceil(this.p.spec.limits.cpu)), mainId: this.main.id };
      return { sizeBytes: await snapshotMemory(this.p.paths, this.id, this.p.launch.uid, image, path, options.maxBytes ?? Number.MAX_SAFE_INTEGER) };
    });
  }

  /** Writes the VM's disk (its files as the guest last synced them) to `path` as a sparse tar; stopped meanwhile. */
  async snapshotFiles(path: string, options: { maxBytes?: number } = {}): Promise<{ sizeBytes: number }> {
    const release = this.hold(); // not hibernated for idleness meanwhile
    try {
      await this.transition;
      if (this.asleep) await this.wake();
      if (this.current !== 'running' && this.current !== 'paused') throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}: only a running or paused sandbox's files can be snapshotted`);
      // The guest's dirty pages go to the disk first (a paused VM is thawed for that, then stopped again).
      const paused = this.current === 'paused';
      if (paused) await this.resume();
      try {
        const sync = await (await this.startExec({ argv: ['sync'], user: 'root' })).wait();
        if (sync.exitCode !== 0) throw new SandboxNotRunningError(`sandbox ${this.id} could not write its files back (sync: ${sync.reason})`);
        return { sizeBytes: await snapshotDisk(this.p.paths, path, options.maxBytes ?? Number.MAX_SAFE_INTEGER, true) };
      } finally {
        if (paused) await this.pause().catch(() => undefined);
      }
    } finally {
      release();
    }
  }

  /**
   * Saves the whole VM (memory, processes, devices) next to its disks and ends QEMU: the sandbox
   * keeps its disks, network and uid and uses no memory or CPU until `wake()`. Refused while a
   * command other than the main process runs (its output would be cut).
   */
  hibernate(): Promise<{ stateBytes: number }> {
    return this.step(async () => {
      if (this.asleep) return { stateBytes: 0 };
      const agent = this.liveAgent();
      if (this.p.launch.argv.length === 0) throw new ConflictError(`sandbox ${this.id} was booted by an older Tartarus that did not record how: it cannot hibernate`);
      const busy = agent.processCount - (this.main && !this.main.done ? 1 : 0);
      if (busy > 0) throw new ConflictError(`sandbox ${this.id} has ${busy} command(s) running: it can hibernate once they end`);
      const record = this.main ? { id: this.main.id, startedAtMs: this.mainStartedAtMs } : undefined;
      const { savedState } = this.p.paths;
      // Written aside and renamed once whole: a crash meanwhile leaves a running VM, never a half state.
      const stateBytes = await saveVm(this.p.paths.qmpSocket, this.id, this.p.launch.uid, `${savedState}.partial`).catch(async (err: unknown) => {
        await rm(`${savedState}.partial`, { force: true });
        throw err;
      });
      await rename(`${savedState}.partial`, savedState);
      this.asleep = { record };
      // The main's connection closes with QEMU: no longer this sandbox's process until the wake.
      this.main = undefined;
      agent.close();
      this.agent = undefined;
      await this.p.vm.kill();
      for (const fn of this.hibernationListeners) fn(true);
      return { stateBytes };
    });
  }

  /** Starts the hibernated VM again from its saved state; the main process and its timeout carry on. */
  wake(): Promise<void> {
    return this.step(() => this.wakeNow());
  }

  /** Runs `fn` after the hibernation, wake or memory snapshot under way (one at a time); refused once destroyed. */
  private step<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.transition.then(() => {
      if (this.current === 'destroyed') throw new SandboxNotRunningError(`sandbox ${this.id} is destroyed`);
      return fn();
    });
    this.transition = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The wake itself (within `transition`). The state is taken aside before the guest runs again:
   * once it has run, its disk has moved on and that state may never be loaded again. A wake that
   * fails before that leaves the sandbox hibernated; after, it ends the sandbox.
   */
  private async wakeNow(): Promise<void> {
    const asleep = this.asleep;
    if (!asleep) return;
    let woken: { vm: VmProcess; agent: AgentClient };
    try {
      woken = await resumeQemu(this.p.spec, this.p.paths, this.p.launch);
    } catch (err) {
      if (err instanceof SpentStateError) {
        this.asleep = undefined;
        this.end(emptyResult('error', err.message), false);
        this.current = 'exited';
      }
      throw err;
    }
    const { vm, agent } = woken;
    this.p.vm = vm;
    this.watch(vm);
    this.agent = agent;
    this.asleep = undefined;
    if (asleep.record) this.attachMain(agent, asleep.record);
    await this.afterWake(agent);
    for (const fn of this.hibernationListeners) fn(false);
  }

  /** What a woken guest is told: the time (its clock stood still while it slept) and its deadline. */
  private async afterWake(agent: AgentClient): Promise<void> {
    // By the guest's init (a guest from before it knew T_CLOCK keeps the clock it had).
    await agent.request(Msg.clock, new PayloadWriter().u64(Date.now()).build()).catch(() => undefined);
    if (this.deadlineAtMs !== undefined) await this.setDeadline(this.deadlineAtMs).catch(() => undefined);
    this.idle?.touch();
  }

  async destroy(): Promise<void> {
    if (this.current === 'destroyed') return;
    // What is under way ends first; what is queued behind it is refused (step()).
    const under = this.transition;
    this.current = 'destroyed';
    await under;
    const main = this.main;
    if (main && !main.done) void main.stop('killed', 'SIGKILL', 0);
    this.current = 'destroyed';
    this.idle?.stop();
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.agent?.close();
    void this.p.ready.then(
      (a) => a.close(),
      () => undefined,
    );
    await this.p.vm.kill();
    await this.p.teardown();
    if (!main) this.end(emptyResult('killed'), false);
  }
}
