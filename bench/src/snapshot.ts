/**
 * `npm run bench -- snapshot`: snapshots, hibernation and the warm-pool forecast, through the
 * runtime (no server: the API's cost is the same on both sides of each ratio).
 *
 * - Files snapshot (container): a sandbox writes 32 files of 256 KiB, its files are snapshotted;
 *   then, interleaved, a create from that snapshot → first output of `echo 42` against a cold create
 *   of the same template → first output. `filesRestoreRatio` = restore ÷ cold.
 * - Memory (microVM, where QEMU runs): a create from a memory snapshot → first output of `echo 42`
 *   against a cold microVM create → first output: `restoreRatio` = restore ÷ cold; a sandbox
 *   hibernated and woken, wake → first output: `wakeRatio` = wake ÷ cold. The saved state's size
 *   against the guest's RAM (`stateToMemory`; pages never touched are not written).
 * - Memory (gVisor): snapshot-gvisor.ts (`gvisorRestoreRatio`, `gvisorSnapshotMs`, `gvisorImageToMemory`).
 * - The forecast backtest of `npm run bench -- forecast` (coverage of its 90 % interval, target
 *   ≥ 0.85, and the pool's hit rate).
 *
 *   npm run bench -- snapshot [--iterations N]   (default 10 rounds of each, after one warm-up)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type SandboxHandle, type SandboxOptions } from '@tartarus/runtime';
import type { BenchArgs } from './main.js';
import { run as forecast } from './forecast.js';
import { gvisorRounds } from './snapshot-gvisor.js';
import { checkStop, median, round, timeMs } from './stats.js';

/** Create → start → first output of `echo 42` (the sandbox is left to the caller). */
async function firstOutput(runtime: Runtime, options: SandboxOptions): Promise<{ ms: number; sandbox: SandboxHandle }> {
  let sandbox: SandboxHandle | undefined;
  const ms = await timeMs(async () => {
    sandbox = await runtime.createSandbox(options);
    await sandbox.start();
    await execFirstOutput(sandbox);
  });
  return { ms, sandbox: sandbox as SandboxHandle };
}

/** Runs `echo 42` in `sandbox`, resolving at its first output. */
async function execFirstOutput(sandbox: SandboxHandle): Promise<void> {
  let first: () => void = () => undefined;
  const seen = new Promise<void>((r) => (first = r));
  const h = await sandbox.exec({ argv: ['echo', '42'], onOutput: () => first() });
  await seen;
  await h.wait();
}

async function filesRounds(runtime: Runtime, n: number): Promise<Record<string, unknown>> {
  const base: SandboxOptions = { template: 'busybox', runtime: 'container', timeoutMs: 0 };
  const source = await runtime.createSandbox(base);
  await source.start();
  const written = await (await source.exec({ argv: ['sh', '-c', 'mkdir -p /data && for i in $(seq 32); do head -c 262144 /dev/urandom > /data/f$i; done'], user: 'root' })).wait();
  if (written.exitCode !== 0) throw new Error(`writing the files: ${written.stderr.toString()}`);
  const { digest, sizeBytes } = await runtime.snapshots.take(source, 'container', 'bench-snapshot');
  await source.destroy();
  const seed = await runtime.snapshots.path('bench-snapshot');
  const restore: number[] = [];
  const cold: number[] = [];
  try {
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      const a = await firstOutput(runtime, { ...base, seed });
      const ok = await (await a.sandbox.exec({ argv: ['sh', '-c', 'ls /data | wc -l'], user: 'root' })).wait();
      await a.sandbox.destroy();
      if (ok.stdout.toString().trim() !== '32') throw new Error(`the restored sandbox has ${ok.stdout.toString().trim()} of 32 files`);
      const b = await firstOutput(runtime, base);
      await b.sandbox.destroy();
      if (i === 0) continue;
      restore.push(a.ms);
      cold.push(b.ms);
    }
  } finally {
    await runtime.snapshots.remove('bench-snapshot', digest);
  }
  console.error(`files: restore ${round(median(restore), 1)} ms, cold ${round(median(cold), 1)} ms, snapshot ${sizeBytes} bytes`);
  return { filesRestoreMs: round(median(restore), 1), coldCreateMs: round(median(cold), 1), filesRestoreRatio: round(median(restore) / median(cold), 3), filesSnapshotBytes: sizeBytes };
}

async function memoryRounds(runtime: Runtime, n: number): Promise<Record<string, unknown>> {
  const available = (await runtime.available())['microvm'];
  if (!available?.ok) {
    console.error(`memory snapshots skipped: microvm unavailable: ${available && !available.ok ? available.reason : 'not registered'}`);
    return { restoreRatio: null, wakeRatio: null, memorySkipped: available && !available.ok ? available.reason : 'microvm not registered' };
  }
  const base: SandboxOptions = { template: 'busybox', runtime: 'microvm', limits: { memoryMiB: 128 }, timeoutMs: 0 };
  const sleeper = await runtime.createSandbox(base);
  await sleeper.start();
  const wake: number[] = [];
  const cold: number[] = [];
  const state: number[] = [];
  const restore: number[] = [];
  let digest = '';
  try {
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      const { stateBytes } = await (sleeper.hibernate as () => Promise<{ stateBytes: number }>)();
      state.push(stateBytes);
      const w = await timeMs(async () => {
        await (sleeper.wake as () => Promise<void>)();
        await execFirstOutput(sleeper);
      });
      const c = await firstOutput(runtime, base);
      await c.sandbox.destroy();
      if (i === 0) continue;
      wake.push(w);
      cold.push(c.ms);
    }
    // Sandboxes made from a memory snapshot of it (egress none: the snapshot's).
    digest = (await runtime.snapshots.take(sleeper, 'microvm', 'bench-memory', undefined, true)).digest;
    const seed = await runtime.snapshots.path('bench-memory');
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      const r = await firstOutput(runtime, { ...base, seed });
      await r.sandbox.destroy();
      if (i > 0) restore.push(r.ms);
    }
  } finally {
    await sleeper.destroy();
    if (digest) await runtime.snapshots.remove('bench-memory', digest);
  }
  const guestBytes = (128 + 64) * 2 ** 20; // sizing.ts: the limit plus the guest kernel's share
  console.error(`memory: restore ${round(median(restore), 1)} ms, wake ${round(median(wake), 1)} ms, cold ${round(median(cold), 1)} ms, state ${round(median(state) / 2 ** 20, 1)} MiB of ${guestBytes / 2 ** 20} MiB`);
  return {
    restoreMs: round(median(restore), 1),
    restoreRatio: round(median(restore) / median(cold), 3),
    wakeMs: round(median(wake), 1),
    coldMicrovmCreateMs: round(median(cold), 1),
    wakeRatio: round(median(wake) / median(cold), 3),
    stateMiB: round(median(state) / 2 ** 20, 1),
    stateToMemory: round(median(state) / guestBytes, 3),
  };
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 10;
  const stateDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-state-'));
  const runtime = new Runtime({ stateDir });
  try {
    await runtime.templates.ensure('busybox');
    const files = await filesRounds(runtime, n);
    const memory = await memoryRounds(runtime, n);
    const gvisor = await gvisorRounds(runtime, n, firstOutput);
    const f = await forecast({ ...args, iterations: 5 });
    return { ...files, ...memory, ...gvisor, coverage: f['coverage'], coverageTarget: 0.85, poolHitRate: f['poolHitRate'], staticHitRate: f['staticHitRate'] };
  } finally {
    for (const info of await runtime.list().catch(() => [])) await runtime.destroy(info.runtime, info.id).catch(() => undefined);
    await runtime.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}
