// The agent's metrics served over real HTTP: its gauges read when scraped, the process's own
// metrics, a 404 for anything but GET /metrics, and a bad address refused naming the option.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { InvalidArgumentError } from '@tartarus/core';
import { AgentMetrics, serveMetrics } from './metrics.js';

test('the agent serves its metrics at /metrics', async () => {
  let held = new Map([['container', 2]]);
  const m = new AgentMetrics({
    sandboxes: () => held,
    reserved: () => ({ cpu: 0.25, memoryMiB: 256 }),
    capacity: { cpu: 2, memoryMiB: 24_000 },
    connected: () => true,
    pendingReports: () => 3,
  });
  m.launch.observe({ runtime: 'container' }, 0.2);
  m.usage({ runtime: 'gvisor', cpuSeconds: 1.5, memoryGibSeconds: 0.5, sandboxSeconds: 10, egressBytes: 4096 });
  const server = await serveMetrics('127.0.0.1:0', m.registry);
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const line of [
      'tartarus_agent_sandboxes{runtime="container"} 2',
      'tartarus_agent_reserved{resource="cpu"} 0.25',
      'tartarus_agent_capacity{resource="memory_mib"} 24000',
      'tartarus_agent_connected 1',
      'tartarus_agent_reports_pending 3',
      'tartarus_agent_launch_seconds_count{runtime="container"} 1',
      'tartarus_agent_usage_cpu_seconds_total{runtime="gvisor"} 1.5',
      'tartarus_agent_usage_egress_bytes_total{runtime="gvisor"} 4096',
    ])
      assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
    assert.match(text, /^tartarus_agent_process_cpu_seconds_total /m, "the process's own metrics");
    // Gauges are read at each scrape: a sandbox gone is gone from the next one.
    held = new Map();
    assert.doesNotMatch(await (await fetch(`${base}/metrics`)).text(), /^tartarus_agent_sandboxes\{/m);
    const other = await fetch(`${base}/`);
    assert.equal(other.status, 404);
    assert.match(await other.text(), /GET \/metrics/);
  } finally {
    server.close();
  }
  await assert.rejects(serveMetrics('nowhere', m.registry), (e: unknown) => e instanceof InvalidArgumentError && /metricsListen/.test(e.message));
});
