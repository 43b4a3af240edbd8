/**
 * The `microvm` driver: one QEMU `-M microvm` VM per sandbox, hardware-virtualized with KVM
 * where KVM really runs guests, QEMU's software emulation (TCG) otherwise. The guest boots the
 * Debian cloud kernel with an initramfs whose init is the Tartarus guest agent; the template is
 * a read-only ext4 image, the sandbox's writes go to its own size-capped ext4 layer.
 *
 * Host objects of sandbox `id` (all derivable from the id): `<stateDir>/microvm/<id>/`, the
 * QEMU process named `tt-<id>` (pid in its pid file), cgroups `tartarus/<id>` in cpu, memory
 * and pids, and with a network the sandbox network's objects (network/sandbox.ts; the VM's tap
 * lives inside its namespace: network.ts). Template images are shared, cached in the asset
 * dir, and outlive sandboxes.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  SandboxNotRunningError,
} from '@tartarus/core';
import type {
  Availability,
  Driver,
  SandboxHandle,
  SandboxInfo,
  SandboxSpec,
} from '../../driver.js';
import { removeCgroups } from '../../cgroups/v1.js';
import { forgetOwner, recordOwner } from '../../gc/owners.js';
import { releaseUidRange } from '../../sandbox/uid-ranges.js';
import { releaseNetwork, type SandboxNetworks } from '../../network/sandbox.js';
import { checkSandboxId, isSandboxId } from '../../options.js';
import { resolveUser } from '../../sandbox/user.js';
import { accelOption, resolveAccel, type AccelOption } from './accel.js';
import { AgentClient } from '../../sandbox/agent/client.js';
import { defaultAssetDir, loadAssets, readable, which, type MicrovmAssets } from './assets.js';
import { bootSandbox, type VmLaunch } from './boot.js';
import { removeMigrationDir } from './hibernate.js';
import { vmPaths } from './paths.js';
import { qmpCommand } from './qmp.js';
import { EXITED_MARKER, MicrovmSandbox, type MainRecord, type StoredSpec } from './sandbox.js';
import { vmPid, VmProcess } from './vm.js';

/** Options of the microvm driver. */
export interface MicrovmDriverOptions {
  /** The Runtime's state dir; VMs live under `<stateDir>/microvm/`. */
  stateDir: string;
  /**
   * `kvm`, `tcg` (QEMU software emulation) or `auto`: KVM when a short test boot proves it runs
   * guests, else TCG with a one-line notice. Default `$TARTARUS_MICROVM_ACCEL` or `auto`.
   */
  accel?: AccelOption | undefined;
  /** Guest kernel, initramfs and template image cache. Default `$TARTARUS_MICROVM_DIR` or /var/cache/tartarus/microvm. */
  assetDir?: string | undefined;
  /** Longest a guest may take from QEMU's start to its agent's first answer, ms. Default 60 000 (TCG on a busy host). */
  bootTimeoutMs?: number | undefined;
  /** The sandboxes' networks (a Runtime's); without it a sandbox asking for a network is refused. */
  networks?: (() => SandboxNetworks) | undefined;
}

/** See the file header. */
export class MicrovmDriver implements Driver {
  readonly name = 'microvm' as const;
  private readonly dir: string;
  private readonly accel: AccelOption;
  private readonly assetDir: string;
  private readonly bootTimeoutMs: number;
  private readonly getNetworks: (() => SandboxNetworks) | undefined;

  constructor(options: MicrovmDriverOptions) {
    this.dir = join(options.stateDir, 'microvm');
    this.accel = accelOption(options.accel);
    this.assetDir = options.assetDir ?? defaultAssetDir();
    this.bootTimeoutMs = options.bootTimeoutMs ?? 60_000;
    this.getNetworks = options.networks;
  }

  /** The sandboxes' networks; `InvalidArgumentError` when this driver was made without them. */
  private readonly networks = (): SandboxNetworks => {
    if (!this.getNetworks) throw new InvalidArgumentError('this microvm driver has no network: create the sandbox through a Runtime, or with egress "none"');
    return this.getNetworks();
  };

  async available(): Promise<Availability> {
    try {
      for (const tool of ['qemu-system-x86_64', 'mkfs.ext4']) {
        if (!(await which(tool)))
          return { ok: false, reason: `${tool} is not installed: run scripts/setup.sh` };
      }
      if (this.accel === 'kvm' && !(await readable('/dev/kvm')))
        return {
          ok: false,
          reason: 'accel kvm is forced but /dev/kvm is missing: use accel tcg or auto',
        };
      const assets = await loadAssets(this.assetDir);
      const { detail } = await resolveAccel(this.accel, assets.kernel);
      return { ok: true, detail: `kernel ${assets.kernelVersion}, accel ${detail}` };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    checkSandboxId(spec.id);
    const paths = vmPaths(this.dir, spec.id);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Owner only: spec.json holds the tenant's environment (QEMU opens what it needs as root, before -runas).
    await mkdir(paths.dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ConflictError(`sandbox ${spec.id} already exists`) : err;
    });
    try {
      await recordOwner(spec.id, { dir: paths.dir, runtime: 'microvm' });
      return await bootSandbox(spec, paths, {
        accel: this.accel,
        assetDir: this.assetDir,
        bootTimeoutMs: this.bootTimeoutMs,
        teardown: () => this.destroy(spec.id),
        networks: this.networks,
        signal,
      });
    } catch (err) {
      await this.destroy(spec.id);
      throw err;
    }
  }

