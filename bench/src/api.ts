/**
 * `npm run bench -- api`: what the API path costs. End-to-end latency of a python3 hello-world
 * through `runs.submit({wait})` (and through the `tartarus run` binary) against bare `runc run` of
 * the same root, then sustained runs per second at concurrency 4 and 16 — all in one process, on
 * an embedded server it starts in a temp data dir. `ratioVsRunc` = our median ÷ bare runc's
 * (target ≤ 1.3).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateStore, defaultTemplateDir } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import type { BenchArgs } from './main.js';
import { makeBundle, runcRun } from './bare-runc.js';
import { median, round, timeMs } from './stats.js';

const ARGV = ['python3', '-c', 'print("hello")'];
const CLI = fileURLToPath(new URL('../../packages/cli/bin/tartarus.js', import.meta.url));

/** The part of `@tartarus/server` used here. */
interface EmbeddedModule {
  startEmbedded(o: { dataDir: string; port: number }): Promise<{ url: string; adminKey?: string; close(): Promise<void> }>;
}

function check(stdout: string | undefined, what: string): void {
  if (stdout?.trim() !== 'hello') throw new Error(`${what}: expected "hello", got ${JSON.stringify(stdout)}`);
}

/** Runs `n` calls of `fn` with `concurrency` in flight; returns completed calls per second. */
async function throughput(n: number, concurrency: number, fn: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await fn();
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/** `tartarus run` as a user types it, with the server found through its data dir. */
function cliRun(dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--template', 'python', '--', ...ARGV], {
      env: { ...process.env, TARTARUS_DATA_DIR: dataDir, TARTARUS_URL: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && out.trim() === 'hello' ? resolve() : reject(new Error(`tartarus run exited ${code}: ${out}`))));
  });
}

/** Latency samples (ms) of `fn`, after `warmup` unmeasured calls. */
async function samples(n: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timeMs(fn));
  return out;
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 20;
  const template = await new TemplateStore({ dir: defaultTemplateDir() }).ensure('python', {
    onProgress: (p) => console.error(`python template: ${p.phase}: ${p.message}`),
  });
  const bundle = await makeBundle(template.rootfsPath, ARGV, template.defaults.env);
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-api-'));
  const { startEmbedded } = (await import('@tartarus/server')) as unknown as EmbeddedModule;
  const server = await startEmbedded({ dataDir, port: 0 });
  try {
    const client = new Tartarus({ url: server.url, apiKey: server.adminKey });
    const submit = async () => {
      const r = await client.runs.submit({ argv: ARGV, template: 'python' }, { wait: true });
      check(r.stdout, `run ${r.id} (${r.state}, ${r.reason ?? ''} ${r.message ?? ''})`);
    };
    const bare = async () => check(await runcRun(bundle), 'runc run');
    console.error(`latency: ${n} sequential runs each of bare runc, runs.submit({wait}), tartarus run`);
    const runcMs = await samples(n, 2, bare);
    const apiMs = await samples(n, 2, submit);
    const cliMs = await samples(Math.max(3, Math.ceil(n / 2)), 1, () => cliRun(dataDir));
    const rates: Record<string, number> = {};
    for (const c of [4, 16]) {
      console.error(`throughput at concurrency ${c}`);
      rates[`runsPerSecC${c}`] = round(await throughput(4 * c, c, submit), 2);
      rates[`runcPerSecC${c}`] = round(await throughput(4 * c, c, bare), 2);
    }
    const runcMedian = median(runcMs);
    const apiMedian = median(apiMs);
    const cliMedian = median(cliMs);
    return {
      iterations: n,
      runcMedianMs: round(runcMedian, 1),
      apiMedianMs: round(apiMedian, 1),
      cliMedianMs: round(cliMedian, 1),
      ratioVsRunc: round(apiMedian / runcMedian, 3),
      cliRatioVsRunc: round(cliMedian / runcMedian, 3),
      targetRatio: 1.3,
      ...rates,
      ratioRunsPerSecC4: round((rates.runsPerSecC4 ?? 0) / (rates.runcPerSecC4 ?? 1), 3),
      ratioRunsPerSecC16: round((rates.runsPerSecC16 ?? 0) / (rates.runcPerSecC16 ?? 1), 3),
    };
  } finally {
    await server.close();
    await bundle.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}
