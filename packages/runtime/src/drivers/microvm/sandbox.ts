/**
 * One microVM sandbox: a QEMU process, the agent connection to its guest, and the main process
 * inside. The VM boots from create() on; start() waits for its agent, so that an abort or kill
 * during the boot ends the sandbox with reason `killed` like any other. When the main process
 * ends the VM is powered off (the sandbox's life is the main
 * process's); a timeout or kill that the guest does not honour within the grace period ends
 * the VM from the host. Pause and resume stop and continue the whole VM through QMP. The
 * egress policy of a VM with a network is enforced on the host (network/), so changing it is
 * the same call as for any sandbox.
 */
import { writeFileSync } from 'node:fs';
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
import { emptyResult } from '../../sandbox/result.js';
import { resolveUser, type ResolvedUser } from '../../sandbox/user.js';
import type { AgentClient } from '../../sandbox/agent/client.js';
import { AgentFiles } from '../../sandbox/agent/files.js';
import { AgentProcess } from '../../sandbox/agent/process.js';
import { Msg, PayloadReader, PayloadWriter } from '../../sandbox/agent/protocol.js';
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
  onOutput?: SandboxSpec['onOutput'];
  stdin?: Buffer | undefined;
  /** Adopted after a restart: the VM runs; `main` is what start() recorded in main.json, if it ran. */
  adopted?: { paused: boolean; agent: AgentClient; main?: MainRecord | undefined } | undefined;
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

  constructor(private readonly p: MicrovmParts) {
    p.ready.catch(() => undefined); // a failed boot is reported by start()
    this.current = p.adopted ? (p.adopted.paused ? 'paused' : 'running') : 'created';
    this.result = new Promise((r) => (this.settle = r));
    this.files = new AgentFiles(() => this.liveAgent());
    if (p.adopted) this.agent = p.adopted.agent;
    if (p.adopted?.main) this.attachMain(p.adopted.agent, p.adopted.main);
    // A VM that dies on its own (guest panic, QEMU crash, OOM kill of QEMU) ends the sandbox.
    void p.vm.exited.then(() => {
      // (A VM that dies before start() is reported by start(), with its reason.)
      if (this.current === 'running' || this.current === 'paused') this.current = 'exited';
    });
  }

  get id(): string {
    return this.p.spec.id;
  }

  state(): SandboxState {
    return this.current;
  }

  private liveAgent(): AgentClient {
    if (this.current !== 'running' || !this.agent?.isOpen) {
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
    writeFileSync(
      join(this.p.paths.dir, 'main.json'),
      JSON.stringify({ id: main.id, startedAtMs: Date.now() } satisfies MainRecord),
    );
    if (this.p.stdin?.length) await main.writeStdin(this.p.stdin);
    await main.closeStdin();
    if (spec.timeoutMs > 0) {
      this.timers.push(
        setTimeout(
          () => void this.stopMain('timeout', 'SIGTERM', spec.killGraceMs),
          spec.timeoutMs,
        ),
      );
      this.setDeadline(Date.now() + spec.timeoutMs).catch(() => undefined);
    }
    void main.wait().then((r) => this.end(r, true));
    await main.started;
  }

  /** Re-attaches to the main process after a restart (output before it is lost); its timeout keeps counting. */
  private attachMain(agent: AgentClient, record: MainRecord): void {
    const { spec } = this.p;
    const main = new AgentProcess(agent, record.id, {
      outputLimitBytes: spec.outputLimitBytes,
      onOutput: undefined,
      timeoutMs: 0,
      killGraceMs: spec.killGraceMs,
    });
    this.main = main;
    if (spec.timeoutMs > 0) {
      const left = Math.max(0, record.startedAtMs + spec.timeoutMs - Date.now());
      this.timers.push(
        setTimeout(() => void this.stopMain('timeout', 'SIGTERM', spec.killGraceMs), left),
      );
    }
    void main.wait().then((r) => this.end(r, true));
  }

  /** Records the main process's end and powers the VM off. */
  private end(r: ProcessResult, powerOff: boolean): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
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

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
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
    const agent = this.liveAgent();
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
    const payload = new PayloadWriter()
      .u64(Math.max(1, atMs - Date.now() + DEADLINE_MARGIN_MS))
      .u64(this.p.spec.killGraceMs)
      .build();
    await this.liveAgent().request(Msg.deadline, payload);
  }

  async pause(): Promise<void> {
    if (this.current === 'paused') return;
    if (this.current !== 'running')
      throw new SandboxNotRunningError(`sandbox ${this.id} is ${this.current}, not running`);
    await qmpCommand(this.p.paths.qmpSocket, 'stop');
    this.current = 'paused';
  }

  async resume(): Promise<void> {
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
    if (this.current !== 'running') return this.lastStats;
    const r = new PayloadReader(await this.liveAgent().request(Msg.stats));
    this.lastStats = { cpuUsageNs: r.u64(), memoryBytes: r.u64(), pids: r.u32() };
    return this.lastStats;
  }

  async destroy(): Promise<void> {
    if (this.current === 'destroyed') return;
    const main = this.main;
    if (main && !main.done) void main.stop('killed', 'SIGKILL', 0);
    this.current = 'destroyed';
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
