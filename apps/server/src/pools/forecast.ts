/**
 * The create-rate forecast behind forecast-driven warm pools (the old design's Persephone):
 * additive Holt-Winters — level, trend and one seasonal cycle (a day of intervals) — over the
 * number of creates per interval, with a prediction interval that is measured, not assumed.
 *
 * - Fitting: the smoothing constants (α level, β trend, γ season) are chosen from a small grid by
 *   the squared one-step errors over the history after its first cycle (the first cycle only
 *   initialises the state: its level is the cycle's mean, its season the deviations from it).
 * - The interval: counts of independent creates spread like a Poisson count, whose spread grows
 *   with the square root of the mean, and bursts make the errors skewed. So each one-step error
 *   is divided by √max(forecast, 1), and the interval is the forecast plus the empirical 5 % and
 *   95 % quantiles of those scaled errors over the last `RESIDUAL_CYCLES` cycles, times the same
 *   root: wider at the daily peak than in the night, and as wide upwards as the bursts were.
 * - A pool sized to the upper bound serves an interval's creates unless they exceed it.
 *
 * No JavaScript library does Holt-Winters with a prediction interval and is kept up (the npm
 * packages found are unmaintained and give no interval), so this is written here; it is small and
 * its coverage is tested on a seeded synthetic trace (`backtest.ts`).
 */
import { InvalidArgumentError } from '@tartarus/core';

/** The interval's coverage: 90 %, the 5 % and 95 % quantiles. */
const LOW_Q = 0.05;
const HIGH_Q = 0.95;
/** Cycles of scaled one-step errors the interval is read from. */
const RESIDUAL_CYCLES = 3;
/** The grid the smoothing constants are chosen from. */
const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5];
const BETAS = [0, 0.01, 0.05];
const GAMMAS = [0.05, 0.1, 0.2, 0.3, 0.5];

/** The smoothing constants. */
export interface Smoothing {
  alpha: number;
  beta: number;
  gamma: number;
}

/** One interval's forecast: the expected creates and the 90 % prediction interval around them. */
export interface Forecast {
  mean: number;
  low: number;
  high: number;
}

/** A fitted model, advanced one observation at a time. */
export class HoltWinters {
  private level: number;
  private trend: number;
  private readonly season: number[];
  /** Index of the next observation in its cycle. */
  private phase: number;
  /** Scaled one-step errors, newest last (at most `RESIDUAL_CYCLES` cycles). */
  private readonly errors: number[] = [];

  private constructor(
    readonly period: number,
    readonly smoothing: Smoothing,
    first: readonly number[],
  ) {
    const mean = first.reduce((a, b) => a + b, 0) / period;
    this.level = mean;
    this.trend = 0;
    this.season = first.map((y) => y - mean);
    this.phase = 0;
  }

  /**
   * Fits a model to `history` (creates per interval, oldest first) with a cycle of `period`
   * intervals, choosing the smoothing constants that forecast it best one step ahead, and
   * returns it advanced to the end of `history`.
   */
  static fit(history: readonly number[], period: number): HoltWinters {
    checkSeries(history, period);
    let best: { model: HoltWinters; sse: number } | undefined;
    for (const alpha of ALPHAS)
      for (const beta of BETAS)
        for (const gamma of GAMMAS) {
          const model = HoltWinters.run(history, period, { alpha, beta, gamma });
          const sse = model.sse;
          if (best === undefined || sse < best.sse) best = { model: model.hw, sse };
        }
    return (best as { model: HoltWinters }).model;
  }

  private static run(history: readonly number[], period: number, smoothing: Smoothing): { hw: HoltWinters; sse: number } {
    const hw = new HoltWinters(period, smoothing, history.slice(0, period));
    let sse = 0;
    for (let i = period; i < history.length; i++) {
      const y = history[i] as number;
      const e = y - hw.point();
      sse += e * e;
      hw.update(y);
    }
    return { hw, sse };
  }

  /** The next interval's forecast. */
  forecast(): Forecast {
    const mean = Math.max(0, this.point());
    const scale = Math.sqrt(Math.max(mean, 1));
    if (this.errors.length === 0) return { mean, low: mean, high: mean };
    const sorted = [...this.errors].sort((a, b) => a - b);
    return {
      mean,
      low: Math.max(0, mean + quantile(sorted, LOW_Q) * scale),
      high: Math.max(0, mean + quantile(sorted, HIGH_Q) * scale),
    };
  }

  /** Takes the next interval's actual count. */
  update(y: number): void {
    if (!Number.isFinite(y) || y < 0) throw new InvalidArgumentError(`a count of creates must be a number ≥ 0, got ${y}`);
    const { alpha, beta, gamma } = this.smoothing;
    const predicted = this.point();
    this.errors.push((y - Math.max(0, predicted)) / Math.sqrt(Math.max(predicted, 1)));
    if (this.errors.length > RESIDUAL_CYCLES * this.period) this.errors.shift();
    const s = this.season[this.phase] as number;
    const previous = this.level;
    this.level = alpha * (y - s) + (1 - alpha) * (this.level + this.trend);
    this.trend = beta * (this.level - previous) + (1 - beta) * this.trend;
    this.season[this.phase] = gamma * (y - this.level) + (1 - gamma) * s;
    this.phase = (this.phase + 1) % this.period;
  }

  private point(): number {
    return this.level + this.trend + (this.season[this.phase] as number);
  }
}

/** The `q` quantile of sorted `xs` (linear between neighbours). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

function checkSeries(history: readonly number[], period: number): void {
  if (!Number.isInteger(period) || period < 2) throw new InvalidArgumentError(`a cycle must be a whole number of intervals ≥ 2, got ${period}`);
  if (history.length < 2 * period) {
    throw new InvalidArgumentError(`a forecast needs two cycles of history (${2 * period} intervals), got ${history.length}`);
  }
  const bad = history.find((y) => !Number.isFinite(y) || y < 0);
  if (bad !== undefined) throw new InvalidArgumentError(`a count of creates must be a number ≥ 0, got ${bad}`);
}
