/**
 * The host cgroup of one QEMU process (cgroup v1, hierarchies cpu, memory, pids), named
 * `tartarus/<id>` like every sandbox's. It caps what the whole VM may take from the host: CPU
 * time (the sandbox's fractional cores, as a CFS quota), memory (guest RAM plus QEMU's own
 * overhead: an escape from the guest's limits still stops here) and threads. Removed by
 * `removeCgroups()` of cgroups/v1.ts at destroy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_PARENT, CGROUP_ROOT } from '../../cgroups/v1.js';

/** Host limits of one VM. */
export interface VmCgroupLimits {
  /** CPU cores, fractional allowed. */
  cpu: number;
  /** Cap of the QEMU process's memory (guest RAM + overhead), MiB. */
  memoryMiB: number;
  /** Cap of QEMU's threads. */
  pids: number;
}

const PERIOD_US = 100_000;

/** Creates the VM's cgroups with `limits` and moves `pid` (QEMU) into them. */
export async function placeVmInCgroup(
  id: string,
  pid: number,
  limits: VmCgroupLimits,
): Promise<void> {
  const dir = (h: string): string => join(CGROUP_ROOT, h, CGROUP_PARENT, id);
  await Promise.all(['cpu', 'memory', 'pids'].map((h) => mkdir(dir(h), { recursive: true })));
  await writeFile(join(dir('cpu'), 'cpu.cfs_period_us'), String(PERIOD_US));
  await writeFile(
    join(dir('cpu'), 'cpu.cfs_quota_us'),
    String(Math.max(1000, Math.round(limits.cpu * PERIOD_US))),
  );
  await writeFile(
    join(dir('memory'), 'memory.limit_in_bytes'),
    String(limits.memoryMiB * 1024 * 1024),
  );
  await writeFile(join(dir('pids'), 'pids.max'), String(limits.pids));
  for (const h of ['cpu', 'memory', 'pids'])
    await writeFile(join(dir(h), 'cgroup.procs'), String(pid));
}
