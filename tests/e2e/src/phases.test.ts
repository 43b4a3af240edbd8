/**
 * Phase timings end to end (real runc): a run's latest attempt records when it was queued,
 * placed, had its template ready, started, wrote its first output, exited and was cleaned up, in
 * that order; a sandbox records when it was requested, placed, had its template ready, started,
 * ended and was cleaned up; and the phases feed
 * `tartarus_phase_seconds`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** Asserts the phases `keys` are all set and never go back in time. */
function inOrder(phases: Record<string, string | null>, keys: string[]): void {
  let previous = 0;
  for (const k of keys) {
    const v = phases[k];
    assert.ok(v, `${k} is set: ${JSON.stringify(phases)}`);
    const t = Date.parse(v);
    assert.ok(t >= previous, `${k} (${v}) is not before the phase before it: ${JSON.stringify(phases)}`);
    previous = t;
  }
}

test('phase timings of runs and sandboxes, in order, and in the metrics', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const run = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'sleep 0.2; echo out' } });
      assert.equal(run.json.state, 'succeeded', run.text);
      const id = run.json.id as string;
      // The cleanup comes after the run ended: its node reports it.
      const done = await eventually(async () => {
        const r = (await A('GET', `/v1/runs/${id}`)).json;
        return r.phases.cleanedUpAt ? r : undefined;
      }, 10_000, 'the cleanup recorded');
      inOrder(done.phases, ['queuedAt', 'placedAt', 'templateReadyAt', 'startedAt', 'firstOutputAt', 'exitedAt', 'cleanedUpAt']);
      // The first output is the time of the run's first chunk of output, as its node stamped it.
      const logs = (await A('GET', `/v1/runs/${id}/logs`)).json.items as { timeMs: number; data: string }[];
      assert.equal(logs[0]?.data, 'out\n');
      assert.equal(done.phases.firstOutputAt, new Date(logs[0]?.timeMs ?? 0).toISOString());

      // A run without output has no first output.
      const quiet = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'true' } });
      assert.equal(quiet.json.phases.firstOutputAt, null);
      inOrder(quiet.json.phases, ['queuedAt', 'placedAt', 'templateReadyAt', 'startedAt', 'exitedAt']);

      const s = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
      assert.equal(s.status, 201, s.text);
      const sid = s.json.id as string;
      inOrder(s.json.phases, ['requestedAt', 'placedAt', 'templateReadyAt', 'startedAt']);
      assert.equal(s.json.phases.endedAt, null);
      assert.equal((await A('DELETE', `/v1/sandboxes/${sid}`)).status < 300, true);
      const ended = await eventually(async () => {
        const r = (await A('GET', `/v1/sandboxes/${sid}`)).json;
        return r.phases.cleanedUpAt ? r : undefined;
      }, 10_000, 'the sandbox cleanup recorded');
      inOrder(ended.phases, ['requestedAt', 'placedAt', 'templateReadyAt', 'startedAt', 'endedAt', 'cleanedUpAt']);

      const metrics = (await call(h.url, undefined, 'GET', '/metrics')).text;
      for (const phase of ['template', 'boot', 'first_output', 'cleanup']) {
        assert.match(metrics, new RegExp(`^tartarus_phase_seconds_count\\{kind="run",phase="${phase}"\\} [1-9]`, 'm'), phase);
      }
      assert.match(metrics, /^tartarus_phase_seconds_count\{kind="sandbox",phase="cleanup"\} [1-9]/m);
    },
    { templateDir: testTemplateDir() },
  );
});