  async list(): Promise<SandboxInfo[]> {
    const ids = (await readdir(this.dir).catch(() => [] as string[])).filter(isSandboxId);
    return Promise.all(
      ids.map(async (id): Promise<SandboxInfo> => {
        const paths = vmPaths(this.dir, id);
        const ended = await stat(join(paths.dir, EXITED_MARKER)).then(
          () => true,
          () => false,
        );
        const pid = ended ? undefined : await vmPid(paths.pidFile, id);
        // Hibernated: no QEMU, its state saved; adoptable (woken on first use).
        if (!ended && pid === undefined && (await exists(paths.savedState))) return { id, runtime: 'microvm', state: 'running', hibernated: true };
        if (ended || pid === undefined) {
          const started = await stat(join(paths.dir, 'main.json')).then(
            () => true,
            () => false,
          );
          return { id, runtime: 'microvm', state: ended || started ? 'exited' : 'created' };
        }
        if (
          !(await stat(join(paths.dir, 'main.json')).then(
            () => true,
            () => false,
          ))
        ) {
          return { id, runtime: 'microvm', state: 'created' }; // booted, main process never started
        }
        const status = (await qmpCommand(paths.qmpSocket, 'query-status', 2000).catch(
          () => undefined,
        )) as { status?: string } | undefined;
        return {
          id,
          runtime: 'microvm',
          state: status?.status === 'paused' ? 'paused' : 'running',
        };
      }),
    );
  }

  async adopt(id: string): Promise<SandboxHandle> {
    checkSandboxId(id);
    const paths = vmPaths(this.dir, id);
    const spec = JSON.parse(await readFile(paths.spec, 'utf8').catch(() => '{}')) as StoredSpec;
    if (!spec.id) throw new NotFoundError(`no microVM sandbox ${id} on this host`);
    const ended = await stat(join(paths.dir, EXITED_MARKER)).then(
      () => true,
      () => false,
    );
    const main = JSON.parse(
      await readFile(join(paths.dir, 'main.json'), 'utf8').catch(() => 'null'),
    ) as MainRecord | null;
    const launch = JSON.parse(await readFile(paths.launch, 'utf8').catch(() => 'null')) as VmLaunch | null;
    const user = await resolveUser(spec.template.rootfsPath, spec.process.user);
    const common = { spec, paths, user, launch: launch ?? { argv: [], cgroupMemoryMiB: 0, uid: 0 }, teardown: () => this.destroy(id), networks: this.networks };
    if (!ended && launch && (await vmPid(paths.pidFile, id)) === undefined && (await exists(paths.savedState))) {
      if (spec.network) {
        await this.networks().resume();
        await this.networks().reapply(id);
      }
      // Hibernated: woken (and its network rules put back) on first use.
      return new MicrovmSandbox({ ...common, vm: VmProcess.gone(), ready: new Promise(() => undefined), adopted: { paused: false, agent: undefined, main: main ?? undefined } });
    }
    const vm = ended ? undefined : await VmProcess.adopt(paths.pidFile, id);
    if (!vm)
      throw new SandboxNotRunningError(
        `sandbox ${id} is not running (its main process ended): destroy it`,
      );
    const status = (await qmpCommand(paths.qmpSocket, 'query-status')) as { status?: string };
    const paused = status.status === 'paused';
    if (paused) await qmpCommand(paths.qmpSocket, 'cont'); // the agent must answer to be found; paused again below
    const agent = await AgentClient.connectFree(paths.agentSockets);
    if (paused) await qmpCommand(paths.qmpSocket, 'stop');
    if (spec.network) {
      await this.networks().resume();
      await this.networks().reapply(id);
    }
    return new MicrovmSandbox({ ...common, vm, ready: Promise.resolve(agent), adopted: { paused, agent, main: main ?? undefined } });
  }

  async destroy(id: string): Promise<void> {
    checkSandboxId(id);
    const paths = vmPaths(this.dir, id);
    const pid = await vmPid(paths.pidFile, id);
    if (pid !== undefined) {
      const vm = await VmProcess.adopt(paths.pidFile, id);
      await vm?.kill();
    }
    await removeCgroups(id);
    await removeMigrationDir(id);
    await rm(paths.dir, { recursive: true, force: true });
    if (paths.socketDir !== paths.dir) await rm(paths.socketDir, { recursive: true, force: true });
    // QEMU is gone: its namespace (and the tap in it) goes once unmounted, its address and uid
    // may be given to another VM.
    await releaseNetwork(id);
    await releaseUidRange(id);
    await forgetOwner(id);
  }
}

export type { MicrovmAssets };

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
