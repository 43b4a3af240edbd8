/**
 * 3. A host cut off the network past the node deadline while it runs a run, then healed: the node
 * is marked down, the run is scheduled again once (a new attempt, with a new epoch, on the other
 * host), the old attempt's late result is refused, and the host comes back up with nothing left
 * of the old attempt.
 */
import type { Cluster } from '../harness/cluster.js';
import { TIMERS } from '../harness/replicas.js';
import type { Row } from '../harness/table.js';
import { api, submit, untilFinal } from '../harness/work.js';

export async function partition(c: Cluster): Promise<Row> {
  const started = Date.now();
  const [h1, h2] = c.hosts;
  const b = c.replicas[1];
  if (h1 === undefined || h2 === undefined || b === undefined) throw new Error('two hosts expected');
  const A = (method: string, path: string, body?: unknown) => api(b.url, c.adminKey, method, path, body);
  // The run goes to host-2: host-1 is cordoned until it runs there.
  await A('POST', `/v1/nodes/${h1.nodeId}/cordon`);
  const id = await submit(c, { template: 'busybox', command: 'sleep 3; echo finished' }, `s3-${Date.now()}`, { first: 1 });
  await until(async () => {
    const r = await A('GET', `/v1/runs/${id}`);
    return r.json['state'] === 'running';
  }, 30_000, 'the run running on host-2');
  await A('POST', `/v1/nodes/${h1.nodeId}/uncordon`);
  // Cut host-2 off past the node deadline: the old attempt finishes meanwhile, unheard.
  h2.partition(true);
  let sawDown = false;
  try {
    await until(async () => {
      const nodes = await A('GET', '/v1/nodes');
      sawDown = ((nodes.json['items'] ?? []) as { id: string; status: string }[]).some((n) => n.id === h2.nodeId && n.status !== 'up');
      return sawDown;
    }, TIMERS.nodeDeadlineMs + 15_000, 'host-2 marked down');
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    h2.partition(false);
  }
  const [state] = (await untilFinal(c, [id], 60_000)).values();
  await c.untilNodesUp();
  const attempts = ((await A('GET', `/v1/runs/${id}/attempts`)).json['items'] ?? []) as { epoch: number; nodeId: string; exitCode: number | null; reason: string | null }[];
  const withExit = attempts.filter((x) => x.exitCode !== null);
  // The late result of the first attempt was refused: its attempt did not end with an exit code.
  const first = attempts.find((x) => x.nodeId === h2.nodeId);
  await until(async () => (await c.leaks()).filter((l) => l.startsWith(h2.nodeId)).length === 0, 30_000, 'host-2 clean');
  const ok = state?.state === 'succeeded' && attempts.length === 2 && withExit.length === 1 && first !== undefined && first.exitCode === null;
  if (!ok) throw new Error(`after the partition: run ${JSON.stringify(state)}, attempts ${JSON.stringify(attempts)}`);
  return {
    scenario: '3 host partitioned past the deadline',
    accepted: 1,
    finished: state?.state === 'succeeded' ? 1 : 0,
    lost: 0,
    duplicated: withExit.length - 1,
    notes: `node marked down; run again once (epochs ${attempts.map((x) => x.epoch).join(', ')}); the old attempt's result refused (${first.reason ?? 'no reason'}); host-2 clean and up`,
    seconds: (Date.now() - started) / 1000,
  };
}

async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
