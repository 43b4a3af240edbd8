/**
 * Booting one microVM for `MicrovmDriver.create()`: the template image (cached) and the
 * sandbox's writable layer, the QEMU command line, QEMU in its host cgroup, then the agent's
 * first answer; with a network, the sandbox's network and the VM's tap (network.ts), made while
 * the images are. Fails fast with QEMU's own reason (or the console's last lines) when the VM
 * stops while booting; the caller removes whatever was made.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { ConflictError, InternalError, RuntimeUnavailableError } from '@tartarus/core';
import type { SandboxSpec } from '../../driver.js';
import type { SandboxNetworks } from '../../network/sandbox.js';
import { resolveUser } from '../../sandbox/user.js';
import { allocateUidRange } from '../../sandbox/uid-ranges.js';
import { hostTscKhz, resolveAccel, type AccelOption } from './accel.js';
import { AgentClient } from '../../sandbox/agent/client.js';
import { buildQemuArgv } from './argv.js';
import { loadAssets } from './assets.js';
import { confineVcpus, placeVmInCgroup } from './cgroup.js';
import { qmpCommand } from './qmp.js';
import { createWritableLayer, ensureTemplateImage } from './image.js';
import { seedDisk } from './files-snapshot.js';
import { loadVm } from './hibernate.js';
import { attachVmNetwork } from './network.js';
import type { VmPaths } from './paths.js';
import { MicrovmSandbox } from './sandbox.js';
import { guestMemoryMiB, qemuOverheadMiB } from './sizing.js';
import { VmProcess } from './vm.js';

/** What a boot needs from the driver. */
export interface BootOptions {
  accel: AccelOption;
  assetDir: string;
  bootTimeoutMs: number;
  /** Removes every host object of the sandbox (the driver's destroy(id)). */
  teardown: () => Promise<void>;
  /** The sandboxes' networks (called only for a spec with a network). */
  networks: () => SandboxNetworks;
  signal?: AbortSignal | undefined;
}

/**
 * Starts the VM of `spec` (state dir `paths.dir` already made) and returns its sandbox at once;
 * the sandbox's `ready` settles when the agent answers (or the boot fails).
 */
