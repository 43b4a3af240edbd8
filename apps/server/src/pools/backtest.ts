/**
 * A backtest of the create-rate forecast (`forecast.ts`) on a synthetic trace: a daily cycle of
 * creates with Poisson noise and bursts, the model fitted on the first days, then walked forward
 * one interval at a time (refitted once a day, as a server would) while a warm pool sized to each
 * forecast's upper bound serves the interval's creates. It reports how often the actual count fell
 * inside the 90 % interval (`coverage`) and the share of creates the pool served (`hitRate`).
 * Seeded: the same options give the same figures (a test asserts them; `npm run bench -- forecast`
 * prints them).
 */
import { seededRandom } from '@tartarus/core';
import { HoltWinters } from './forecast.js';

/** The synthetic trace. */
export interface TraceOptions {
  /** Intervals per day. Default 288 (five minutes). */
  period?: number;
  /** Days. Default 14. */
  days?: number;
  /** Mean creates per interval over the day. Default 6. */
  base?: number;
  /** Daily swing around it (the peak is base + amplitude). Default 5. */
  amplitude?: number;
  /** Chance of a burst starting in an interval (a burst multiplies the rate by 2–4 for 1–3 intervals). Default 0.01. */
  burstChance?: number;
  /** Seed of the generator. Default 42. */
  seed?: number;
}

/** What the backtest found. */
export interface BacktestResult {
  intervals: number;
  /** Share of intervals whose actual count was within the 90 % interval. */
  coverage: number;
  /** Share of creates a pool sized to the upper bound served. */
  hitRate: number;
  /** Mean pool size (the upper bound rounded up) and mean actual creates per interval. */
  meanPoolSize: number;
  /** For comparison: the share a pool of that mean size, the same all day, would have served. */
  staticHitRate: number;
  meanCreates: number;
  /** Intervals that had a burst. */
  bursts: number;
}

/** A Poisson count of mean `lambda` (Knuth's method; a normal approximation above 50). */
export function poisson(lambda: number, random: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    const u = Math.max(random(), Number.EPSILON);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(lambda + z * Math.sqrt(lambda)));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

/** The synthetic trace's counts and which intervals were bursts. */
export function syntheticTrace(o: TraceOptions = {}): { counts: number[]; burst: boolean[]; period: number } {
  const period = o.period ?? 288;
  const days = o.days ?? 14;
  const base = o.base ?? 6;
  const amplitude = o.amplitude ?? 5;
  const burstChance = o.burstChance ?? 0.01;
  const random = seededRandom(o.seed ?? 42);
  const counts: number[] = [];
  const burst: boolean[] = [];
  let burstLeft = 0;
  let burstFactor = 1;
  for (let i = 0; i < period * days; i++) {
    if (burstLeft === 0 && random() < burstChance) {
      burstLeft = 1 + Math.floor(random() * 3);
      burstFactor = 2 + random() * 2;
    }
    // Quiet at midnight, busiest at midday.
    const rate = base + amplitude * Math.sin((2 * Math.PI * (i % period)) / period - Math.PI / 2);
    counts.push(poisson(Math.max(0, rate) * (burstLeft > 0 ? burstFactor : 1), random));
    burst.push(burstLeft > 0);
    if (burstLeft > 0) burstLeft--;
  }
  return { counts, burst, period };
}

/** Fits on the first `trainDays` days of `trace`, then walks forward over the rest. */
export function backtest(trace: { counts: number[]; burst: boolean[]; period: number }, trainDays = 7): BacktestResult {
  const { counts, period } = trace;
  const start = trainDays * period;
  let model = HoltWinters.fit(counts.slice(0, start), period);
  let inside = 0;
  let served = 0;
  let creates = 0;
  let poolSum = 0;
  let bursts = 0;
  const seen: number[] = [];
  for (let i = start; i < counts.length; i++) {
    // Refitted once a day on everything seen so far, as a server would.
    if (i > start && (i - start) % period === 0) model = HoltWinters.fit(counts.slice(0, i), period);
    const f = model.forecast();
    const y = counts[i] as number;
    if (y >= f.low && y <= f.high) inside++;
    const pool = Math.ceil(f.high);
    poolSum += pool;
    served += Math.min(y, pool);
    creates += y;
    if (trace.burst[i]) bursts++;
    seen.push(y);
    model.update(y);
  }
  const n = counts.length - start;
  const fixed = Math.round(poolSum / n);
  return {
    intervals: n,
    coverage: inside / n,
    hitRate: creates === 0 ? 1 : served / creates,
    meanPoolSize: poolSum / n,
    staticHitRate: creates === 0 ? 1 : seen.reduce((a, y) => a + Math.min(y, fixed), 0) / creates,
    meanCreates: creates / n,
    bursts,
  };
}
