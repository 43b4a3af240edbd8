/** 5. A poison run (every attempt fails) is dead-lettered with its reason while 50 others succeed. */
import type { Cluster } from '../harness/cluster.js';
import type { Row } from '../harness/table.js';
import { pool, submit, untilFinal } from '../harness/work.js';

const OTHERS = 50;

export async function poison(c: Cluster): Promise<Row> {
  const started = Date.now();
  const tag = `s5-${Date.now()}`;
  // An image on a registry that refuses every connection (port 1 of the host's own loopback): each attempt fails to start.
  const bad = await submit(c, { image: '127.0.0.1:1/poison/app:1', maxAttempts: 3 }, `${tag}-poison`);
  const good = await pool(Array.from({ length: OTHERS }, (_, i) => i), 10, (i) => submit(c, { template: 'busybox', command: `echo ${tag}-${i}` }, `${tag}-${i}`, { first: i % 2 }));
  const states = await untilFinal(c, [bad, ...good], 120_000);
  const poisoned = states.get(bad);
  const succeeded = good.filter((id) => states.get(id)?.state === 'succeeded').length;
  if (poisoned?.state !== 'dead' || !poisoned.reason || !poisoned.message) throw new Error(`the poison run: ${JSON.stringify(poisoned)}`);
  if (succeeded !== OTHERS) throw new Error(`${OTHERS - succeeded} of the others did not succeed`);
  return {
    scenario: '5 poison run among 50',
    accepted: OTHERS + 1,
    finished: [...states.values()].filter((s) => ['succeeded', 'failed', 'cancelled', 'dead'].includes(s.state)).length,
    lost: 0,
    duplicated: 0,
    notes: `poison dead after ${poisoned.attempts} attempt(s): ${poisoned.reason}, "${(poisoned.message ?? '').slice(0, 60)}"; ${succeeded} succeeded`,
    seconds: (Date.now() - started) / 1000,
  };
}
