/**
 * Benchmark `exec`: working inside a running sandbox. The exec round trip of `true` through the
 * in-sandbox agent (`SandboxHandle.exec` → fork in the sandbox → exit reported) against a bare
 * `runc exec` of `true` in the same container, interleaved; then kill-to-gone: `kill()` of a
 * sandbox whose main process is `sleep infinity` until `wait()` resolves (runc removed the
 * container).
 *
 *   npm run bench -- exec [--iterations N]     (default 100 exec rounds, 10 kills)
 *
 * Figures: `execMs` (median, ours), `bareRuncExecMs`, `execRatioVsRuncExec` = ours ÷ bare
 * (target ≤ 0.2, and `execMs` ≤ 5), `killMs` (median, target ≤ 100).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, Runtime } from '@tartarus/runtime';
import type { BenchArgs } from './main.js';
import { checkStop, median, round, timeMs } from './stats.js';

const WARMUP = 5;
const KILLS = 10;

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const iterations = args.iterations ?? 100;
  const stateDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-state-'));
  const runtime = new Runtime({ stateDir });
  try {
    await runtime.templates.ensure('python', { onProgress: (p) => console.error(`template ${p.template}: ${p.phase} ${p.message}`) });
    const sandbox = await runtime.createSandbox({ template: 'python', runtime: 'container', command: ['sleep', 'infinity'], timeoutMs: 0 });
    await sandbox.start();
    const runcExec = ['runc', '--root', join(stateDir, 'container', '.oci'), 'exec', `tt-${sandbox.id}`, 'true'];
    const ours: number[] = [];
    const bare: number[] = [];
    try {
      for (let i = 0; i < WARMUP + iterations; i++) {
        checkStop();
        const a = await timeMs(async () => {
          const r = await (await sandbox.exec({ argv: ['true'] })).wait();
          if (r.exitCode !== 0) throw new Error(`exec true: ${r.reason} ${r.exitCode} ${r.message ?? ''}`);
        });
        const b = await timeMs(() => runCommand(runcExec, { timeoutMs: 30_000 }));
        if (i >= WARMUP) {
          ours.push(a);
          bare.push(b);
        }
      }
    } finally {
      await sandbox.destroy();
    }
    console.error(`exec true: ours ${round(median(ours), 2)} ms, runc exec ${round(median(bare), 2)} ms`);
    const kills: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      checkStop();
      const s = await runtime.createSandbox({ template: 'python', runtime: 'container', command: ['sleep', 'infinity'], timeoutMs: 0 });
      try {
        await s.start();
        kills.push(await timeMs(async () => {
          await s.kill();
          await s.wait();
        }));
      } finally {
        await s.destroy();
      }
    }
    console.error(`kill to gone: ${round(median(kills), 1)} ms`);
    const execMs = median(ours);
    return {
      iterations,
      execMs: round(execMs, 2),
      bareRuncExecMs: round(median(bare), 2),
      execRatioVsRuncExec: round(execMs / median(bare)),
      killMs: round(median(kills), 1),
      targets: { execRatioVsRuncExec: 0.2, execMs: 5, killMs: 100 },
    };
  } finally {
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}
