/**
 * The gVisor part of `npm run bench -- snapshot`: a sandbox (busybox, 128 MiB limit) whose main
 * process keeps a counter in memory is snapshotted with its memory, timed (`gvisorSnapshotMs`: the
 * source is checkpointed and restored in place, so this is about its downtime); then, interleaved,
 * a create from that snapshot → first output of `echo 42` against a cold gVisor create → first
 * output: `gvisorRestoreRatio` = restore ÷ cold. `gvisorImageToMemory`: the snapshot's size against
 * the sandbox's memory in use (its cgroup's usage, the sentry's included).
 */
import { readFile } from 'node:fs/promises';
import type { Runtime, SandboxHandle, SandboxOptions } from '@tartarus/runtime';
import { checkStop, median, round, timeMs } from './stats.js';

type FirstOutput = (runtime: Runtime, options: SandboxOptions) => Promise<{ ms: number; sandbox: SandboxHandle }>;

/** Memory in use by sandbox `id` (cgroup v1), bytes. */
async function memoryInUse(id: string): Promise<number> {
  return Number((await readFile(`/sys/fs/cgroup/memory/tartarus/${id}/memory.usage_in_bytes`, 'utf8')).trim());
}

export async function gvisorRounds(runtime: Runtime, n: number, firstOutput: FirstOutput): Promise<Record<string, unknown>> {
  const available = (await runtime.available())['gvisor'];
  if (!available?.ok) {
    const why = available && !available.ok ? available.reason : 'gvisor not registered';
    console.error(`gVisor memory snapshots skipped: ${why}`);
    return { gvisorRestoreRatio: null, gvisorSkipped: why };
  }
  const base: SandboxOptions = { template: 'busybox', runtime: 'gvisor', limits: { memoryMiB: 128 }, timeoutMs: 0 };
  const source = await runtime.createSandbox({ ...base, command: ['sh', '-c', 'n=0; while :; do n=$((n+1)); sleep 0.05; done'] });
  await source.start();
  const snap: number[] = [];
  const restore: number[] = [];
  const cold: number[] = [];
  let digest = '';
  let sizeBytes = 0;
  let inUse = 0;
  try {
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      inUse = await memoryInUse(source.id);
      const id = `bench-gvisor-${i}`;
      const ms = await timeMs(async () => {
        const taken = await runtime.snapshots.take(source, 'gvisor', id, undefined, true);
        sizeBytes = taken.sizeBytes;
        if (i === n) digest = taken.digest;
        else await runtime.snapshots.remove(id, taken.digest);
      });
      if (i > 0) snap.push(ms);
    }
    const seed = await runtime.snapshots.path(`bench-gvisor-${n}`);
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      const r = await firstOutput(runtime, { ...base, seed });
      await r.sandbox.destroy();
      const c = await firstOutput(runtime, base);
      await c.sandbox.destroy();
      if (i === 0) continue;
      restore.push(r.ms);
      cold.push(c.ms);
    }
  } finally {
    await source.destroy();
    if (digest) await runtime.snapshots.remove(`bench-gvisor-${n}`, digest);
  }
  console.error(`gvisor: snapshot ${round(median(snap), 1)} ms, restore ${round(median(restore), 1)} ms, cold ${round(median(cold), 1)} ms, image ${round(sizeBytes / 2 ** 20, 2)} MiB of ${round(inUse / 2 ** 20, 1)} MiB in use`);
  return {
    gvisorSnapshotMs: round(median(snap), 1),
    gvisorRestoreMs: round(median(restore), 1),
    coldGvisorCreateMs: round(median(cold), 1),
    gvisorRestoreRatio: round(median(restore) / median(cold), 3),
    gvisorImageMiB: round(sizeBytes / 2 ** 20, 2),
    gvisorImageToMemory: round(sizeBytes / inUse, 3),
  };
}
