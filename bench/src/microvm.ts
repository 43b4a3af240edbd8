/**
 * Benchmark `microvm`: `echo hi` through the microvm driver (`Runtime.run()`: writable layer,
 * QEMU start and cgroup, guest boot, agent connection, exec, output capture, teardown) against
 * bare QEMU booting the same kernel, modules and template disk straight into an init that runs
 * the same command (see packages/runtime/src/drivers/microvm/baseline.ts), interleaved so that
 * machine noise hits both alike; then the agent's exec round trip (`true`) in a running VM.
 *
 *   npm run bench -- microvm [--iterations N]     (default 10 rounds, after 1 warm-up round)
 *   TARTARUS_MICROVM_ACCEL=kvm|tcg|auto           (default auto: KVM if a test boot works)
 *
 * Figures: medians in ms of boot-to-first-output and total; `ratioVsQemu` = ours ÷ bare, total,
 * the median of the per-round ratios (each round runs both back to back, so a burst of load on
 * this shared machine hits the pair, not one side; `ratioOfMedians` is the plain quotient)
 * (target ≤ 1.15); `execRoundTripMs`; `accel`, the acceleration both variants used.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareBaseline, Runtime, startProcess } from '@tartarus/runtime';
import type { BenchArgs } from './main.js';
import { checkStop, median, round, timeMs } from './stats.js';

const WARMUP = 1;
const EXEC_ROUNDS = 30;

interface Sample {
  firstOutputMs: number;
  totalMs: number;
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const iterations = args.iterations ?? 10;
  const stateDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-state-'));
  const runtime = new Runtime({ stateDir });
  try {
    const avail = await runtime.driver('microvm').available();
    if (!avail.ok) throw new Error(`microvm unavailable: ${avail.reason}`);
    const template = await runtime.templates.ensure('busybox');
    const bare = await bareBaseline(template, '/bin/echo');
    const ours = async (): Promise<Sample> => {
      const t0 = performance.now();
      let first = 0;
      const r = await runtime.run({
        runtime: 'microvm',
        template: 'busybox',
        command: ['echo', 'hi'],
        user: 'root',
        cwd: '/',
        onOutput: () => (first ||= performance.now() - t0),
      });
      if (r.exitCode !== 0 || r.stdout.toString() !== 'hi\n')
        throw new Error(
          `ours: exit ${r.exitCode}, ${JSON.stringify(r.stdout.toString())} ${r.message ?? ''}`,
        );
      return { firstOutputMs: first, totalMs: performance.now() - t0 };
    };
    const qemu = async (): Promise<Sample> => {
      const t0 = performance.now();
      let first = 0;
      let seen = '';
      const p = startProcess(bare.argv, {
        timeoutMs: 120_000,
        onOutput: (_s, d) => {
          seen += d.toString();
          if (!first && /^hi\r?$/m.test(seen)) first = performance.now() - t0;
        },
      });
      const res = await p.wait();
      if (res.exitCode !== 0 || !first)
        throw new Error(
          `bare QEMU: exit ${res.exitCode}, output ${JSON.stringify(seen.slice(-300))}`,
        );
      return { firstOutputMs: first, totalMs: performance.now() - t0 };
    };
    const samples: Record<'ours' | 'qemu', Sample[]> = { ours: [], qemu: [] };
    for (let i = 0; i < WARMUP + iterations; i++) {
      const order: ('ours' | 'qemu')[] = i % 2 ? ['qemu', 'ours'] : ['ours', 'qemu'];
      for (const v of order) {
        checkStop();
        const s = await (v === 'ours' ? ours() : qemu());
        if (i >= WARMUP) samples[v].push(s);
      }
      if (i >= WARMUP)
        console.error(
          `round ${i - WARMUP + 1}/${iterations}: ours ${round(samples.ours.at(-1)?.totalMs ?? 0, 0)} ms, bare ${round(samples.qemu.at(-1)?.totalMs ?? 0, 0)} ms`,
        );
    }
    const execRoundTripMs = await execRoundTrip(runtime);
    const med = (v: 'ours' | 'qemu', k: keyof Sample) => median(samples[v].map((s) => s[k]));
    const figures = {
      accel: bare.accel,
      iterations,
      medianMs: {
        ours: {
          firstOutput: round(med('ours', 'firstOutputMs'), 1),
          total: round(med('ours', 'totalMs'), 1),
        },
        qemu: {
          firstOutput: round(med('qemu', 'firstOutputMs'), 1),
          total: round(med('qemu', 'totalMs'), 1),
        },
      },
      ratioVsQemu: round(pairedRatio(samples, 'totalMs')),
      ratioFirstOutputVsQemu: round(pairedRatio(samples, 'firstOutputMs')),
      ratioOfMedians: round(med('ours', 'totalMs') / med('qemu', 'totalMs')),
      execRoundTripMs: round(execRoundTripMs, 2),
      targets: { ratioVsQemu: 1.15 },
    };
    console.error(
      `ours/bare QEMU ${figures.ratioVsQemu} (target ≤ 1.15), exec round trip ${figures.execRoundTripMs} ms, accel ${bare.accel}`,
    );
    return figures;
  } finally {
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Median over rounds of ours ÷ bare for figure `k`. */
function pairedRatio(samples: Record<'ours' | 'qemu', Sample[]>, k: keyof Sample): number {
  return median(samples.ours.map((s, i) => s[k] / (samples.qemu[i]?.[k] ?? Number.NaN)));
}

/** Median time of `true` through exec() in one running VM. */
async function execRoundTrip(runtime: Runtime): Promise<number> {
  const sb = await runtime.createSandbox({ runtime: 'microvm', template: 'busybox' });
  try {
    await sb.start();
    const times: number[] = [];
    for (let i = 0; i < EXEC_ROUNDS + 3; i++) {
      const ms = await timeMs(async () => (await sb.exec({ argv: ['true'] })).wait());
      if (i >= 3) times.push(ms);
    }
    return median(times);
  } finally {
    await sb.destroy();
  }
}
