/**
 * The host cgroup of one QEMU process (cgroup v1, hierarchies cpu, memory, pids), named
 * `tartarus/<id>` like every sandbox's. It caps what the whole VM may take from the host:
 * memory (guest RAM plus QEMU's own overhead: an escape from the guest's limits still stops
 * here), threads, and CPU. CPU is split in two: the vCPU threads, which run the workload, go
 * into the leaf `tartarus/<id>/c` with exactly the sandbox's cores as their CFS quota; QEMU as a
 * whole gets `QEMU_CPU_OVERHEAD` more for its device emulation and I/O threads, so that the
 * emulator's own work does not eat into the workload's share. Both are removed by
 * `removeCgroups()` of cgroups/v1.ts at destroy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_PARENT, CGROUP_ROOT } from '../../cgroups/v1.js';

/** Host limits of one VM. */
export interface VmCgroupLimits {
  /** CPU cores of the workload (the vCPU threads), fractional allowed. */
  cpu: number;
  /** Cap of the QEMU process's memory (guest RAM + overhead), MiB. */
  memoryMiB: number;
  /** Cap of QEMU's threads. */
  pids: number;
}

/** Cores QEMU may use beyond the vCPUs' quota, for device emulation and I/O (0.5). */
export const QEMU_CPU_OVERHEAD = 0.5;
const PERIOD_US = 100_000;

function dir(hierarchy: string, id: string, leaf = ''): string {
  return join(CGROUP_ROOT, hierarchy, CGROUP_PARENT, id, leaf);
}

async function setQuota(path: string, cores: number): Promise<void> {
  await writeFile(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
  await writeFile(
    join(path, 'cpu.cfs_quota_us'),
    String(Math.max(1000, Math.round(cores * PERIOD_US))),
  );
}

/** Creates the VM's cgroups with `limits` and moves `pid` (QEMU, all its threads) into them. */
export async function placeVmInCgroup(
  id: string,
  pid: number,
  limits: VmCgroupLimits,
): Promise<void> {
  await Promise.all(['cpu', 'memory', 'pids'].map((h) => mkdir(dir(h, id), { recursive: true })));
  await setQuota(dir('cpu', id), limits.cpu + QEMU_CPU_OVERHEAD);
  await writeFile(
    join(dir('memory', id), 'memory.limit_in_bytes'),
    String(limits.memoryMiB * 1024 * 1024),
  );
  await writeFile(join(dir('pids', id), 'pids.max'), String(limits.pids));
  for (const h of ['cpu', 'memory', 'pids']) {
    // ESRCH: QEMU already exited (a guest that cannot boot fails fast); its own error says why.
    await writeFile(join(dir(h, id), 'cgroup.procs'), String(pid)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ESRCH') throw err;
    });
  }
}

/** Moves the vCPU threads `threadIds` into the leaf whose quota is the workload's `cpu` cores. */
export async function confineVcpus(id: string, threadIds: number[], cpu: number): Promise<void> {
  const leaf = dir('cpu', id, 'c');
  await mkdir(leaf, { recursive: true });
  await setQuota(leaf, cpu);
  for (const tid of threadIds) await writeFile(join(leaf, 'tasks'), String(tid));
}
