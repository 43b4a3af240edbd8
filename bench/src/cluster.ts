/**
 * `npm run bench -- cluster`: end-to-end runs per second of distributed mode against the embedded
 * platform, all on this one machine. A run is `true` in the busybox template, submitted with
 * `runs.submit(…, { wait: true })` (answered once final), by 16 client workers at once, each with
 * an API key of its own (the per-key rate limit, 50/s by default, is not what is measured), worker
 * i submitting to server i mod R. Configurations (the keys of the figures):
 *
 *   embedded  `tartarus up`: one process — server, scheduler and agent — on SQLite
 *   rRaA      R server replicas (1 or 2) on one PostgreSQL database, joined through one Redis,
 *             and A agents (1, 2 or 4), agent i connected to replica i mod R
 *
 * each as real processes (cluster-setup.ts), the client being this process. Each round starts
 * every configuration afresh (same database, data dir and state dirs as before), warms it up with
 * 16 runs, measures its share of the runs and stops it; the order alternates each round (ABBA), so
 * that machine noise and the order hit every configuration alike. `runsPerSec`: measured runs ÷
 * their summed wall time over the rounds; `ratioVsEmbedded`: ÷ embedded's; `medianMs`, `p95Ms`:
 * submit → answer of one run. Every agent here shares the same CPUs, so more agents add no CPU:
 * the figures say what distributing costs or gives on one machine, not how a fleet scales.
 *
 *   npm run bench -- cluster [--runs N] [--iterations R]   (N measured runs per configuration,
 *                                                          default 100; R rounds, default 2)
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplateDir, TemplateStore } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { postgresUnavailable, startPostgres, type PostgresServer } from '@tartarus/server/testing/postgres';
import { redisUnavailable } from '@tartarus/server/testing/redis';
import { prepareDatabase, startDistributedPlatform, startEmbeddedPlatform, type PlatformHandle } from './cluster-setup.js';
import type { BenchArgs } from './main.js';
import { checkStop, median, round } from './stats.js';

const CONCURRENCY = 16;
const WARMUP_RUNS = CONCURRENCY;

/** One configuration: 0 replicas is the embedded platform. */
interface Config {
  key: string;
  replicas: number;
  agents: number;
}

const CONFIGS: Config[] = [
  { key: 'embedded', replicas: 0, agents: 1 },
  ...[1, 2].flatMap((replicas) => [1, 2, 4].map((agents) => ({ key: `r${replicas}a${agents}`, replicas, agents }))),
];

/** What a configuration measured over the rounds. */
interface Measured {
  runs: number;
  seconds: number;
  latenciesMs: number[];
  ratesPerRound: number[];
}

/** One run of `true`, submitted and answered once final; throws unless it succeeded. */
async function oneRun(client: Tartarus): Promise<void> {
  const r = await client.runs.submit({ argv: ['true'], template: 'busybox' }, { wait: true });
  if (r.state !== 'succeeded') throw new Error(`run ${r.id} ended ${r.state}: ${r.reason ?? ''} ${r.message ?? ''}`);
}

/**
 * `n` runs through `clients` (one worker each, all at once); wall time in seconds and each run's
 * latency in ms. Every worker finishes its current run before a failure or a stop is thrown.
 */
