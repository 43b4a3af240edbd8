/**
 * Forecast-driven warm pools end to end (real runc): an embedded platform whose agent keeps a
 * busybox pool with `autoscale`, and a server counting creates in short intervals. Every create
 * that matches the pool is counted once in the interval it came in, a create with other limits is
 * not; after two seasons of counts the pool is sized to the top of its forecast's interval (within
 * its range), and `GET /v1/pools` reports forecast, interval, actuals and how the forecasts did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool, PoolList } from '@tartarus/core';
import { call, containerSkipReason, eventually, withEmbedded, tartarus } from './helpers.js';

const INTERVAL_MS = 1500;
const SEASON = 2;

/** Waits until the middle of an interval: the server takes the counts at each interval's start. */
async function midInterval(): Promise<void> {
  const into = Date.now() % INTERVAL_MS;
  const wait = into < INTERVAL_MS * 0.3 ? INTERVAL_MS * 0.3 - into : into > INTERVAL_MS * 0.6 ? INTERVAL_MS * 1.3 - into : 0;
  await new Promise((r) => setTimeout(r, wait));
}

test('a forecast-driven pool counts its creates, is sized from the forecast, and reports it', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const pools = async () => {
        const r = await A('GET', '/v1/pools?intervals=100');
        assert.equal(r.status, 200, r.text);
        return r.json as PoolList;
      };
      // The agent configures its pools once their template is built.
      const first = await eventually(async () => ((await pools()).items.length > 0 ? pools() : undefined), 120_000, 'the pool to be configured');
      assert.deepEqual([first.intervalMs, first.seasonIntervals, first.unreachable], [INTERVAL_MS, SEASON, []]);
      assert.equal(first.items.length, 1);
      assert.deepEqual([first.items[0]?.size, first.items[0]?.autoscale, first.items[0]?.current.forecast], [0, { min: 0, max: 4 }, null]);

      // Three creates in each interval for five intervals (two seasons and more), and one with other limits.
      let made = 0;
      const deadline = Date.now() + 5 * INTERVAL_MS;
      while (Date.now() < deadline) {
        for (let i = 0; i < 3; i++) {
          const s = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
          assert.equal(s.status, 201, s.text);
          made++;
          assert.equal((await A('DELETE', `/v1/sandboxes/${s.json.id}`)).status, 200);
        }
        await new Promise((r) => setTimeout(r, INTERVAL_MS - (Date.now() % INTERVAL_MS) + 50));
      }
      const other = await A('POST', '/v1/sandboxes', { body: { template: 'busybox', limits: { memoryMiB: 200 } } });
      assert.equal(other.status, 201, other.text);
      await A('DELETE', `/v1/sandboxes/${other.json.id}`);

      // Sized from a forecast once one is made, and filled to that size.
      let sized = await eventually(async () => {
        const p = (await pools()).items[0] as Pool;
        return p.current.forecast !== null && p.idle === p.size ? p : undefined;
      }, 30_000, 'a forecast and the pool filled to its size');
      const f = sized.current.forecast as { mean: number; low: number; high: number };
      assert.ok(f.low <= f.mean && f.mean <= f.high, JSON.stringify(f));
      assert.equal(sized.size, Math.min(4, Math.max(0, Math.ceil(f.high - 1e-9))), JSON.stringify(sized));
      assert.equal(sized.current.size, sized.size);
      assert.ok(sized.size > 0, `creates came in every interval, so the pool is not sized to nothing: ${JSON.stringify(sized)}`);

      // Every matching create counted once, none of the other limits.
      await midInterval();
      sized = (await pools()).items[0] as Pool;
      const counted = sized.current.demand + sized.history.reduce((n, i) => n + i.demand, 0);
      assert.equal(counted, made, JSON.stringify(sized.history));

      // Creates now find booted sandboxes: they count as hits.
      const served = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
      assert.equal(served.status, 201, served.text);
      await A('DELETE', `/v1/sandboxes/${served.json.id}`);
      // Once its interval has ended (and with it one that was forecast), the report sums the stored intervals.
      await new Promise((r) => setTimeout(r, INTERVAL_MS - (Date.now() % INTERVAL_MS) + INTERVAL_MS * 0.4));
      const p = (await pools()).items[0] as Pool;
      const forecast = p.history.filter((i) => i.forecast !== null);
      assert.ok(forecast.length >= 1, JSON.stringify(p.history));
      assert.equal(p.forecastIntervals, forecast.length);
      const within = forecast.filter((i) => i.forecast !== null && i.demand >= i.forecast.low && i.demand <= i.forecast.high);
      assert.equal(p.coverage, within.length / forecast.length);
      const hits = p.history.reduce((n, i) => n + i.hits, 0);
      assert.ok(hits >= 1, JSON.stringify(p));
      assert.equal(p.hitRate, hits / p.history.reduce((n, i) => n + i.demand, 0));
      const none = await A('GET', '/v1/pools?intervals=0');
      assert.deepEqual((none.json as PoolList).items[0]?.history, []);

      // The CLI's table, and a bad flag in one line.
      const table = await tartarus(['nodes', 'pools'], h.url, h.adminKey);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NODE\s+POOL\s+SIZE\s+IDLE\s+FORECAST\s+CREATES NOW\s+LAST INTERVAL\s+COVERAGE\s+HIT RATE\n/);
      assert.match(table.stdout, /busybox\/container\s+\d \(0-4\)\s+\d\s+\d+\.\d \[\d+\.\d–\d+\.\d\]/);
      const bad = await tartarus(['nodes', 'pools', '--intervals', 'x'], h.url, h.adminKey);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr.trim(), /^[^\n]*give a whole number ≥ 0, e\.g\. --intervals 24[^\n]*$/);
    },
    {
      pools: [{ template: 'busybox', runtime: 'container', autoscale: { min: 0, max: 4 } }],
      server: { poolIntervalMs: INTERVAL_MS, poolSeasonIntervals: SEASON },
    },
  );
});
