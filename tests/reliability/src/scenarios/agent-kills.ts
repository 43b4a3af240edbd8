/**
 * 1. An agent SIGKILLed again and again while 200 runs (half a second each) go through: every run
 * reaches a final state, and none is committed twice (at most one attempt of each ends with an
 * exit code). A run in flight at a kill goes on in its sandbox, which the restarted agent
 * re-adopts; one whose report was lost runs again.
 */
import type { Cluster } from '../harness/cluster.js';
import type { Row } from '../harness/table.js';
import { api, isFinal, pool, submit, untilFinal } from '../harness/work.js';

const RUNS = 200;
const KILLS = 4;

export async function agentKills(c: Cluster): Promise<Row> {
  const started = Date.now();
  const tag = `s1-${Date.now()}`;
  const host = c.hosts[0];
  const replica = c.replicas[0];
  if (host === undefined || replica === undefined) throw new Error('cluster without hosts');
  let kills = 0;
  // The killer: while the runs go through, the first host's agent dies and comes back, again and again.
  const killer = (async () => {
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 1500));
      await host.killAgent();
      kills++;
      await new Promise((r) => setTimeout(r, 500));
      host.startAgent(replica.port);
    }
  })();
  const ids = await pool(Array.from({ length: RUNS }, (_, i) => i), 16, (i) => submit(c, { template: 'busybox', command: `sleep 0.5; echo ${tag}-${i}` }, `${tag}-${i}`, { first: i % 2 }));
  await killer;
  const states = await untilFinal(c, ids, 180_000);
  let duplicated = 0;
  for (const id of ids) {
    const attempts = await api(c.replicas[1]?.url ?? '', c.adminKey, 'GET', `/v1/runs/${id}/attempts`);
    const items = (attempts.json['items'] ?? []) as { exitCode: number | null; reason: string | null }[];
    if (items.filter((a) => a.exitCode !== null).length > 1) duplicated++;
  }
  const finished = [...states.values()].filter((s) => isFinal(s.state));
  const byState = new Map<string, number>();
  for (const s of finished) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
  const retried = [...states.values()].filter((s) => s.attempts > 1).length;
  const dead = [...states.values()].find((s) => s.state === 'dead');
  return {
    scenario: '1 agent SIGKILLed during 200 runs',
    accepted: new Set(ids).size,
    finished: finished.length,
    lost: RUNS - finished.length,
    duplicated: duplicated + (RUNS - new Set(ids).size),
    notes: `${kills} kills; ${[...byState].map(([k, v]) => `${v} ${k}`).join(', ')}; ${retried} ran again, the rest re-adopted${dead ? ` (a dead one: ${dead.reason}: ${dead.message})` : ''}`,
    seconds: (Date.now() - started) / 1000,
  };
}
