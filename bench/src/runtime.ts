/**
 * Benchmark `runtime`: what the runtime layer costs. A python3 hello-world through
 * `Runtime.run()` (resolve options, state dir, cgroup, overlay layer, seccomp, output capture,
 * teardown) against bare `runc run` / `runsc run` of a minimal bundle (`runc spec`) over the
 * same python template root, interleaved so that machine noise hits every variant alike.
 *
 *   npm run bench -- runtime [--iterations N]     (default 30, after 3 warm-up rounds)
 *
 * Figures: medians in ms, and `ratioVsRunc` / `ratioVsRunsc` = ours ÷ bare (targets ≤ 1.25 and
 * ≤ 1.10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, Runtime, type RuntimeName } from '@tartarus/runtime';
import type { BenchArgs } from './main.js';
import { makeBundle, type BareBundle } from './bare-runc.js';
import { median, round, seededRandom, timeMs } from './stats.js';

const ARGV = ['python3', '-c', 'print("hello")'];
const WARMUP = 3;

type Variant = 'oursRunc' | 'bareRunc' | 'oursRunsc' | 'bareRunsc';

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const iterations = args.iterations ?? 30;
  const stateDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-state-'));
  const runtime = new Runtime({ stateDir });
  let bundle: BareBundle | undefined;
  try {
    const template = await runtime.templates.ensure('python', {
      onProgress: (p) => console.error(`template ${p.template}: ${p.phase} ${p.message}`),
    });
    bundle = await makeBundle(template.rootfsPath, ARGV, template.defaults.env);
    const b = bundle;
    let n = 0;
    const ours = (name: RuntimeName) => async () => {
      const r = await runtime.run({ runtime: name, template: 'python', command: ARGV, user: 'root', cwd: '/', limits: { cpu: availableParallelism() } });
      check(name, r.stdout.toString(), r.exitCode);
    };
    const bare = (binary: 'runc' | 'runsc') => async () => {
      const root = join(stateDir, `bare-${binary}`);
      const flags = binary === 'runsc' ? ['--network=none'] : [];
      const res = await runCommand([binary, '--root', root, ...flags, 'run', '--bundle', b.dir, `bench-${process.pid}-${++n}`], { timeoutMs: 60_000 });
      check(binary, res.stdout, res.exitCode);
    };
    const variants: [Variant, () => Promise<void>][] = [
      ['oursRunc', ours('container')],
      ['bareRunc', bare('runc')],
      ['oursRunsc', ours('gvisor')],
      ['bareRunsc', bare('runsc')],
    ];
    const times: Record<Variant, number[]> = { oursRunc: [], bareRunc: [], oursRunsc: [], bareRunsc: [] };
    const random = seededRandom(42);
    for (let i = 0; i < WARMUP + iterations; i++) {
      // A fresh random order every round: a run can slow the next one (the kernel tears the
      // previous container down in the background), so no variant may always follow the same one.
      for (const [name, fn] of shuffle(variants, random)) {
        const ms = await timeMs(fn);
        if (i >= WARMUP) times[name].push(ms);
      }
      if (i >= WARMUP) console.error(`round ${i - WARMUP + 1}/${iterations}: ${variants.map(([v]) => `${v} ${round(times[v].at(-1) ?? 0, 1)}`).join(', ')}`);
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<Variant, number>;
    const figures = {
      iterations,
      medianMs: { ours: { runc: round(m.oursRunc, 2), runsc: round(m.oursRunsc, 2) }, bare: { runc: round(m.bareRunc, 2), runsc: round(m.bareRunsc, 2) } },
      ratioVsRunc: round(m.oursRunc / m.bareRunc),
      ratioVsRunsc: round(m.oursRunsc / m.bareRunsc),
      targets: { ratioVsRunc: 1.25, ratioVsRunsc: 1.1 },
    };
    console.error(`ours/runc ${figures.ratioVsRunc} (target ≤ 1.25), ours/runsc ${figures.ratioVsRunsc} (target ≤ 1.10)`);
    return figures;
  } finally {
    await bundle?.dispose();
    await runtime.cleanupOrphans().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}


function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function check(variant: string, stdout: string, exitCode: number | null): void {
  if (exitCode !== 0 || stdout !== 'hello\n') {
    throw new Error(`${variant}: expected "hello" and exit 0, got exit ${exitCode} and ${JSON.stringify(stdout.slice(0, 200))}`);
  }
}
