/**
 * `npm run bench -- forecast`: the create-rate forecast of forecast-driven warm pools
 * (`apps/server/src/pools/`), backtested on synthetic traces — five-minute intervals, a daily
 * cycle (quiet at night, six creates per interval on average, up to eleven at midday),
 * Poisson noise and bursts (1 % of intervals start one: 2–4× the rate for 1–3 intervals). The
 * model is fitted on 7 days and walked forward over the next 7, refitted once a day; a pool
 * sized to each forecast's upper bound serves the interval's creates. No process, no store.
 *
 *   npm run bench -- forecast [--iterations N]   (N traces of different seeds, default 5)
 *
 * Figures (medians over the traces): `coverage` — share of intervals whose count fell within
 * the 90 % interval (target ≥ 0.85); `poolHitRate` — share of creates the pool served;
 * `staticHitRate` — the same for a pool of the same mean size kept all day; `meanPoolSize`,
 * `meanCreates`; `fitMs` — one fit on 7 days of history.
 */
import { HoltWinters, backtest, syntheticTrace } from '@tartarus/server/pools';
import type { BenchArgs } from './main.js';
import { median, round } from './stats.js';

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 5;
  const results = [];
  const fits: number[] = [];
  for (let seed = 1; seed <= n; seed++) {
    const trace = syntheticTrace({ seed });
    const t0 = performance.now();
    HoltWinters.fit(trace.counts.slice(0, 7 * trace.period), trace.period);
    fits.push(performance.now() - t0);
    const r = backtest(trace);
    console.error(`seed ${seed}: coverage ${round(r.coverage, 3)}, pool hit rate ${round(r.hitRate, 3)} (static ${round(r.staticHitRate, 3)}), pool ${round(r.meanPoolSize, 1)} for ${round(r.meanCreates, 1)} creates per interval, ${r.bursts} burst intervals`);
    results.push(r);
  }
  return {
    traces: n,
    intervals: results[0]?.intervals ?? 0,
    coverage: round(median(results.map((r) => r.coverage)), 3),
    coverageTarget: 0.85,
    poolHitRate: round(median(results.map((r) => r.hitRate)), 3),
    staticHitRate: round(median(results.map((r) => r.staticHitRate)), 3),
    meanPoolSize: round(median(results.map((r) => r.meanPoolSize)), 2),
    meanCreates: round(median(results.map((r) => r.meanCreates)), 2),
    fitMs: round(median(fits), 1),
  };
}
