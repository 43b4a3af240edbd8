/**
 * 2. A server replica SIGKILLed with submissions in flight: the client submits again, with the same
 * idempotency keys, through the other replica, and gets the same run ids; nothing is lost; a
 * live sandbox on the killed replica's node keeps running (it is not restarted either: a file
 * written in it before is still there).
 */
import type { Cluster } from '../harness/cluster.js';
import type { Row } from '../harness/table.js';
import { api, isFinal, pool, untilFinal } from '../harness/work.js';

const RUNS = 40;

export async function replicaKill(c: Cluster): Promise<Row> {
  const started = Date.now();
  const tag = `s2-${Date.now()}`;
  const [a, b] = c.replicas;
  if (a === undefined || b === undefined) throw new Error('two replicas expected');
  const host1 = c.hosts[0]?.nodeId;
  // A live sandbox on replica A's node (host-1), created through B.
  const sandbox = await sandboxOn(c, host1 ?? '');
  const marker = await api(b.url, c.adminKey, 'POST', `/v1/sandboxes/${sandbox}/exec`, { command: 'echo alive > /tmp/marker' });
  if (marker.status !== 200) throw new Error(`exec before the kill: ${marker.status} ${JSON.stringify(marker.json)}`);

  // Submissions through A; A dies half way.
  const first = new Map<number, string>();
  const submitting = pool(Array.from({ length: RUNS }, (_, i) => i), 8, async (i) => {
    const r = await api(a.url, c.adminKey, 'POST', '/v1/runs', { template: 'busybox', command: `sleep 0.5; echo ${tag}-${i}` }, { 'idempotency-key': `${tag}-${i}` });
    if (r.status === 201 || r.status === 200) first.set(i, r.json['id'] as string);
  });
  while (first.size < RUNS / 2) await new Promise((r) => setTimeout(r, 20));
  await a.kill();
  await submitting;
  // A comes back at once (its agent reconnects, as it would through a load balancer to B).
  const restarting = a.start();
  // The client submits everything again through B, with the same keys.
  const again = await pool(Array.from({ length: RUNS }, (_, i) => i), 8, async (i) => {
    for (;;) {
      const r = await api(b.url, c.adminKey, 'POST', '/v1/runs', { template: 'busybox', command: `sleep 0.5; echo ${tag}-${i}` }, { 'idempotency-key': `${tag}-${i}` });
      if (r.status === 201 || r.status === 200) return r.json['id'] as string;
      await new Promise((res) => setTimeout(res, r.retryAfter !== null ? Number(r.retryAfter) * 1000 : 200));
    }
  });
  await restarting;
  const sameIds = [...first].filter(([i, id]) => again[i] === id).length;
  const states = await untilFinal(c, again, 120_000);
  const finished = [...states.values()].filter((s) => isFinal(s.state));
  await c.untilNodesUp();
  // Through B, as a client retrying a 503 (B's view of who holds host-1 is renewed within seconds of A's restart).
  let still = await api(b.url, c.adminKey, 'POST', `/v1/sandboxes/${sandbox}/exec`, { command: 'cat /tmp/marker' });
  // A 409 "is lost … wait until it runs" is the moment between its node's reconnection and the
  // reconcile that finds the sandbox on it again: the client waits, as the message says.
  const waiting = (r: typeof still): boolean => r.status === 503 || (r.status === 409 && /is lost, not running/.test(JSON.stringify(r.json)));
  for (let i = 0; i < 30 && waiting(still); i++) {
    await new Promise((r) => setTimeout(r, Number(still.retryAfter ?? 1) * 1000));
    still = await api(b.url, c.adminKey, 'POST', `/v1/sandboxes/${sandbox}/exec`, { command: 'cat /tmp/marker' });
  }
  const alive = still.status === 200 && (still.json['stdout'] as string) === 'alive\n';
  await api(b.url, c.adminKey, 'DELETE', `/v1/sandboxes/${sandbox}`);
  if (!alive) throw new Error(`the sandbox on the killed replica's node did not survive: ${still.status} ${JSON.stringify(still.json)}`);
  if (sameIds !== first.size) throw new Error(`${first.size - sameIds} submissions got another run id through the other replica`);
  return {
    scenario: '2 replica SIGKILLed, clients retry',
    accepted: new Set(again).size,
    finished: finished.length,
    lost: RUNS - finished.length,
    duplicated: RUNS - new Set(again).size,
    notes: `${first.size} answered by A before it died, all ${sameIds} same ids through B; sandbox kept running`,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A sandbox on `nodeId` (pinned there by the label the harness gives each host); its id. */
async function sandboxOn(c: Cluster, nodeId: string): Promise<string> {
  const r = await api(c.replicas[1]?.url ?? '', c.adminKey, 'POST', '/v1/sandboxes', { template: 'busybox', timeoutMs: 600_000, nodeSelector: { 'battery-host': nodeId } });
  if (r.status !== 201) throw new Error(`sandbox create: ${r.status} ${JSON.stringify(r.json)}`);
  if (r.json['nodeId'] !== nodeId) throw new Error(`the sandbox pinned to ${nodeId} runs on ${String(r.json['nodeId'])}`);
  return r.json['id'] as string;
}
