/**
 * 4. Redis, then PostgreSQL, restarted under load (submissions through both replicas all along):
 * while PostgreSQL is down the API answers 503 with Retry-After (never another 5xx), both come
 * back without a restart of any replica, and every run accepted before, during or after finishes.
 */
import type { Cluster } from '../harness/cluster.js';
import type { Row } from '../harness/table.js';
import { api, isFinal, untilFinal } from '../harness/work.js';

export async function outages(c: Cluster): Promise<Row> {
  const started = Date.now();
  const tag = `s4-${Date.now()}`;
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  let missingRetryAfter = 0;
  let loading = true;
  // The load: one submission every 100 ms, alternating replicas; each key submitted until accepted.
  const load = (async () => {
    let i = 0;
    const pending = new Set<Promise<void>>();
    while (loading) {
      const n = i++;
      const p = (async () => {
        for (let tries = 0; tries < 200; tries++) {
          const replica = c.replicas[(n + tries) % c.replicas.length];
          if (replica === undefined) return;
          const r = await api(replica.url, c.adminKey, 'POST', '/v1/runs', { template: 'busybox', command: `echo ${tag}-${n}` }, { 'idempotency-key': `${tag}-${n}` });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 201 || r.status === 200) return void accepted.push(r.json['id'] as string);
          if (r.status === 503 && r.retryAfter === null) missingRetryAfter++;
          await new Promise((res) => setTimeout(res, 250));
        }
      })();
      pending.add(p);
      void p.finally(() => pending.delete(p));
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(pending);
  })();
  await new Promise((r) => setTimeout(r, 1500));
  await c.redis.halt();
  await new Promise((r) => setTimeout(r, 3000));
  await c.redis.resume();
  await new Promise((r) => setTimeout(r, 1500));
  await c.pg.halt();
  await new Promise((r) => setTimeout(r, 4000));
  await c.pg.resume();
  await new Promise((r) => setTimeout(r, 2000));
  loading = false;
  await load;
  const states = await untilFinal(c, accepted, 120_000);
  const finished = [...states.values()].filter((s) => isFinal(s.state));
  const other5xx = [...statuses].filter(([s]) => s >= 500 && s !== 503).reduce((n, [, k]) => n + k, 0);
  const during = statuses.get(503) ?? 0;
  if (other5xx > 0) throw new Error(`answers other than 503 among the 5xx: ${JSON.stringify([...statuses])}`);
  if (missingRetryAfter > 0) throw new Error(`${missingRetryAfter} 503 answers without Retry-After`);
  if (during === 0) throw new Error(`no 503 while PostgreSQL was down: ${JSON.stringify([...statuses])}`);
  const unreached = statuses.get(0) ?? 0;
  return {
    scenario: '4 Redis, then PostgreSQL restarted',
    accepted: accepted.length,
    finished: finished.length,
    lost: accepted.length - finished.length,
    duplicated: accepted.length - new Set(accepted).size,
    notes: `${during} answered 503 + Retry-After while down${unreached ? `, ${unreached} unreachable` : ''}; no other 5xx; no replica restarted`,
    seconds: (Date.now() - started) / 1000,
  };
}
