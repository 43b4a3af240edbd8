/**
 * The server's Prometheus metrics after real work (real runc, a real network): queue waits,
 * launches by runtime and template, placement decisions, failures by reason, seconds of work per
 * tenant, live sandboxes by state and runtime, node heartbeat ages, queue depth by tenant and
 * priority (a tenant capped at one running run has its second queued), and the port proxy's connections and bytes;
 * and every metric deploy/grafana-dashboard.json queries is one the server exports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** The value of the sample `name{labels}` (labels in any order, a subset), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** GETs `url` with `headers`, resolving to the body's length. */
function fetchLength(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => resolve(n));
    })
      .on('error', reject)
      .end();
  });
}

test('metrics after real work: queue, launches, decisions, failures, usage, sandboxes, nodes, proxy', async (t) => {
  const skip = spawnSync('nft', ['--version']).status !== 0 ? 'nft is not installed (scripts/setup.sh installs nftables)' : await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const ok = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'echo hi' } });
      assert.equal(ok.json.state, 'succeeded', ok.text);
      const slow = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'sleep 30', timeoutMs: 1000 } });
      assert.equal(slow.json.state, 'failed', slow.text);
      // A tenant that may run one thing at a time: its second run waits in the queue.
      const capped = await A('POST', '/v1/tenants', { body: { name: 'capped', maxRunning: 1 } });
      assert.equal(capped.status, 201, capped.text);
      const cappedKey = (await A('POST', '/v1/api-keys', { body: { tenantId: capped.json.id, role: 'member', name: 'k' } })).json.secret as string;
      const C = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, cappedKey, m, p, o);
      const long = await C('POST', '/v1/runs', { body: { template: 'busybox', argv: ['sleep', '600'] } });
      await eventually(async () => ((await C('GET', `/v1/runs/${long.json.id as string}`)).json.state === 'running' ? true : undefined), 60_000, 'the first run running');
      const waiting = await C('POST', '/v1/runs', { body: { template: 'busybox', command: 'true' } });
      assert.equal(waiting.status, 201, waiting.text);
      // A sandbox with a server, downloaded from through the proxy (a tunnelled connection).
      const s = await A('POST', '/v1/sandboxes', { body: { template: 'python' } });
      assert.equal(s.status, 201, s.text);
      const id = s.json.id as string;
      const ex = await A('POST', `/v1/sandboxes/${id}/exec`, { body: { command: 'head -c 3000000 /dev/zero > /tmp/blob && cd /tmp && (setsid python3 -m http.server 8000 >/dev/null 2>&1 &)' } });
      assert.equal(ex.json.exitCode, 0, ex.text);
      const key = { authorization: `Bearer ${h.adminKey}` };
      const got = await eventually(async () => fetchLength(`${h.url}/v1/sandboxes/${id}/ports/8000/blob`, key).then((n) => (n === 3_000_000 ? n : undefined), () => undefined), 30_000, 'the download');
      assert.equal(got, 3_000_000);

      const text = await eventually(async () => {
        const m = (await call(h.url, undefined, 'GET', '/metrics')).text;
        // The proxy counts a tunnel's bytes when it ends, just after the client has them.
        return (sample(m, 'tartarus_proxy_bytes_total', { direction: 'from_sandbox' }) ?? 0) >= 3_000_000 ? m : undefined;
      }, 10_000, 'the proxy bytes counted');
      // The admin key's tenant: the one that is not the capped one.
      const tenants = (await A('GET', '/v1/tenants')).json.items as { id: string; name: string }[];
      const tenant = tenants.find((x) => x.id !== capped.json.id)?.id ?? '';
      const cappedTenant = capped.json.id as string;
      assert.ok((sample(text, 'tartarus_queue_wait_seconds_count', { kind: 'run' }) ?? 0) >= 2);
      assert.ok((sample(text, 'tartarus_launch_seconds_count', { kind: 'run', template: 'busybox' }) ?? 0) >= 2);
      assert.ok((sample(text, 'tartarus_launch_seconds_count', { kind: 'sandbox', template: 'python' }) ?? 0) >= 1);
      assert.ok((sample(text, 'tartarus_scheduler_decisions_total', { kind: 'run', decision: 'placed' }) ?? 0) >= 2);
      assert.ok((sample(text, 'tartarus_scheduler_decisions_total', { kind: 'run', decision: 'deferred' }) ?? 0) >= 1, "the capped tenant's second run was deferred");
      assert.equal(sample(text, 'tartarus_failures_total', { kind: 'run', reason: 'timeout' }), 1);
      const seconds = sample(text, 'tartarus_work_seconds_total', { tenant, kind: 'run' }) ?? 0;
      assert.ok(seconds >= 0.5 && seconds < 30, `the timed-out run ran about a second: ${seconds}`);
      assert.equal(sample(text, 'tartarus_queue_depth', { tenant: cappedTenant, priority: 'default' }), 1);
      assert.equal(sample(text, 'tartarus_queue_depth', { tenant }), undefined, 'nothing of the admin tenant is queued');
      assert.equal(sample(text, 'tartarus_sandboxes', { state: 'running', runtime: 'container' }), 1);
      const age = sample(text, 'tartarus_node_heartbeat_age_seconds');
      assert.ok(age !== undefined && age >= 0 && age < 60, `heartbeat age ${age}`);
      assert.ok((sample(text, 'tartarus_proxy_connections_total', { how: 'tunnel' }) ?? 0) >= 1);
      assert.ok((sample(text, 'tartarus_http_requests_total', { method: 'POST', route: '/v1/runs', status: '201' }) ?? 0) >= 1);
      // The embedded agent's own metrics are part of the same scrape.
      assert.ok((sample(text, 'tartarus_agent_launch_seconds_count', { runtime: 'container' }) ?? 0) >= 3);
      assert.equal(sample(text, 'tartarus_agent_sandboxes', { runtime: 'container' }), 2, 'the long run and the sandbox');
      assert.equal(sample(text, 'tartarus_agent_connected'), 1);
      assert.ok((sample(text, 'tartarus_agent_reserved', { resource: 'cpu' }) ?? 0) > 0);
      assert.ok((sample(text, 'tartarus_agent_usage_sandbox_seconds_total', { runtime: 'container' }) ?? 0) > 0.5, 'the ended runs were metered');
      assert.ok((sample(text, 'tartarus_usage_sandbox_seconds_total', { tenant, runtime: 'container' }) ?? 0) > 0.5, "and billed to the admin's tenant");
      // Every metric the Grafana dashboard queries is exported.
      const dashboard = await readFile(new URL('../../../deploy/grafana-dashboard.json', import.meta.url), 'utf8');
      const queried = new Set([...dashboard.matchAll(/tartarus_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
      for (const name of queried) assert.match(text, new RegExp(`^# HELP ${name} `, 'm'), `${name} (deploy/grafana-dashboard.json) is exported`);
    },
    { templateDir: testTemplateDir() },
  );
});