async function drive(clients: Tartarus[], n: number): Promise<{ seconds: number; latenciesMs: number[] }> {
  let next = 0;
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  const done = await Promise.allSettled(
    clients.map(async (client) => {
      while (next++ < n) {
        checkStop();
        const t = performance.now();
        await oneRun(client);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
  if (failed) throw failed.reason;
  return { seconds, latenciesMs };
}

/** The client workers: one member API key each, worker i on server i mod R. */
async function clientsOf(p: PlatformHandle): Promise<Tartarus[]> {
  const admin = new Tartarus({ url: p.urls[0] as string, apiKey: p.adminKey });
  return Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const key = await admin.apiKeys.create({ name: `bench-worker-${i}`, role: 'member' });
      return new Tartarus({ url: p.urls[i % p.urls.length] as string, apiKey: key.secret });
    }),
  );
}

/** Where each configuration keeps its state across rounds. */
interface Places {
  dir: string;
  pg: PostgresServer | undefined;
  databases: Map<string, { database: string; adminKey: string }>;
}

async function startConfig(c: Config, places: Places): Promise<PlatformHandle> {
  const dir = join(places.dir, c.key);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (c.replicas === 0) return startEmbeddedPlatform(dir);
  let db = places.databases.get(c.key);
  if (db === undefined) {
    db = await prepareDatabase(places.pg as PostgresServer, c.key, dir);
    places.databases.set(c.key, db);
  }
  return startDistributedPlatform({ ...db, replicas: c.replicas, agents: c.agents, prefix: c.key, dir });
}

/** Starts `c`, warms it up, measures `n` runs, stops it (and destroys what it left). */
async function measureOnce(c: Config, n: number, places: Places): Promise<{ seconds: number; latenciesMs: number[] }> {
  const platform = await startConfig(c, places);
  try {
    const clients = await clientsOf(platform);
    await drive(clients, WARMUP_RUNS);
    return await drive(clients, n);
  } finally {
    const left = await platform.stop();
    if (left > 0) console.error(`${c.key}: destroyed ${left} sandbox(es) its agents left`);
  }
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

/** The readable table, one line per configuration. */
function table(configs: Config[], measured: Map<string, Measured>, baseline: number): string {
  const rows = [['config', 'replicas', 'agents', 'runs', 'runs/s', '× embedded', 'median ms', 'p95 ms', 'runs/s per round']];
  for (const c of configs) {
    const m = measured.get(c.key);
    if (m === undefined) continue;
    const rate = m.runs / m.seconds;
    rows.push([
      c.key,
      c.replicas === 0 ? '1 (SQLite)' : String(c.replicas),
      String(c.agents),
      String(m.runs),
      rate.toFixed(1),
      (rate / baseline).toFixed(2),
      median(m.latenciesMs).toFixed(0),
      percentile(m.latenciesMs, 95).toFixed(0),
      m.ratesPerRound.map((r) => r.toFixed(1)).join(', '),
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const runs = args.runs ?? 100;
  const rounds = Math.min(args.iterations ?? 2, runs);
  const unavailable = postgresUnavailable() ?? redisUnavailable();
  if (unavailable !== null) console.error(`distributed configurations skipped: ${unavailable}`);
  const configs = unavailable === null ? CONFIGS : CONFIGS.filter((c) => c.replicas === 0);
  await new TemplateStore({ dir: defaultTemplateDir() }).ensure('busybox', {
    onProgress: (p) => console.error(`busybox template: ${p.phase}: ${p.message}`),
  });
  const loadStart = loadavg()[0] as number;
  const places: Places = { dir: await mkdtemp(join(tmpdir(), 'tt-bench-cluster-')), pg: undefined, databases: new Map() };
  const measured = new Map<string, Measured>(configs.map((c) => [c.key, { runs: 0, seconds: 0, latenciesMs: [], ratesPerRound: [] }]));
  try {
    if (unavailable === null) places.pg = await startPostgres();
    for (let r = 0; r < rounds; r++) {
      const n = Math.floor(runs / rounds) + (r < runs % rounds ? 1 : 0);
      for (const c of r % 2 === 0 ? configs : [...configs].reverse()) {
        checkStop();
        const got = await measureOnce(c, n, places);
        const m = measured.get(c.key) as Measured;
        m.runs += n;
        m.seconds += got.seconds;
        m.latenciesMs.push(...got.latenciesMs);
        m.ratesPerRound.push(n / got.seconds);
        console.error(`round ${r + 1}/${rounds}: ${c.key} ${round(n / got.seconds, 1)} runs/s (${n} runs)`);
      }
    }
  } finally {
    await places.pg?.stop();
    await rm(places.dir, { recursive: true, force: true });
  }
  const rate = (key: string): number => {
    const m = measured.get(key) as Measured;
    return m.runs / m.seconds;
  };
  const baseline = rate('embedded');
  console.log(table(configs, measured, baseline));
  const byKey = (f: (key: string) => number, digits: number): Record<string, number> =>
    Object.fromEntries(configs.map((c) => [c.key, round(f(c.key), digits)]));
  return {
    runs,
    rounds,
    concurrency: CONCURRENCY,
    runsPerSec: byKey(rate, 2),
    ratioVsEmbedded: byKey((k) => rate(k) / baseline, 3),
    medianMs: byKey((k) => median(measured.get(k)?.latenciesMs ?? []), 1),
    p95Ms: byKey((k) => percentile(measured.get(k)?.latenciesMs ?? [], 95), 1),
    loadAvg1m: { start: round(loadStart, 2), end: round(loadavg()[0] as number, 2) },
    ...(unavailable === null ? {} : { distributed: `skipped: ${unavailable}` }),
  };
}
