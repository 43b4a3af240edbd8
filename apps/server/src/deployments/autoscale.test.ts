import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, type DeploymentPlan } from '@tartarus/core';
import { checkManualScale, decideScale, recommend, type AdaptiveScale, type ScaleObservation, type ScaleState } from './autoscale.js';
import type { Deployment } from '../store/deployments.js';

const scale = (over: Partial<AdaptiveScale> = {}, targets: Partial<AdaptiveScale['targets']> = {}): AdaptiveScale => ({
  mode: 'adaptive',
  min: 1,
  max: 10,
  cooldownMs: 30_000,
  ...over,
  targets: { cpuPercent: 50, memoryPercent: null, rps: null, ...targets },
});
const seen = (cpuPercent: number | null, measured = 1, over: Partial<ScaleObservation> = {}): ScaleObservation => ({ measured, cpuPercent, memoryPercent: null, rps: 0, ...over });
const fresh = (changedAtMs = 0): ScaleState => ({ changedAtMs, lowSinceMs: null, lowPeak: 0 });

test('recommend: ceil(current × observed / target), the largest target, within [min, max]', () => {
  assert.deepEqual(recommend(scale(), 2, seen(100, 2)), { replicas: 4, metric: 'cpu' });
  assert.deepEqual(recommend(scale(), 3, seen(60, 3)), { replicas: 4, metric: 'cpu' }, '3 × 1.2 = 3.6 → 4');
  assert.deepEqual(recommend(scale({ max: 3 }), 2, seen(100, 2)), { replicas: 3, metric: 'cpu' }, 'clamped to max');
  assert.deepEqual(recommend(scale({ min: 2 }), 4, seen(0, 4)), { replicas: 2, metric: 'cpu' }, 'clamped to min');
  // Memory asks for more than CPU: memory wins.
  assert.deepEqual(recommend(scale({}, { memoryPercent: 50 }), 2, seen(50, 2, { memoryPercent: 150 })), { replicas: 6, metric: 'memory' });
  // RPS is per replica: 90 rps over a target of 20 per replica is 5 replicas, whatever the count now.
  assert.deepEqual(recommend(scale({}, { cpuPercent: null, rps: 20 }), 2, seen(null, 2, { rps: 90 })), { replicas: 5, metric: 'rps' });
  assert.deepEqual(recommend(scale({}, { cpuPercent: null, rps: 20 }), 3, seen(null, 3, { rps: 0 })), { replicas: 1, metric: 'rps' });
});

test('recommend: within 10 % of the target changes nothing; nothing measured asks for nothing', () => {
  assert.deepEqual(recommend(scale(), 3, seen(54, 3)), { replicas: 3, metric: 'cpu' });
  assert.deepEqual(recommend(scale(), 3, seen(46, 3)), { replicas: 3, metric: 'cpu' });
  assert.deepEqual(recommend(scale(), 3, seen(56, 3)), { replicas: 4, metric: 'cpu' });
  assert.equal(recommend(scale(), 2, seen(null, 0)), null);
  // A memory target with no known memory limit says nothing; the CPU target still does.
  assert.deepEqual(recommend(scale({}, { memoryPercent: 50 }), 1, seen(100, 1, { memoryPercent: null })), { replicas: 2, metric: 'cpu' });
});

test('decideScale: up once the cooldown since the last change passed, at once then', () => {
  const s = scale({ cooldownMs: 10_000 });
  const early = decideScale(s, 1, seen(100), fresh(0), 5_000);
  assert.deepEqual([early.desired, early.reason], [1, null], 'within the cooldown: held');
  const up = decideScale(s, 1, seen(100), early.state, 10_000);
  assert.deepEqual([up.desired, up.reason, up.state.changedAtMs], [2, 'cpu', 10_000]);
  // The next rise waits a cooldown from that change.
  assert.equal(decideScale(s, 2, seen(100, 2), up.state, 15_000).desired, 2);
  assert.equal(decideScale(s, 2, seen(100, 2), up.state, 20_000).desired, 4);
});

test('decideScale: down only after a whole cooldown of low samples, to the most asked for then', () => {
  const s = scale({ cooldownMs: 10_000 });
  let st = fresh(0);
  const step = (cpu: number, at: number) => {
    const d = decideScale(s, 4, seen(cpu, 4), st, at);
    st = d.state;
    return d;
  };
  assert.equal(step(10, 20_000).desired, 4, 'first low sample starts the low period');
  assert.equal(st.lowSinceMs, 20_000);
  assert.equal(step(30, 25_000).desired, 4, 'asks for 3 now');
  assert.equal(st.lowPeak, 3);
  const down = step(10, 30_000);
  assert.deepEqual([down.desired, down.reason], [3, 'cpu'], 'the highest ask of the low period, not the last (1)');
  assert.deepEqual(down.state, { changedAtMs: 30_000, lowSinceMs: null, lowPeak: 0 });
});

test('decideScale: one sample at or above the count ends the low period (no flapping)', () => {
  const s = scale({ cooldownMs: 10_000 });
  const a = decideScale(s, 3, seen(0, 3), fresh(0), 20_000);
  const b = decideScale(s, 3, seen(50, 3), a.state, 25_000);
  assert.equal(b.state.lowSinceMs, null);
  const c = decideScale(s, 3, seen(0, 3), b.state, 31_000);
  assert.deepEqual([c.desired, c.state.lowSinceMs], [3, 31_000], 'the low period starts again');
  assert.equal(decideScale(s, 3, seen(0, 3), c.state, 41_000).desired, 1);
});

test('decideScale: a scale-down needs every desired replica measured; a scale-up does not', () => {
  const s = scale({ cooldownMs: 1000 });
  const partial = decideScale(s, 3, seen(0, 2), { changedAtMs: 0, lowSinceMs: 0, lowPeak: 1 }, 60_000);
  assert.deepEqual([partial.desired, partial.state.lowSinceMs], [3, null]);
  assert.equal(decideScale(s, 3, seen(100, 1), fresh(0), 60_000).desired, 6, 'the measured mean stands for all');
});

test('decideScale: a count outside [min, max] is brought inside at once', () => {
  const s = scale({ min: 2, max: 4 });
  assert.deepEqual(decideScale(s, 1, seen(0), fresh(0), 1).desired, 2);
  const d = decideScale(s, 9, seen(100, 9), fresh(0), 1);
  assert.deepEqual([d.desired, d.reason], [4, 'bounds']);
});

test('checkManualScale: an adaptive service takes a count within [min, max] or 0, with a message otherwise', () => {
  const plan = { name: 'shop', services: [{ name: 'api', kind: 'service', scale: scale({ min: 2, max: 5 }) }, { name: 'db', kind: 'service', scale: { mode: 'fixed', replicas: 1 } }] } as unknown as DeploymentPlan;
  const d = { name: 'shop', plan } as Deployment;
  for (const n of [0, 2, 5]) checkManualScale(d, 'api', n);
  checkManualScale(d, 'db', 9);
  checkManualScale(d, 'nope', 9);
  assert.throws(() => checkManualScale(d, 'api', 6), (err: unknown) => err instanceof InvalidArgumentError && /between 2 and 5/.test(err.message) && /scale\.min\/max/.test(err.message));
  assert.throws(() => checkManualScale(d, 'api', 1), InvalidArgumentError);
});
