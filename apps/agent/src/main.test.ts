// The remote agent's configuration from the environment: every option of its schema is a
// variable, converted by its type; pools keep their TEMPLATE:RUNTIME:SIZE form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_OPTIONS, parseAgentConfig } from './config.js';
import { agentConfigFrom } from './main.js';

test('agent options from TARTARUS_* variables', () => {
  const input = agentConfigFrom({
    TARTARUS_SERVER_URL: 'ws://10.0.0.1:7070/v1/agent/connect',
    TARTARUS_AGENT_TOKEN: 'tt_node_aaaaaaaaaaaaaaaa',
    TARTARUS_NODE_ID: 'node-1',
    TARTARUS_NODE_NAME: 'rack-3',
    TARTARUS_SLOTS: '64',
    TARTARUS_CPU: '1.5',
    TARTARUS_LABELS: 'zone=a,gpu=none',
    TARTARUS_POOLS: 'busybox:container:2:lo',
    TARTARUS_USAGE_REPORT_MS: '30000',
    TARTARUS_METRICS_LISTEN: '0.0.0.0:9464',
  });
  const c = parseAgentConfig(input);
  assert.equal(c.serverUrl, 'ws://10.0.0.1:7070/v1/agent/connect');
  assert.equal(c.token, 'tt_node_aaaaaaaaaaaaaaaa');
  assert.equal(c.name, 'rack-3');
  assert.equal(c.slots, 64);
  assert.equal(c.cpu, 1.5);
  assert.deepEqual(c.labels, { zone: 'a', gpu: 'none' });
  assert.deepEqual(c.pools, [{ template: 'busybox', runtime: 'container', size: 2, network: false }]);
  assert.equal(c.usageReportMs, 30_000);
  assert.equal(c.metricsListen, '0.0.0.0:9464');
  // Every option has its variable.
  assert.equal(AGENT_OPTIONS.find((o) => o.key === 'imageBudgetMiB')?.env, 'TARTARUS_IMAGE_BUDGET_MIB');
  assert.throws(() => agentConfigFrom({ TARTARUS_SLOTS: 'many' }), /TARTARUS_SLOTS must be a number, got "many"/);
  assert.throws(() => agentConfigFrom({ TARTARUS_LABELS: 'zone' }), /TARTARUS_LABELS: "zone" is not KEY=VALUE/);
});

test("a networked pool boots with a sandbox's default egress unless it names one; a loopback pool takes none", () => {
  const base = { serverUrl: 'ws://10.0.0.1:7070/v1/agent/connect', token: 'tt_node_aaaaaaaaaaaaaaaa', nodeId: 'node-1' };
  const c = parseAgentConfig({
    ...base,
    pools: [
      { template: 'python', runtime: 'container', size: 2 },
      { template: 'python', runtime: 'container', size: 1, egress: ['example.test:443'] },
    ],
  });
  assert.deepEqual(c.pools, [
    { template: 'python', runtime: 'container', size: 2, network: true, egress: 'all' },
    { template: 'python', runtime: 'container', size: 1, network: true, egress: ['example.test:443'] },
  ]);
  assert.throws(
    () => parseAgentConfig({ ...base, pools: [{ template: 'busybox', runtime: 'container', size: 1, network: false, egress: 'all' }] }),
    /egress is for a networked pool: leave it out or set network: true/,
  );
});

test('a pool with an autoscale range is forecast-driven: MIN-MAX in the list, starting at min unless a size is given', () => {
  const base = { serverUrl: 'ws://10.0.0.1:7070/v1/agent/connect', token: 'tt_node_aaaaaaaaaaaaaaaa', nodeId: 'node-1' };
  const c = parseAgentConfig({ ...base, ...agentConfigFrom({ TARTARUS_POOLS: 'python:container:1-8,busybox:container:2:lo' }) });
  assert.deepEqual(c.pools, [
    { template: 'python', runtime: 'container', size: 1, autoscale: { min: 1, max: 8 }, network: true, egress: 'all' },
    { template: 'busybox', runtime: 'container', size: 2, network: false },
  ]);
  const started = parseAgentConfig({ ...base, pools: [{ template: 'python', runtime: 'container', size: 3, autoscale: { min: 0, max: 4 } }] });
  assert.equal(started.pools[0]?.size, 3);
  const bad = (pool: object) => () => parseAgentConfig({ ...base, pools: [{ template: 'python', runtime: 'container', ...pool }] });
  assert.throws(bad({}), /give the pool a size, or an autoscale \{min, max\}/);
  assert.throws(bad({ autoscale: { min: 5, max: 2 } }), /autoscale min must not be above max/);
  assert.throws(bad({ size: 9, autoscale: { min: 0, max: 4 } }), /keep it between autoscale min and max, or leave it out/);
  assert.throws(() => agentConfigFrom({ TARTARUS_POOLS: 'python:container:many' }), /SIZE a number, or MIN-MAX for a forecast-driven pool/);
});