export async function bootSandbox(
  spec: SandboxSpec,
  paths: VmPaths,
  o: BootOptions,
): Promise<MicrovmSandbox> {
  const assets = await loadAssets(o.assetDir);
  if (spec.network && !assets.network) {
    throw new RuntimeUnavailableError(`the microVM guest assets in ${o.assetDir} predate networking: run scripts/setup.sh (step scripts/setup.d/30-microvm.sh) to rebuild them`);
  }
  const { onOutput, stdin, ...stored } = spec;
  // Its own host uid (the first of a range no other sandbox holds), as Firecracker's jailer
  // gives each VM: a QEMU compromised by its guest can neither signal nor read another VM's.
  // The same range's user namespace owns its network namespace, and its base owns the tap.
  // With a network, the range of its namespace (one made ahead, or one made now).
  const allocate = (): Promise<number> => allocateUidRange(spec.id);
  const egress = spec.network?.egress;
  const network = egress === undefined ? undefined : attachVmNetwork(o.networks(), spec.id, allocate, egress, spec.network?.group);
  const uid = network ? network.then((n) => n.uidBase) : allocate();
  const [rootImage, { accel }, tscKhz, user, base, net, memory] = await settleAll([
    ensureTemplateImage(spec.template, assets.imageDir, o.signal),
    resolveAccel(o.accel, assets.kernel),
    hostTscKhz(),
    resolveUser(spec.template.rootfsPath, spec.process.user),
    uid,
    Promise.resolve(network),
    // From a snapshot: its disk, as it was (and its memory, for a memory snapshot); else a fresh one.
    spec.seed === undefined ? createWritableLayer(paths.writableImage, spec.limits.diskMiB, o.signal).then(() => undefined) : seedDisk(spec.seed, paths, spec.limits.diskMiB, o.signal),
    writeFile(paths.spec, JSON.stringify(stored), { mode: 0o600 }),
    mkdir(paths.socketDir, { recursive: true }),
  ]);
  if (memory && net) throw new ConflictError('a memory snapshot starts without a network (its guest keeps the address it had): create it with egress "none"');
  // A memory snapshot's VM is of the shape its state was saved from.
  const memoryMiB = memory?.memoryMiB ?? guestMemoryMiB(spec.limits.memoryMiB);
  const argv = buildQemuArgv({
    id: spec.id,
    accel,
    cpus: memory?.cpus ?? Math.max(1, Math.ceil(spec.limits.cpu)),
    memoryMiB,
    kernel: assets.kernel,
    initramfs: assets.initramfs,
    rootImage,
    // Through descriptors this process opens (startQemu): QEMU never opens the image by its path, which
    // its uid could not reach; a migration reopens it read-only, then writable at the other end.
    writableImage: WRITABLE_FDSET,
    agentSockets: paths.agentSockets,
    qmpSocket: paths.qmpSocket,
    consoleSocket: paths.consoleSocket,
    pidFile: paths.pidFile,
    workloadMemoryMiB: spec.limits.memoryMiB,
    workloadPids: spec.limits.pids,
    tscKhz,
    runAs: `${base}:${base}`,
    network: net,
  });
  o.signal?.throwIfAborted();
  // No image locks: the fds are this sandbox's alone, and after a migration QEMU would take its
  // own read-only descriptor's lock for another's when it writes again (cont after a snapshot).
  const unlocked = argv.map((a) => (a.startsWith(`file=${WRITABLE_FDSET},`) ? `${a},file.locking=off` : a));
  const launch: VmLaunch = { argv: [...unlocked, ...WRITABLE_FDS], cgroupMemoryMiB: memoryMiB + qemuOverheadMiB(accel), uid: base };
  await writeFile(paths.launch, JSON.stringify(launch), { mode: 0o600 });
  const common = { spec: stored, paths, user, onOutput, stdin, launch, teardown: o.teardown, networks: o.networks };
  // Restored, not booted: started from its saved state by start() (as a hibernated VM wakes).
  if (memory) return new MicrovmSandbox({ ...common, vm: VmProcess.gone(), ready: new Promise(() => undefined), restored: { mainId: memory.mainId } });
  const { vm, confined } = await startQemu(spec, paths, launch);
  const ready = Promise.all([connectAgent(paths, vm, o), confined]).then(([agent]) => agent);
  return new MicrovmSandbox({ ...common, vm, ready });
}

/** The writable image as QEMU names it: a set of two descriptors (read-write and read-only) it inherits as fds 3 and 4. */
const WRITABLE_FDSET = '/dev/fdset/1';
const WRITABLE_FDS = ['-add-fd', 'fd=3,set=1', '-add-fd', 'fd=4,set=1'];

/** How a VM's QEMU was started (launch.json): hibernation starts it again the same way. */
export interface VmLaunch {
  argv: string[];
  /** The memory limit of QEMU's host cgroup, MiB (the guest's RAM plus QEMU's own). */
  cgroupMemoryMiB: number;
  /** The host uid QEMU runs as after start-up. */
  uid: number;
}

/**
 * Starts QEMU from `launch` (with `extra` arguments) in its host cgroup; `confined` settles once
 * its vCPU threads have exactly the sandbox's cores.
 */
