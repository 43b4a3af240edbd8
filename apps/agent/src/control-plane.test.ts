import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentNetworkOptions, controlPlaneDeny } from './control-plane.js';

const names = async (host: string): Promise<string[]> => {
  if (host === 'cp.test') return ['192.0.2.10', '192.0.2.11', '192.0.2.10'];
  throw new Error(`ENOTFOUND ${host}`);
};

test('the control plane the agent connects to is denied to sandboxes: literal, resolved, default ports', async () => {
  assert.deepEqual(await controlPlaneDeny('ws://10.0.0.5:7070/v1/agent/connect', names), [
    '10.0.0.5:7070',
  ]);
  assert.deepEqual(await controlPlaneDeny('wss://cp.test/v1/agent/connect', names), [
    '192.0.2.10:443',
    '192.0.2.11:443',
  ]);
  assert.deepEqual(await controlPlaneDeny('ws://cp.test/x', names), [
    '192.0.2.10:80',
    '192.0.2.11:80',
  ]);
  // IPv6 (sandboxes have none) and names that do not resolve add nothing.
  assert.deepEqual(await controlPlaneDeny('ws://[::1]:7070/x', names), []);
  assert.deepEqual(await controlPlaneDeny('ws://gone.test:7070/x', names), []);
  assert.deepEqual(await controlPlaneDeny('not a url', names), []);
});

test('given network options keep their own deny entries, once each', async () => {
  const o = await agentNetworkOptions(
    'ws://10.0.0.5:7070/x',
    { pool: '10.90.0.0/16', deny: ['198.51.100.0/24', '10.0.0.5:7070'] },
    names,
  );
  assert.deepEqual(o, { pool: '10.90.0.0/16', deny: ['198.51.100.0/24', '10.0.0.5:7070'] });
});
