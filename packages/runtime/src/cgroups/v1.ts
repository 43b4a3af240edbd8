/**
 * cgroup v1 (this project's hosts run the hybrid layout) for one sandbox.
 *
 * Layout: the runtime (runc/runsc) creates and deletes the leaf `tartarus/<id>/c` in every
 * hierarchy from its config (cpu, pids). The memory limit is set here, one level up, on
 * `memory/tartarus/<id>`, which Tartarus owns: the leaf is gone as soon as the container exits,
 * but the parent still holds `max_usage_in_bytes`, which tells an OOM kill from any other
 * SIGKILL (v1 counts `oom_kill` only on the leaf, and `failcnt` stays 0 on the parent).
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

/** Creates `memory/tartarus/<id>` with the sandbox's memory (and memory+swap) limit. */
export async function prepareMemoryCgroup(id: string, memoryMiB: number): Promise<void> {
  const dir = join(CGROUP_ROOT, 'memory', CGROUP_PARENT, id);
  await mkdir(dir, { recursive: true });
  const bytes = String(memoryMiB * 1024 * 1024);
  await writeFile(join(dir, 'memory.limit_in_bytes'), bytes);
  // No swap escape: memsw exists only with swap accounting; without it there is nothing to cap.
  await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), bytes).catch(ignoreCode('ENOENT'));
}

/** True when the sandbox's memory use reached its limit at some point (an OOM kill's mark). */
export async function memoryLimitReached(id: string): Promise<boolean> {
  const dir = join(CGROUP_ROOT, 'memory', CGROUP_PARENT, id);
  try {
    const [max, limit] = await Promise.all([
      readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8'),
      readFile(join(dir, 'memory.limit_in_bytes'), 'utf8'),
    ]);
    // Charges come in pages and batches: "reached" allows a little under the exact limit.
    return Number(max) >= Number(limit) - 256 * 1024;
  } catch {
    return false;
  }
}

/** CPU, memory and pids of a sandbox now; zeros for what is already gone. */
export async function readStats(id: string): Promise<SandboxStats> {
  const leaf = (ctl: string, file: string): string => join(CGROUP_ROOT, ctl, CGROUP_PARENT, id, 'c', file);
  const num = (p: string): Promise<number> => readFile(p, 'utf8').then((s) => Number(s.trim()) || 0, () => 0);
  const [cpuUsageNs, memoryBytes, pids] = await Promise.all([
    num(leaf('cpuacct', 'cpuacct.usage')),
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

function ignoreCode(code: string): (err: NodeJS.ErrnoException) => void {
  return (err) => {
    if (err.code !== code) throw err;
  };
}
