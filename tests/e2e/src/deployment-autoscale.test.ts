/**
 * Adaptive scaling end to end (real runc, the embedded platform): a service of 1 to 3 replicas
 * with a CPU target of 25 % of its 0.2-core limit. Its replicas burn CPU only while /tmp/burn
 * exists in them, so the test starts and stops the load by creating and removing that file (from
 * the host, through the process's own root). Under load the service goes to its max (the ask, 4,
 * is clamped to 3); once the load stops it comes back to its min after the cooldown. A count set
 * by hand outside [min, max] is a 400 naming the range; the decisions are counted in /metrics
 * and told as `deployment.scaled` events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { Tartarus } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const LOOP = 'while :; do if [ -f /tmp/burn ]; then :; else sleep 1; fi; done';

const SPEC = `version: v1
deployment: elastic
services:
  api:
    image:
      name: template:busybox
    command:
      entrypoint: ["sh", "-c"]
      args: ["${LOOP}"]
    resources:
      cpu: 0.2
    scale:
      mode: adaptive
      min: 1
      max: 3
      cooldown: 3s
      targets:
        cpu: 25%
`;

/** The host pid of a replica's service process, found by its command line and cgroup. */
function replicaPid(runId: string): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(LOOP) && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(runId)) return Number(pid);
    } catch {
      continue;
    }
  }
  throw new Error(`no process of ${runId} found`);
}

/** A counter's value in a Prometheus text scrape (0 when absent). */
function counter(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

test('deployments: an adaptive service scales up under a CPU load, to its max, and back down to its min', { timeout: 240_000 }, async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const client = new Tartarus({ url: h.url, apiKey: h.adminKey });
      await client.deployments.apply(SPEC, { file: 'elastic.yaml' });
      const api = async () => (await client.deployments.get('elastic')).services.find((s) => s.name === 'api');
      const settled = (n: number, what: string) =>
        eventually(async () => {
          const s = await api();
          const live = await client.deployments.runs('elastic', { service: 'api', live: true });
          return s?.desired === n && live.length === n && live.every((r) => r.state === 'running') ? live : undefined;
        }, 40_000, what).catch(async (err: Error) => {
          throw new Error(`${err.message}: ${JSON.stringify(await api())}`);
        });
      const [first] = await settled(1, 'the min of 1 replica running');
      // Idle past a cooldown and a few samples: it stays at its min.
      await new Promise((r) => setTimeout(r, 5000));
      assert.equal((await api())?.desired, 1, 'an idle service stays at its min');

      // Load on the one replica: 100 % of its limit asks for ceil(1 × 100 / 25) = 4, clamped to 3.
      const burn = `/proc/${replicaPid(first?.runId ?? '')}/root/tmp/burn`;
      writeFileSync(burn, '');
      await settled(3, 'scaled up to the max of 3');

      // By hand: outside [min, max] is refused with the range; the count stays.
      const refused = await call(h.url, h.adminKey, 'POST', '/v1/deployments/elastic/services/api/scale', { body: { replicas: 5 } });
      assert.equal(refused.status, 400);
      assert.match(refused.json.error.message, /between 1 and 3/);
      assert.equal((await api())?.desired, 3);

      // The load stops: after a cooldown of low samples, back to the min.
      unlinkSync(burn);
      const [left] = await settled(1, 'scaled back down to the min of 1');
      assert.equal(left?.runId, first?.runId, 'the newest replicas went first');

      const metrics = (await call(h.url, undefined, 'GET', '/metrics')).text;
      assert.ok(counter(metrics, 'tartarus_autoscale_decisions_total{direction="up",reason="cpu"}') >= 1, 'the scale-up counted');
      assert.ok(counter(metrics, 'tartarus_autoscale_decisions_total{direction="down",reason="cpu"}') >= 1, 'the scale-down counted');

      // Each change is a deployment.scaled event, by the autoscaler.
      const events = (await call(h.url, h.adminKey, 'GET', '/v1/deployments/elastic/events')).json.items as { type: string; data: Record<string, unknown> }[];
      // The first sample may see the load over part of its window only: the way up (and down) may take steps.
      const scaled = events.filter((e) => e.type === 'deployment.scaled' && e.data['by'] === 'autoscaler').map((e) => ({ from: Number(e.data['from']), to: Number(e.data['replicas']), reason: e.data['reason'] }));
      const path = [1, ...scaled.map((e) => e.to)];
      assert.deepEqual(scaled.map((e) => e.from), path.slice(0, -1), `one chain of changes: ${JSON.stringify(scaled)}`);
      const top = path.indexOf(3);
      assert.ok(top > 0 && path.slice(0, top + 1).every((n, i, a) => i === 0 || n > (a[i - 1] ?? 0)), `up to 3, then down: ${path}`);
      assert.ok(path.slice(top).every((n, i, a) => i === 0 || n < (a[i - 1] ?? 0)) && path.at(-1) === 1, `down to 1: ${path}`);
      assert.ok(scaled.every((e) => e.reason === 'cpu'));

      await client.deployments.stop('elastic');
      await eventually(async () => ((await client.deployments.get('elastic')).state === 'stopped' ? true : undefined), 30_000, 'stopped');
      await client.deployments.remove('elastic');
    },
    { templateDir: testTemplateDir(), usage: { usageSampleMs: 1000, usageReportMs: 10_000 } },
  );
});
