/**
 * Finding a sandbox from the host alone. Every sandbox's host objects carry the platform marker
 * `tartarus` (cgroups `tartarus/<id>`, runc/runsc ids `tt-<id>`, QEMU `-name tt-<id>`), and its
 * owner is recorded outside any data directory: `/run/tartarus/owners/<id>.json` holds the state
 * dir and driver. /run is a tmpfs, so the record lives exactly as long as the host's processes
 * can. `collectOrphans()` (run by `tartarus up` at start and by `tartarus gc`) removes what no
 * state dir owns any more — a data dir deleted after its `up` stopped — and never touches a
 * sandbox whose state dir exists (another `up`'s, running or stopped, re-adopts it). Then the
 * host network goes too when no live process holds a lease on it (network/host.ts).
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { releaseOrphanRanges } from '../sandbox/uid-ranges.js';
import { machineNetworkCount, releaseOrphanNetworks } from '../network/sandbox.js';
import { collectHostNetwork } from '../network/host.js';
import type { RuntimeName } from '../driver.js';
import { CGROUP_PARENT, CGROUP_ROOT } from '../cgroups/v1.js';
import { isAlive } from '../templates/lock.js';

/** Where owner records live: `$TARTARUS_OWNERS_DIR` or /run/tartarus/owners. */
export function ownersDir(): string {
  return process.env.TARTARUS_OWNERS_DIR ?? '/run/tartarus/owners';
}

/** What an owner record says. */
export interface Owner {
  /** The sandbox's state dir (`<stateDir>/<driver>/<id>`): while it exists, the sandbox is owned. */
  dir: string;
  runtime: RuntimeName;
  /** A network namespace made ahead (network/spares.ts), not a sandbox: collected the same way, not counted as one. */
  spare?: true;
}

/** Records the owner of sandbox `id` (before any of its processes start). */
let madeDir: string | undefined;

export async function recordOwner(id: string, owner: Owner): Promise<void> {
  // Once per process (and again if someone removed it): this is on every create's path.
  if (madeDir !== ownersDir()) {
    await mkdir(ownersDir(), { recursive: true, mode: 0o700 });
    madeDir = ownersDir();
  }
  // Written aside and renamed: a concurrent collector never reads half a record.
  const tmp = join(ownersDir(), `.${id}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(owner), { mode: 0o600 }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(ownersDir(), { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(owner), { mode: 0o600 });
  });
  await rename(tmp, join(ownersDir(), `${id}.json`));
}

/** Forgets sandbox `id` (its host objects are gone). Idempotent. */
export async function forgetOwner(id: string): Promise<void> {
  await rm(join(ownersDir(), `${id}.json`), { force: true });
}

/** What `collectOrphans` removed. */
export interface Collected {
  /** Sandbox ids whose processes and cgroups were removed. */
  sandboxes: string[];
  /** Processes killed. */
  processes: number;
  /** Whether the host network (bridge, nftables tables) was taken down: no live process used it any more. */
  hostNetwork: boolean;
}

/** Removes every sandbox whose recorded state dir is gone: its processes, cgroups and record. */
export async function collectOrphans(): Promise<Collected> {
  const out: Collected = { sandboxes: [], processes: 0, hostNetwork: false };
  for (const name of await readdir(ownersDir()).catch(() => [] as string[])) {
    if (name.startsWith('.')) {
      await removeDeadWritersTemp(name);
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -'.json'.length);
    const owner = await readFile(join(ownersDir(), name), 'utf8').then((t) => JSON.parse(t) as Owner, () => undefined);
    // Unreadable (being replaced, damaged): never a reason to kill anything.
    if (!owner || typeof owner.dir !== 'string' || (await exists(owner.dir))) continue;
    out.processes += await killCgroup(id);
    await removeCgroupTree(id);
    // Its run dir (sandbox/native.ts userNsRootPath): an empty mount point, or a gVisor sandbox's bundle and runsc state.
    await rm(join(dirname(ownersDir()), 'roots', id), { recursive: true, force: true, maxRetries: 3 });
    await forgetOwner(id);
    if (!owner.spare) out.sandboxes.push(id);
  }
  // Networks and uid ranges whose sandbox has no owner record any more (its processes are gone): free again.
  await releaseOrphanNetworks();
  await releaseOrphanRanges();
  // What a crashed process left of the shared host network, once nothing uses it.
  out.hostNetwork = await collectHostNetwork(machineNetworkCount);
  return out;
}

/** A record's temp file (`.<id>.<pid>.tmp`) whose writer died before renaming it: removed. */
async function removeDeadWritersTemp(name: string): Promise<void> {
  const pid = Number(/\.(\d+)\.tmp$/.exec(name)?.[1]);
  if (!pid || isAlive(pid)) return;
  await rm(join(ownersDir(), name), { force: true });
}

/** SIGKILL to every process in the sandbox's cgroups (all hierarchies), until none is left. */
async function killCgroup(id: string): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = await cgroupPids(id);
    if (pids.size === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return killed;
}

async function cgroupPids(id: string): Promise<Set<number>> {
  const pids = new Set<number>();
  for (const h of await hierarchies()) {
    for (const dir of await subtree(join(CGROUP_ROOT, h, CGROUP_PARENT, id))) {
      const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const p of text.split('\n')) if (p.trim()) pids.add(Number(p));
    }
  }
  return pids;
}

/** Removes the sandbox's cgroup directories, deepest first. */
async function removeCgroupTree(id: string): Promise<void> {
  for (const h of await hierarchies()) {
    const dirs = await subtree(join(CGROUP_ROOT, h, CGROUP_PARENT, id));
    for (const dir of dirs.reverse()) await rmdir(dir).catch(() => undefined);
  }
}

/** `dir` and every cgroup below it, parents first; empty when it does not exist. */
async function subtree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [];
  const below = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => subtree(join(dir, e.name))));
  return [dir, ...below.flat()];
}

async function hierarchies(): Promise<string[]> {
  const entries = await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name);
}

function exists(path: string): Promise<boolean> {
  return readdir(path).then(
    () => true,
    () => false,
  );
}
