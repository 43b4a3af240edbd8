/**
 * The `Driver` over an OCI runtime; `container` (runc) and `gvisor` (runsc) are this class with
 * their own `OciTool`. What it writes per sandbox: `<stateDir>/<runtime>/<id>/` holding the
 * bundle's config.json and the resolved spec. The runtime makes the cgroup `tartarus/<id>/c`
 * and the writable layer is made when the sandbox starts (tt-layer, in the sandbox's own mount
 * namespace).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { ConflictError, InvalidArgumentError, SandboxNotRunningError } from '@tartarus/core';
import type { Availability, Driver, RuntimeName, SandboxHandle, SandboxInfo, SandboxSpec, SandboxState } from '../../driver.js';
import { checkSandboxId } from '../../options.js';
import { cgroupV1Available, cgroupsPathFor, createOwnCgroups, swapAccounting } from '../../cgroups/v1.js';
import { ensureNativeHelpers, SANDBOX_HELPER_MOUNT, sandboxHelperRunDir, userNsRootPath } from '../../sandbox/native.js';
import { allocateUidRange } from '../../sandbox/uid-ranges.js';
import { resolveUser, type ResolvedUser } from '../../sandbox/user.js';
import { recordOwner } from '../../gc/owners.js';
import { sandboxNetnsPath, type AttachedNetwork, type SandboxNetworks } from '../../network/sandbox.js';
import { resolvConfPath } from '../../network/host.js';
import { OciContext, type SandboxPaths } from './context.js';
import { exists, initArgs } from './main-process.js';
import { buildOciConfig } from './oci-spec.js';
import { OciSandbox, type Adopted } from './sandbox.js';
import { isMemorySnapshot } from './snapshot.js';
import type { Restored } from '../gvisor/sandbox.js';
import { readStored, storable, writeStored } from './stored.js';
import { removeSandbox } from './teardown.js';
import type { OciTool } from './tool.js';

/** Options of an OCI driver. */
export interface OciDriverOptions {
  /** The Runtime's state directory; this driver uses `<stateDir>/<runtime>/`. */
  stateDir: string;
  /** The sandboxes' networks (a Runtime's); without it a sandbox asking for a network is refused. */
  networks?: () => SandboxNetworks;
}

const ROOT = { uid: 0, gid: 0, additionalGids: [] };
/** Runtime roots listed at once (`enter`: one per sandbox). */
const LIST_CONCURRENCY = 4;

interface ListedContainer {
  id: string;
  status: string;
  pid?: number;
}

/** A `Driver` over runc or runsc. */
export class OciDriver implements Driver {
  readonly name: RuntimeName;
  protected readonly ctx: OciContext;
  private availability: Promise<Availability> | undefined;

  constructor(tool: OciTool, options: OciDriverOptions) {
    this.name = tool.runtime;
    this.ctx = new OciContext(tool, options.stateDir, options.networks);
  }

  available(): Promise<Availability> {
    this.availability ??= this.probe();
    return this.availability;
  }

