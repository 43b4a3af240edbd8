/** Conformance: a warm pool's intervals — counts added up per interval, one forecast per interval, kept per node and pool, pruned by age. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withStore, type BackendFixture } from './harness.js';

/** Defines the pool-interval tests for a backend. */
export function poolIntervalsSuite(fx: BackendFixture): void {
  describe('pool intervals', () => {
    test('counts add up per interval, a forecast is kept with its interval, nodes and pools apart, old ones pruned', () =>
      withStore(fx, async ({ store }) => {
        const p = store.poolIntervals;
        const t0 = 1_700_000_000_000;
        const at = (startMs: number, intervalMs = 1000) => ({ startMs, intervalMs });
        await p.addCounts('n1', 'container/python', at(t0), { demand: 3, hits: 1 });
        await p.addCounts('n1', 'container/python', at(t0), { demand: 2, hits: 2 });
        await p.addCounts('n1', 'container/python', at(t0 + 1000), { demand: 1, hits: 0 });
        await p.addCounts('n2', 'container/python', at(t0), { demand: 9, hits: 9 });
        await p.setForecast('n1', 'container/python', at(t0 + 2000), { mean: 2.5, low: 0.5, high: 4.25 }, 5);
        await p.addCounts('n1', 'container/python', at(t0 + 2000), { demand: 4, hits: 4 });
        await p.setForecast('n1', 'container/python', at(t0 + 2000), { mean: 3, low: 1, high: 5 }, 5);
        assert.deepEqual(await p.history('n1', 'container/python', 1000, t0), [
          { startMs: t0, demand: 5, hits: 3, forecast: null, size: null },
          { startMs: t0 + 1000, demand: 1, hits: 0, forecast: null, size: null },
          { startMs: t0 + 2000, demand: 4, hits: 4, forecast: { mean: 3, low: 1, high: 5 }, size: 5 },
        ]);
        assert.deepEqual((await p.history('n1', 'container/python', 1000, t0 + 1000)).map((r) => r.startMs), [t0 + 1000, t0 + 2000]);
        assert.deepEqual(await p.history('n1', 'gvisor/python', 1000, 0), []);
        // Counts of another interval length (the setting changed) are kept apart.
        await p.addCounts('n1', 'container/python', at(t0, 60_000), { demand: 7, hits: 0 });
        assert.deepEqual((await p.history('n1', 'container/python', 60_000, 0)).map((r) => r.demand), [7]);
        assert.equal((await p.history('n1', 'container/python', 1000, t0)).length, 3);
        assert.equal(await p.prune(t0 + 1000), 3);
        assert.deepEqual((await p.history('n1', 'container/python', 1000, 0)).map((r) => r.startMs), [t0 + 1000, t0 + 2000]);
        assert.deepEqual(await p.history('n2', 'container/python', 1000, 0), []);
      }));
  });
}
