/**
 * 6. 1,000 submissions at once (one client key, both replicas): no 5xx; those over the rate limit
 * get 429 with Retry-After; every accepted run finishes.
 */
import type { Cluster } from '../harness/cluster.js';
import type { Row } from '../harness/table.js';
import { api, isFinal, untilFinal } from '../harness/work.js';

const SUBMISSIONS = 1000;

export async function burst(c: Cluster): Promise<Row> {
  const started = Date.now();
  const tag = `s6-${Date.now()}`;
  const created = await c.client(0).apiKeys.create({ name: `${tag}-client` });
  const answers = await Promise.all(
    Array.from({ length: SUBMISSIONS }, (_, i) => {
      const replica = c.replicas[i % c.replicas.length];
      return api(replica?.url ?? '', created.secret, 'POST', '/v1/runs', { template: 'busybox', command: 'true' }, { 'idempotency-key': `${tag}-${i}` });
    }),
  );
  const accepted = answers.filter((a) => a.status === 201 || a.status === 200).map((a) => a.json['id'] as string);
  const throttled = answers.filter((a) => a.status === 429);
  const other = answers.filter((a) => a.status !== 201 && a.status !== 200 && a.status !== 429);
  if (other.length > 0) throw new Error(`answers other than 201 and 429: ${other.slice(0, 3).map((a) => `${a.status} ${JSON.stringify(a.json)}`).join('; ')}`);
  if (throttled.some((a) => a.retryAfter === null || !/^\d+$/.test(a.retryAfter))) throw new Error('a 429 without Retry-After');
  const states = await untilFinal(c, accepted, 240_000);
  const finished = [...states.values()].filter((s) => isFinal(s.state));
  return {
    scenario: '6 1,000 submissions at once',
    accepted: accepted.length,
    finished: finished.length,
    lost: accepted.length - finished.length,
    duplicated: accepted.length - new Set(accepted).size,
    notes: `${throttled.length} throttled (429 + Retry-After); no 5xx`,
    seconds: (Date.now() - started) / 1000,
  };
}
