/**
 * Submitting and watching work the way a careful client does: raw HTTP (every status is seen),
 * an idempotency key on each submission, Retry-After honoured on 429 and 503, another replica
 * tried when one cannot be reached; runs' states read in pages.
 */
import type { Cluster } from './cluster.js';

/** An answer, or status 0 when the replica could not be reached. */
export interface Answer {
  status: number;
  json: Record<string, unknown>;
  retryAfter: string | null;
}

/** One HTTP call to `base`; a connection error is status 0. */
export async function api(base: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: res.status, json, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 0, json: {}, retryAfter: null };
  }
}

/** What submitting saw. */
export interface SubmitStats {
  /** Answers by status (0: unreachable). */
  statuses: Map<number, number>;
}

export function newStats(): SubmitStats {
  return { statuses: new Map() };
}

function count(stats: SubmitStats, status: number): void {
  stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
}

/**
 * Submits `body` with idempotency key `key` until it is accepted: through replica `first`, then
 * the others in turn when one cannot be reached; after Retry-After on 429/503. Returns the run id.
 */
export async function submit(c: Cluster, body: unknown, key: string, o: { first?: number; stats?: SubmitStats; deadlineMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (o.deadlineMs ?? 120_000);
  for (let i = o.first ?? 0; ; i++) {
    const replica = c.replicas[i % c.replicas.length];
    if (replica === undefined) throw new Error('no replica');
    const a = await api(replica.url, c.adminKey, 'POST', '/v1/runs', body, { 'idempotency-key': key });
    if (o.stats) count(o.stats, a.status);
    if (a.status === 201 || a.status === 200) return a.json['id'] as string;
    if (a.status >= 400 && a.status < 500 && a.status !== 429) throw new Error(`submission ${key} refused: ${a.status} ${JSON.stringify(a.json)}`);
    if (Date.now() > deadline) throw new Error(`submission ${key} not accepted in time (last ${a.status})`);
    const wait = a.retryAfter !== null ? Math.min(2000, Number(a.retryAfter) * 1000) : 200;
    await new Promise((r) => setTimeout(r, wait));
  }
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'dead']);

/** A run's state and what it ended with. */
export interface RunState {
  id: string;
  state: string;
  attempts: number;
  reason?: string | null;
  message?: string | null;
}

/** Every run of the admin's tenant, newest first, read in pages through any replica that answers. */
export async function allRuns(c: Cluster): Promise<Map<string, RunState>> {
  const out = new Map<string, RunState>();
  for (const r of c.replicas.filter((x) => x.running)) {
    let cursor: string | undefined;
    try {
      do {
        const page = await c.client(c.replicas.indexOf(r)).runs.list({ limit: 500, ...(cursor === undefined ? {} : { cursor }) });
        for (const run of page.items) out.set(run.id, { id: run.id, state: run.state, attempts: run.attempts, reason: run.reason ?? null, message: run.message ?? null });
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return out;
    } catch {
      out.clear();
    }
  }
  return out;
}

/** Waits until every run of `ids` is final (or `timeoutMs` passes); returns their last states. */
export async function untilFinal(c: Cluster, ids: Iterable<string>, timeoutMs: number): Promise<Map<string, RunState>> {
  const wanted = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await allRuns(c);
    const mine = new Map([...wanted].map((id) => [id, runs.get(id) ?? { id, state: 'missing', attempts: 0 }]));
    if ([...mine.values()].every((r) => FINAL.has(r.state)) || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
    }),
  );
  return out;
}

export function isFinal(state: string): boolean {
  return FINAL.has(state);
}