export async function startQemu(spec: Pick<SandboxSpec, 'id' | 'limits'>, paths: VmPaths, launch: VmLaunch, extra: string[] = []): Promise<{ vm: VmProcess; confined: Promise<void> }> {
  const fds = [openSync(paths.writableImage, 'r+'), openSync(paths.writableImage, 'r')];
  let vm: VmProcess;
  try {
    vm = VmProcess.spawn([...launch.argv, ...extra], fds);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  try {
    await placeVmInCgroup(spec.id, vm.pid, { cpu: spec.limits.cpu, memoryMiB: launch.cgroupMemoryMiB, pids: 256 });
  } catch (err) {
    // Before its pid file may exist: killed here, so the teardown that follows never frees the
    // uid of a QEMU still running.
    await vm.kill().catch(() => undefined);
    throw err;
  }
  // The vCPU threads exist from QEMU's start: they get exactly the sandbox's cores while the guest
  // boots, and QEMU's own threads the allowance on top (QMP answers before the guest runs).
  const confined = confineVcpuThreads(spec.id, paths.qmpSocket, spec.limits.cpu);
  return { vm, confined };
}

/** How long a woken guest's agent has to answer on each port, ms. */
const WAKE_ANSWER_MS = 15_000;

/** A wake that failed after its guest had run again: the saved state is spent (its disk moved on), the sandbox is over. */
export class SpentStateError extends InternalError {}

/**
 * Starts QEMU again from a hibernated VM's saved state (`paths.savedState`) and connects to its
 * agent. The state is taken aside before the guest runs: once it has run, its disk has moved on and
 * that state may never be loaded again. A failure before that leaves the state where it was (the VM
 * is still hibernated); after, it is a SpentStateError.
 */
export async function resumeQemu(spec: Pick<SandboxSpec, 'id' | 'limits'>, paths: VmPaths, launch: VmLaunch): Promise<{ vm: VmProcess; agent: AgentClient }> {
  const loading = `${paths.savedState}.loading`;
  const { vm, confined } = await startQemu(spec, paths, launch, ['-incoming', 'defer']);
  confined.catch(() => undefined);
  try {
    await rename(paths.savedState, loading);
    await loadVm(paths.qmpSocket, spec.id, launch.uid, loading, vm.exited);
  } catch (err) {
    await vm.kill();
    await rename(loading, paths.savedState).catch(() => undefined);
    throw err;
  }
  await rm(loading, { force: true });
  try {
    await confined;
    // A guest woken after a long sleep may take seconds to answer under software emulation (its
    // timers catch up): a second round of the ports, each given longer.
    const agent = await AgentClient.connectFree(paths.agentSockets).catch(() => AgentClient.connectFree(paths.agentSockets, WAKE_ANSWER_MS));
    return { vm, agent };
  } catch (err) {
    await vm.kill();
    throw new SpentStateError(`the sandbox did not come back from hibernation: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `Promise.all`, but it waits for every step to settle before it throws: no step (a network
 * half made, say) is still running when the caller's teardown removes what was made.
 */
async function settleAll<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(steps);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Connects to the agent's first port and waits for its first answer, failing fast if QEMU exits. */
async function connectAgent(paths: VmPaths, vm: VmProcess, o: BootOptions): Promise<AgentClient> {
  const console = new ConsoleTail(paths.consoleSocket);
  const died = vm.exited.then(async () => {
    const why = (await vm.stderr()) || console.text().trim().split('\n').slice(-5).join('\n') || 'no output';
    throw new InternalError(`the microVM stopped while booting: ${why}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const message = `the microVM did not boot within ${o.bootTimeoutMs} ms`;
    timer = setTimeout(() => reject(new InternalError(message)), o.bootTimeoutMs);
  });
  const { signal } = o;
  const aborted = new Promise<never>((_, reject) =>
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
  );
  try {
    const agent = await Promise.race([
      AgentClient.connect(paths.agentSockets[0] as string, signal, o.bootTimeoutMs),
      died,
      timeout,
      aborted,
    ]);
    await Promise.race([agent.ready, died, timeout, aborted]);
    return agent;
  } finally {
    clearTimeout(timer);
    died.catch(() => undefined);
    // Booted (or not): from now on the console's output is dropped by QEMU, unread.
    console.close();
  }
}

/** The last 16 KiB of the serial console, read while the VM boots (QEMU's socket appears shortly after it starts). */
class ConsoleTail {
  private tail = Buffer.alloc(0);
  private socket: Socket | undefined;
  private closed = false;

  constructor(path: string) {
    void this.connect(path);
  }

  private async connect(path: string): Promise<void> {
    for (let attempt = 0; attempt < 200 && !this.closed; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = createConnection(path);
        s.once('connect', () => {
          this.socket = s;
          s.on('data', (d: Buffer) => (this.tail = Buffer.concat([this.tail, d]).subarray(-16 * 1024)));
          s.on('error', () => undefined);
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) {
        if (this.closed) this.socket?.destroy();
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  text(): string {
    return this.tail.toString('utf8');
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }
}

/** Moves the VM's vCPU threads (from QMP, retried until QEMU listens) into their cgroup leaf. */
async function confineVcpuThreads(id: string, qmpSocket: string, cpu: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const cpus = (await qmpCommand(qmpSocket, 'query-cpus-fast')) as { 'thread-id': number }[];
      return await confineVcpus(
        id,
        cpus.map((c) => c['thread-id']),
        cpu,
      );
    } catch (err) {
      if (attempt >= 200) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
