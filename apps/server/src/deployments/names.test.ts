// The names table a node is told (names.ts): each service's bare and `.internal` names → the
// replicas that take traffic on that node only; jobs and crons have none; a service without such
// a replica keeps its names with no sandbox (answered empty, not forwarded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDeployment } from '@tartarus/core/deploy';
import type { Deployment, DeploymentRun } from '../store/deployments.js';
import { routableReplicas } from './routable.js';
import { deploymentGroup, namesTable } from './names.js';

const { plan } = loadDeployment(
  `version: v1
deployment: Shop
services:
  api: { image: { name: template:busybox }, scale: { mode: fixed, replicas: 3 } }
  db: { image: { name: template:busybox }, scale: { mode: fixed, replicas: 1 } }
  migrate: { rtype: job, image: { name: template:busybox } }
`,
  { file: 'shop.yaml', env: {} },
);
const d = { id: 'd1', tenantId: 't1', name: 'Shop', plan, revision: 1, state: 'active', replicas: {}, createdAt: 0, updatedAt: 0, specText: '' } as unknown as Deployment;
const run = (runId: string, service: string, nodeId: string | null, over: Partial<DeploymentRun> = {}): DeploymentRun => ({
  runId, service, kind: 'replica', revision: 1, tick: null, health: 'unknown', createdAt: 0, state: 'running', nodeId, epoch: 1, exitCode: null, endedAt: null, ...over,
});

test('namesTable: per node, the replicas that take traffic there, under both names', () => {
  const runs = [
    run('a1', 'api', 'n1'),
    run('a2', 'api', 'n2'),
    run('a3', 'api', 'n1', { health: 'draining' }),
    run('m1', 'migrate', 'n1', { kind: 'job' }),
    run('b1', 'db', 'n2'),
  ];
  const routable = routableReplicas(plan.services, runs);
  const n1 = namesTable(d, routable, 'n1');
  const api = routable.filter((r) => r.runId === 'a1').map((r) => r.sandboxId);
  assert.deepEqual(n1, { api, 'api.shop.internal': api, db: [], 'db.shop.internal': [] });
  assert.deepEqual(Object.keys(namesTable(d, routable, 'n2')).sort(), ['api', 'api.shop.internal', 'db', 'db.shop.internal']);
  assert.equal(namesTable(d, routable, 'n2').db?.length, 1);
  assert.equal(deploymentGroup('shop'), 'deployment:shop');
});
