/**
 * Usage metering end to end (real runc, real cgroups, a real network link): a run that burns CPU
 * is billed its CPU seconds; a sandbox that serves 2 MiB through the port proxy is billed that
 * egress, and while it lives its usage is reported periodically; the report sums by day, tenant
 * and runtime, as JSON, CSV and in the metrics; a tenant sees only its own; bad windows are 400s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const SERVER_PY = new URL('../src/fixtures/port-server.py', import.meta.url);
/** Shell arithmetic for about half a second of CPU in busybox sh. */
const BURN = 'i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; echo burnt';

interface Row {
  key: string;
  cpuSeconds: number;
  memoryGibSeconds: number;
  sandboxSeconds: number;
  egressBytes: number;
  sandboxes: number;
}

async function skipReason(): Promise<string | undefined> {
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is not installed (scripts/setup.sh installs nftables)';
  return containerSkipReason();
}

test('usage: CPU, memory, sandbox time and egress per tenant, by day, tenant and runtime', async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const tenant = await A('POST', '/v1/tenants', { body: { name: 'metered' } });
      assert.equal(tenant.status, 201, tenant.text);
      const tid = tenant.json.id as string;
      const key = await A('POST', '/v1/api-keys', { body: { tenantId: tid, role: 'member', name: 'm' } });
      assert.equal(key.status, 201, key.text);
      const B = (m: string, p: string) => call(h.url, key.json.secret as string, m, p);

      // Tenant B's run burns CPU; it ends, so its final report comes right after.
      const run = await call(h.url, key.json.secret as string, 'POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: BURN } });
      assert.equal(run.json.state, 'succeeded', run.text);
      const billed = await eventually(async () => {
        const r = await B('GET', '/v1/usage?group=runtime');
        return r.json?.rows?.length ? r.json : undefined;
      }, 15_000, "the run's usage");
      assert.equal(billed.rows[0].key, 'container');
      assert.ok(billed.rows[0].cpuSeconds > 0.1, `CPU billed: ${JSON.stringify(billed)}`);
      assert.ok(billed.rows[0].sandboxSeconds > 0, JSON.stringify(billed));
      assert.equal(billed.rows[0].sandboxes, 1);
      const { key: _runtime, ...figures } = billed.rows[0] as Row;
      assert.deepEqual(billed.total, figures, 'one row: the total is that row');

      // The admin's sandbox serves 2 MiB through the proxy: that is its egress.
      const s = await A('POST', '/v1/sandboxes', { body: { template: 'python' } });
      assert.equal(s.status, 201, s.text);
      const sid = s.json.id as string;
      const put = await A('PUT', `/v1/sandboxes/${sid}/files?path=/tmp/srv.py`, { raw: await readFile(SERVER_PY), headers: { 'content-type': 'application/octet-stream' } });
      assert.ok(put.status < 300, put.text);
      await A('POST', `/v1/sandboxes/${sid}/exec`, { body: { command: 'setsid python3 /tmp/srv.py 8000 >/tmp/srv.log 2>&1 &' } });
      const got = await eventually(async () => {
        const r = await fetch(`${h.url}/v1/sandboxes/${sid}/ports/8000/bytes/2097152`, { headers: { authorization: `Bearer ${h.adminKey}` } });
        return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined;
      }, 30_000, 'the server in the sandbox');
      assert.equal(got.length, 2_097_152);
      // While it lives, its usage is reported every second (the test's report period).
      const live = await eventually(async () => {
        const r = (await A('GET', `/v1/usage?group=tenant&tenant=default`)).json;
        return r.rows?.[0]?.egressBytes >= 2_097_152 ? r : undefined;
      }, 15_000, 'the live sandbox reported');
      assert.ok(live.rows[0].memoryGibSeconds > 0, `memory billed: ${JSON.stringify(live)}`);
      assert.equal((await A('DELETE', `/v1/sandboxes/${sid}`)).status < 300, true);

      // The admin of the bootstrap tenant sees every tenant; the other tenant only its own.
      const all = await eventually(async () => {
        const r = (await A('GET', '/v1/usage?group=tenant')).json;
        return r.rows?.length === 2 ? r : undefined;
      }, 10_000, 'both tenants in the report');
      assert.deepEqual(all.rows.map((r: Row) => r.key).sort(), ['default', tid].sort());
      assert.ok(all.total.egressBytes >= 2_097_152);
      const own = (await B('GET', '/v1/usage?group=tenant')).json;
      assert.deepEqual(own.rows.map((r: Row) => r.key), [tid]);
      assert.equal((await B('GET', '/v1/usage?tenant=default')).status, 403);

      // By day: every day of the window, today's row holding everything.
      const from = new Date(Date.now() - 2 * 86_400_000).toISOString();
      const days = (await A('GET', `/v1/usage?group=day&from=${encodeURIComponent(from)}`)).json;
      assert.equal(days.rows.length, 3, JSON.stringify(days));
      const today = new Date().toISOString().slice(0, 10);
      const row = days.rows.find((r: Row) => r.key === today);
      assert.ok(row.cpuSeconds >= billed.rows[0].cpuSeconds && row.sandboxes === 2, JSON.stringify(days));
      assert.equal(days.rows.filter((r: Row) => r.sandboxes === 0).length, 2);

      // CSV: a header naming the group, then a line per row.
      const csv = await A('GET', '/v1/usage?group=runtime&format=csv');
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = csv.text.trim().split('\r\n');
      assert.equal(lines[0], 'runtime,cpu_seconds,memory_gib_seconds,sandbox_seconds,egress_bytes,sandboxes');
      assert.match(lines[1] ?? '', /^container,[\d.]+,[\d.e-]+,[\d.]+,\d+,2$/);

      const metrics = (await call(h.url, undefined, 'GET', '/metrics')).text;
      assert.match(metrics, new RegExp(`^tartarus_usage_cpu_seconds_total\\{tenant="${tid}",runtime="container"\\} 0\\.[1-9]|^tartarus_usage_cpu_seconds_total\\{tenant="${tid}",runtime="container"\\} [1-9]`, 'm'));
      assert.match(metrics, /^tartarus_usage_egress_bytes_total\{tenant="default",runtime="container"\} \d{7,}/m);

      // Bad windows and groups are refused, naming what to change.
      const backwards = await A('GET', `/v1/usage?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`);
      assert.equal(backwards.status, 400);
      assert.match(backwards.json.error.message, /from .* must be before to/);
      const long = await A('GET', `/v1/usage?from=2020-01-01T00:00:00Z`);
      assert.equal(long.status, 400);
      assert.match(long.json.error.message, /at most 366 days/);
      assert.equal((await A('GET', '/v1/usage?group=week')).status, 400);
      assert.equal((await A('GET', '/v1/usage?from=yesterday')).status, 400);
    },
    { templateDir: testTemplateDir(), usage: { usageSampleMs: 200, usageReportMs: 1000 } },
  );
});
