/**
 * Benchmark entry point: `npm run bench -- NAME [--iterations N] [--runs N]`.
 * Each benchmark is a module `./NAME.js` exporting `run(args)`; it prints what it likes and
 * returns its figures, which are printed last as one JSON line (medians, ratios).
 */
import { parseArgs } from 'node:util';
import { BenchInterrupted, requestStop } from './stats.js';

/** What every benchmark module exports. */
export interface Benchmark {
  /** Runs the benchmark; returns its figures (medians in ms, ratios, rates). */
  run(args: BenchArgs): Promise<Record<string, unknown>>;
}

/** Arguments shared by every benchmark. */
export interface BenchArgs {
  /** Iterations per measured variant; each benchmark picks its own default when undefined. */
  iterations: number | undefined;
  /** Runs per configuration, for throughput benchmarks (`cluster`); the others ignore it. */
  runs: number | undefined;
}

/** The benchmarks (modules beside this one that are not benchmarks, e.g. `stats`, are not names). */
const NAMES = ['runtime', 'api', 'microvm', 'scheduler', 'exec', 'pool', 'images', 'network', 'deploy', 'cluster', 'forecast', 'snapshot'];

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { iterations: { type: 'string', short: 'n' }, runs: { type: 'string' } },
});
const name = positionals[0];
if (!name || !NAMES.includes(name)) {
  console.error(
    `usage: npm run bench -- NAME [--iterations N] [--runs N]   (NAME: ${NAMES.join(', ')})${name ? `; no benchmark named "${name}"` : ''}`,
  );
  process.exit(2);
}
/** A positive integer flag, or undefined when not given; exits 2 naming the flag otherwise. */
function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`--${flag} must be a positive integer, got "${text}"`);
  process.exit(2);
}
const iterations = positive('iterations', values.iterations);
const runs = positive('runs', values.runs);
const mod = (await import(`./${name}.js`)) as Benchmark;
// A signal stops the benchmark after its current iteration, through its own `finally` blocks, so
// that its sandboxes, bundles and temp dirs are removed; a second signal exits at once.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (process.exitCode !== undefined) process.exit(130);
    process.exitCode = 130;
    console.error(
      `${sig}: stopping after the current iteration and cleaning up (again to exit at once)`,
    );
    requestStop(sig);
  });
}
try {
  const figures = await mod.run({ iterations, runs });
  console.log(JSON.stringify({ bench: name, ...figures }));
} catch (e) {
  if (!(e instanceof BenchInterrupted)) throw e;
  console.error('benchmark interrupted; cleaned up');
}
