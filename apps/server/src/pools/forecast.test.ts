// The create-rate forecast: it learns a daily cycle, its 90 % interval covers about 90 % of a
// noisy, bursty trace it has not seen, and a pool sized to the interval's top beats a pool of the
// same mean size that stays the same all day.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backtest, syntheticTrace } from './backtest.js';
import { HoltWinters, quantile } from './forecast.js';
import { denseCounts, sizeFor } from './planner.js';

test('a clean daily cycle is forecast to within a create, with a narrow interval', () => {
  const period = 24;
  const at = (i: number) => 10 + 8 * Math.sin((2 * Math.PI * (i % period)) / period);
  const history = Array.from({ length: 4 * period }, (_, i) => at(i));
  const model = HoltWinters.fit(history, period);
  for (let i = history.length; i < history.length + period; i++) {
    const f = model.forecast();
    assert.ok(Math.abs(f.mean - at(i)) < 1, `interval ${i}: forecast ${f.mean}, actual ${at(i)}`);
    assert.ok(f.low <= f.mean && f.mean <= f.high && f.high - f.low < 1, JSON.stringify(f));
    model.update(at(i));
  }
});

test('on a seeded trace with Poisson noise and bursts the 90 % interval covers 85–95 % of a week it was not fitted on', () => {
  for (const seed of [1, 42]) {
    const r = backtest(syntheticTrace({ seed }));
    assert.equal(r.intervals, 7 * 288);
    assert.ok(r.bursts > 0, 'the trace has bursts');
    assert.ok(r.coverage >= 0.85 && r.coverage <= 0.95, `seed ${seed}: coverage ${r.coverage}`);
    assert.ok(r.hitRate >= 0.95, `seed ${seed}: hit rate ${r.hitRate}`);
    assert.ok(r.hitRate > r.staticHitRate, `seed ${seed}: ${r.hitRate} vs a static pool's ${r.staticHitRate}`);
  }
});

test('the interval is wider at the daily peak than in the night (errors scale with the count)', () => {
  const trace = syntheticTrace({ seed: 3, days: 8, burstChance: 0 });
  const model = HoltWinters.fit(trace.counts.slice(0, 7 * 288), 288);
  const widths: number[] = [];
  for (let i = 7 * 288; i < 8 * 288; i++) {
    const f = model.forecast();
    widths.push(f.high - f.low);
    model.update(trace.counts[i] as number);
  }
  // The trace's night is at the start of the day, its peak at the middle.
  const night = widths.slice(0, 24).reduce((a, b) => a + b, 0) / 24;
  const peak = widths.slice(132, 156).reduce((a, b) => a + b, 0) / 24;
  assert.ok(peak > 1.5 * night, `peak width ${peak}, night width ${night}`);
});

test('bad series are refused with what to give', () => {
  assert.throws(() => HoltWinters.fit([1, 2, 3, 4], 1), /a cycle must be a whole number of intervals ≥ 2, got 1/);
  assert.throws(() => HoltWinters.fit([1, 2, 3], 2), /a forecast needs two cycles of history \(4 intervals\), got 3/);
  assert.throws(() => HoltWinters.fit([1, 2, -3, 4], 2), /a count of creates must be a number ≥ 0, got -3/);
  const m = HoltWinters.fit([1, 2, 1, 2], 2);
  assert.throws(() => m.update(Number.NaN), /a count of creates must be a number ≥ 0, got NaN/);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantile([], 0.9), 0);
});

test('a pool is sized to the top of the interval, rounded up, within its range; missing intervals count as none', () => {
  assert.equal(sizeFor({ mean: 2, low: 1, high: 3.2 }, { min: 0, max: 10 }), 4);
  assert.equal(sizeFor({ mean: 2, low: 2, high: 2 }, { min: 0, max: 10 }), 2);
  assert.equal(sizeFor({ mean: 0, low: 0, high: 0 }, { min: 1, max: 10 }), 1);
  assert.equal(sizeFor({ mean: 40, low: 30, high: 55 }, { min: 1, max: 8 }), 8);
  const row = (startMs: number, demand: number) => ({ startMs, demand, hits: 0, forecast: null, size: null });
  assert.deepEqual(denseCounts([row(1000, 3), row(3000, 5)], 1000, 5000, 1000), [3, 0, 5, 0]);
});