  /** Checks tool, privileges, cgroups and helpers; subclasses add their own checks. */
  protected async probe(): Promise<Availability> {
    if (process.getuid?.() !== 0) return { ok: false, reason: `${this.ctx.tool.binary} sandboxes need root (run as root)` };
    let detail: string;
    try {
      const res = await this.ctx.call(this.ctx.tool.version(), { allowNonZero: false });
      detail = res.stdout.split('\n')[0] ?? '';
    } catch (err) {
      return { ok: false, reason: `${this.ctx.tool.binary} does not run: ${(err as Error).message.split('\n')[0]} (install the ${this.ctx.tool.binary} package)` };
    }
    if (!(await cgroupV1Available())) return { ok: false, reason: 'cgroup v1 memory/cpu/pids controllers are not mounted under /sys/fs/cgroup' };
    try {
      await ensureNativeHelpers();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    return { ok: true, detail };
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    checkSandboxId(spec.id);
    await ensureNativeHelpers();
    const paths = this.ctx.paths(spec.id);
    // The user is looked up while the state dir is made; a bad one fails below, after it, as before
    // (the catch only keeps a lookup whose result is never awaited from being an unhandled rejection).
    const user = resolveUser(spec.template.rootfsPath, spec.process.user);
    user.catch(() => undefined);
    await this.makeStateDir(spec.id, paths.dir);
    let uidRange: Promise<number> | undefined;
    let attaching: Promise<AttachedNetwork> | undefined;
    let restored: Restored | undefined;
    try {
      await recordOwner(spec.id, { dir: paths.dir, runtime: this.name });
      // Its own host uid range (after recordOwner: a range without an owner record is an orphan's):
      // with a network, the one of its network namespace (owned by its user namespace; made ahead,
      // or with its interface while the rest of the sandbox's files are written). Its rules may
      // follow until its first process starts.
      const allocate = (): Promise<number> => allocateUidRange(spec.id);
      const joining = spec.network ? this.ctx.networks().attach(spec.id, allocate, spec.network.egress, spec.network.group) : undefined;
      attaching = joining?.network;
      attaching?.catch(() => undefined);
      uidRange = joining ? joining.uidBase : allocate();
      uidRange.catch(() => undefined);
      const resolved = await user;
      // PID 1 is tt-init, as root with the sandbox's capabilities: it starts the workload (and
      // every exec) as the sandbox's user. It counts as one more process against the pids limit.
      const limits = { ...spec.limits, pids: spec.limits.pids + 1 };
      const uidBase = await uidRange;
      const joins = this.ctx.tool.userns === 'join';
      if (!joins) await makeOwnedDir(paths.bundle, uidBase, paths.runtimeRoot);
      // From a memory snapshot: its init keeps the secret it had.
      restored = spec.seed === undefined ? undefined : await this.restoredFrom(spec, paths, uidBase);
      const agentSecret = restored?.manifest.agentSecret ?? randomBytes(32).toString('base64');
      const built = this.ctx.tool.adjustConfig(
        buildOciConfig({
          ...(spec.network ? { network: { namespacePath: sandboxNetnsPath(spec.id), resolvConf: resolvConfPath() } } : {}),
          rootfsPath: joins ? userNsRootPath(spec.id) : paths.rootfs,
          ...(joins ? { uidBase, userNamespacePath: join(paths.dir, 'userns') } : {}),
          hostname: spec.id,
          process: { args: initArgs(resolved), env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, cwd: '/', user: ROOT },
          limits,
          cgroupsPath: cgroupsPathFor(spec.id),
          helperDir: sandboxHelperRunDir(),
          helperMount: SANDBOX_HELPER_MOUNT,
          annotations: { 'dev.tartarus.sandbox': spec.id, 'dev.tartarus.template': spec.template.name },
          swapAccounting: await swapAccounting(),
        }),
      );
      // In a user namespace it joins, runc may not set the init's rlimits (EPERM on prlimit of a
      // process in a namespace owned by another uid): tt-init sets the workload's instead.
      const config = joins ? { ...built, process: { ...built.process, rlimits: [] } } : built;
      // Every part settled before anything is concluded: a failure is cleaned up only once nothing is still being made.
      const settled = await Promise.allSettled([
        // Readable by the runtime running as the sandbox's mapped root only (it holds the tenant's env).
        writeFile(paths.config, JSON.stringify(config), { mode: 0o600 }).then(() => (joins ? undefined : chown(paths.config, uidBase, uidBase))),
        writeStored(paths.spec, { runtime: this.name, spec: storable(spec), user: resolved, createdAtMs: Date.now(), agentSecret, uidBase }),
        this.ctx.tool.ownCgroups
          ? createOwnCgroups(spec.id, { memoryMiB: limits.memoryMiB, pids: this.ctx.tool.hostPids(limits.pids) })
          : undefined,
        attaching,
      ]);
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
      const net = await attaching;
      signal?.throwIfAborted();
      return this.makeSandbox(spec, resolved, agentSecret, undefined, uidBase, net?.rules, restored);
    } catch (err) {
      if (restored) await rm(restored.checkpoint.dir, { recursive: true, force: true });
      // A range or network still being made is finished first, so that the clean-up takes all of it.
      await Promise.allSettled([uidRange, attaching]);
      await removeSandbox(this.ctx, spec.id);
      throw err;
    }
  }

  async list(): Promise<SandboxInfo[]> {
    const dirs = await this.stateDirIds();
    const containers = await this.listContainers(dirs);
    const byId = new Map(containers.map((c) => [c.id, c]));
    const ids = new Set([...dirs, ...containers.map((c) => c.id.replace(/^tt-/, ''))]);
    return Promise.all(
      [...ids].sort().map(async (id) => {
        const status = byId.get(this.ctx.containerId(id))?.status;
        // No container: never started (no pid file yet) or its main process ended.
        const state = status ? toState(status) : (await exists(this.ctx.paths(id).pidFile)) ? 'exited' : 'created';
        return { id, runtime: this.name, state };
      }),
    );
  }

  async adopt(id: string): Promise<SandboxHandle> {
    checkSandboxId(id);
    const stored = await readStored(this.ctx.paths(id).spec, id);
    const found = (await this.listContainers([id])).find((c) => c.id === this.ctx.containerId(id));
    const state = toState(found?.status);
    if (!found?.pid || (state !== 'running' && state !== 'paused')) {
      throw new SandboxNotRunningError(`sandbox ${id} is ${state}: only a running or paused sandbox can be adopted; destroy it`);
    }
    if (stored.spec.network) {
      await this.ctx.networks().resume();
      await this.ctx.networks().reapply(id);
    }
    return this.makeSandbox(stored.spec, stored.user, stored.agentSecret, { state, pid: found.pid }, stored.uidBase);
  }

  /** The handle of one sandbox (the gVisor driver's can save its memory). */
  protected makeSandbox(spec: SandboxSpec, user: ResolvedUser, agentSecret: string, adopted?: Adopted, uidBase?: number, networkRules?: Promise<void>, _restored?: Restored): OciSandbox {
    return new OciSandbox(this.ctx, spec, user, agentSecret, adopted, uidBase, networkRules);
  }

  /**
   * What a sandbox seeded from `spec.seed` restores (a memory snapshot), or undefined (a files
   * snapshot, which tt-layer unpacks). Here: none can be restored.
   */
  protected async restoredFrom(spec: SandboxSpec, _paths: SandboxPaths, _uidBase: number): Promise<Restored | undefined> {
    if (spec.seed !== undefined && (await isMemorySnapshot(spec.seed))) {
      throw new InvalidArgumentError(`the snapshot keeps a gVisor sandbox's memory: a ${this.name} sandbox cannot be made from it (use runtime gvisor)`);
    }
    return undefined;
  }

  async destroy(id: string): Promise<void> {
    checkSandboxId(id);
    await removeSandbox(this.ctx, id);
  }

  close(): void {
    this.ctx.prespawner.close();
  }

  // One mkdir on the hot path: the driver's dir is made only when it is missing.
  private async makeStateDir(id: string, dir: string): Promise<void> {
    const make = (): Promise<unknown> => mkdir(dir, { mode: 0o700 });
    await make()
      .catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await mkdir(this.ctx.driverDir, { recursive: true, mode: 0o700 });
        await make();
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') throw new ConflictError(`sandbox ${id} already exists: choose another id`);
        throw err;
      });
  }

  private async stateDirIds(): Promise<string[]> {
    const entries = await readdir(this.ctx.driverDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  }

  /** The runtime's containers: all of the Runtime's root, or (`enter`) those of each sandbox `ids` names, a few at a time. */
  private async listContainers(ids: string[]): Promise<ListedContainer[]> {
    const roots = this.ctx.tool.userns === 'join' ? [this.ctx.runtimeRoot] : ids.map((id) => this.ctx.paths(id).runtimeRoot);
    const out: ListedContainer[] = [];
    for (let i = 0; i < roots.length; i += LIST_CONCURRENCY) {
      const lists = await Promise.all(roots.slice(i, i + LIST_CONCURRENCY).map((root) => this.listRoot(root)));
      out.push(...lists.flat());
    }
    return out;
  }

  private async listRoot(root: string): Promise<ListedContainer[]> {
    if (this.ctx.tool.userns === 'enter' && !(await exists(root))) return [];
    const res = await this.ctx.call(this.ctx.tool.list(root), { allowNonZero: true });
    if (res.exitCode !== 0) return [];
    const parsed = JSON.parse(res.stdout.trim() || 'null') as ListedContainer[] | null;
    return (parsed ?? []).filter((c) => c.id.startsWith('tt-'));
  }
}

/** Makes `dir` and `sub` inside it, owned by the sandbox's mapped root and private to it. */
async function makeOwnedDir(dir: string, uid: number, sub: string): Promise<void> {
  for (const d of [dir, sub]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
    await chown(d, uid, uid);
  }
}

function toState(status: string | undefined): SandboxState {
  switch (status) {
    case 'running':
      return 'running';
    case 'paused':
      return 'paused';
    case 'created':
    case 'creating':
      return 'created';
    default:
      return 'exited';
  }
}

