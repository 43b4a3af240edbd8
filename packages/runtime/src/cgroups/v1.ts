/**
 * cgroup v1 (this project's hosts run the hybrid layout) for one sandbox.
 *
 * Layout: the runtime (runc/runsc) creates the leaf `tartarus/<id>/c` in every hierarchy with
 * the config's limits (memory, cpu, pids), and deletes the leaf as soon as the container exits.
 * The parent `tartarus/<id>` (created by the runtime's mkdir -p, removed here at destroy)
 * outlives it and still holds the hierarchical `memory.max_usage_in_bytes`: a SIGKILL with the
 * high-water mark at the limit is an OOM kill. (v1 counts `oom_kill` only on the leaf, which
 * is gone by then, and `failcnt` stays 0 on the parent.)
 */
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxStats } from '../driver.js';

/** Where the v1 hierarchies are mounted. */
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** Top cgroup of every Tartarus sandbox, in every hierarchy. */
export const CGROUP_PARENT = 'tartarus';

/** `cgroupsPath` for the OCI config of sandbox `id`. */
export function cgroupsPathFor(id: string): string {
  return `/${CGROUP_PARENT}/${id}/c`;
}

/** True when the host has the v1 memory, cpu and pids controllers mounted. */
export async function cgroupV1Available(): Promise<boolean> {
  const files = ['memory/memory.limit_in_bytes', 'cpu/cpu.cfs_quota_us', 'pids/cgroup.procs'];
  const found = await Promise.all(files.map((f) => readFile(join(CGROUP_ROOT, f)).then(() => true, () => false)));
  return found.every(Boolean);
}

let swap: Promise<boolean> | undefined;
/** Whether the host accounts memory+swap (`memory.memsw.limit_in_bytes` exists), read once. */
export function swapAccounting(): Promise<boolean> {
  swap ??= readFile(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes')).then(() => true, () => false);
  return swap;
}

/** Hierarchies Tartarus fills itself when the runtime ignores cgroups (runsc): limits and stats. */
export const OWN_CONTROLLERS: readonly string[] = ['memory', 'pids', 'cpu', 'cpuacct'];

/** The leaf dirs `<controller>/tartarus/<id>/c` of `OWN_CONTROLLERS`. */
export function ownCgroupDirs(id: string): string[] {
  return OWN_CONTROLLERS.map((c) => join(CGROUP_ROOT, c, CGROUP_PARENT, id, 'c'));
}

/**
 * Creates the sandbox's leaf cgroups with its memory (no swap) and pids limits, for a runtime
 * that is then started inside them (tt-layer --cgroup). The CPU limit comes later
 * (`applyCpuLimit`). Removed by `removeCgroups`.
 */
export async function createOwnCgroups(id: string, limits: { memoryMiB: number; pids: number }): Promise<void> {
  const [memory, pids] = ownCgroupDirs(id) as [string, string, string, string];
  await Promise.all(ownCgroupDirs(id).map((d) => mkdir(d, { recursive: true })));
  const bytes = String(limits.memoryMiB * 1024 * 1024);
  await writeFile(join(memory, 'memory.limit_in_bytes'), bytes);
  // memsw exists only with swap accounting; without it there is no swap to escape to.
  await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), bytes).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await writeFile(join(pids, 'pids.max'), String(limits.pids));
}

/** True when the sandbox's memory use reached its limit at some point (an OOM kill's mark). */
export async function memoryLimitReached(id: string, memoryMiB: number): Promise<boolean> {
  const file = join(CGROUP_ROOT, 'memory', CGROUP_PARENT, id, 'memory.max_usage_in_bytes');
  try {
    const max = Number(await readFile(file, 'utf8'));
    // Charges come in pages and batches: "reached" allows a little under the exact limit.
    return max >= memoryMiB * 1024 * 1024 - 256 * 1024;
  } catch {
    return false;
  }
}

/**
 * Sets the CPU limit of a running sandbox's leaf cgroup. gVisor gets its limit this way, once
 * the workload runs: runsc's own boot (sentry, gofer) is then not throttled, the workload is.
 */
export async function applyCpuLimit(id: string, cpu: number, periodUs: number): Promise<void> {
  const dir = join(CGROUP_ROOT, 'cpu', CGROUP_PARENT, id, 'c');
  await writeFile(join(dir, 'cpu.cfs_period_us'), String(periodUs));
  await writeFile(join(dir, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(cpu * periodUs))));
}

/**
 * CPU, memory and pids of a sandbox now; zeros for what is already gone. CPU and memory are read
 * on the parent `tartarus/<id>`: v1 charges both up the hierarchy, so the parent still holds the
 * whole CPU time after the runtime removed the leaf (a finished run's total, for usage metering).
 */
export async function readStats(id: string): Promise<SandboxStats> {
  const leaf = (ctl: string, file: string): string => join(CGROUP_ROOT, ctl, CGROUP_PARENT, id, 'c', file);
  const num = (p: string): Promise<number> => readFile(p, 'utf8').then((s) => Number(s.trim()) || 0, () => 0);
  const [cpuUsageNs, memoryBytes, pids] = await Promise.all([
    num(join(CGROUP_ROOT, 'cpuacct', CGROUP_PARENT, id, 'cpuacct.usage')),
    num(join(CGROUP_ROOT, 'memory', CGROUP_PARENT, id, 'memory.usage_in_bytes')),
    num(leaf('pids', 'pids.current')),
  ]);
  return { cpuUsageNs, memoryBytes, pids };
}

let hierarchies: Promise<string[]> | undefined;
/** Names of the mounted hierarchies (`cpu`, `memory`, ..., `unified`), read once. */
function listHierarchies(): Promise<string[]> {
  hierarchies ??= readdir(CGROUP_ROOT, { withFileTypes: true }).then(
    (es) => es.filter((e) => e.isDirectory()).map((e) => e.name),
    () => [],
  );
  return hierarchies;
}

/**
 * Removes `tartarus/<id>` (and a leftover leaf) from every hierarchy. Missing is fine. A cgroup
 * whose last task is still exiting is busy for a moment, so EBUSY is retried briefly.
 */
export async function removeCgroups(id: string): Promise<void> {
  const names = await listHierarchies();
  await Promise.all(
    names.map(async (h) => {
      const parent = join(CGROUP_ROOT, h, CGROUP_PARENT, id);
      await rmdirRetry(join(parent, 'c'));
      await rmdirRetry(parent);
    }),
  );
}

/** Ids that have a `tartarus/<id>` cgroup in any hierarchy. */
export async function listCgroupIds(): Promise<string[]> {
  const names = await listHierarchies();
  const ids = new Set<string>();
  for (const h of names) {
    const entries = await readdir(join(CGROUP_ROOT, h, CGROUP_PARENT), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) ids.add(e.name);
  }
  return [...ids];
}

async function rmdirRetry(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
