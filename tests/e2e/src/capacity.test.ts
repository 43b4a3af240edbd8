/**
 * Capacity: with one sandbox slot, runs submitted together wait queued and run one at a time —
 * none is dropped, none overlaps another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

test('work that does not fit waits queued and runs when capacity frees up', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) =>
        call(h.url, h.adminKey, m, p, o);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          (await A('POST', '/v1/runs', { body: { command: `sleep 0.5; echo ${i}` } })).json.id,
        );
      }
      // Whatever the timing, at most one holds the only slot; the others wait queued.
      const states = await Promise.all(
        ids.map(async (id) => (await A('GET', `/v1/runs/${id}`)).json.state as string),
      );
      assert.ok(states.filter((s) => s === 'leased' || s === 'running').length <= 1, states.join());
      const spans: [number, number][] = [];
      for (const id of ids) {
        const run = await eventually(
          async () => {
            const r = (await A('GET', `/v1/runs/${id}`)).json;
            return r.state === 'succeeded' ? r : undefined;
          },
          120_000,
          `run ${id}`,
        );
        spans.push([Date.parse(run.startedAt), Date.parse(run.finishedAt)]);
      }
      spans.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i]![0] >= spans[i - 1]![1], `runs ${i - 1} and ${i} overlapped`);
      }
    },
    { slots: 1 },
  );
});
