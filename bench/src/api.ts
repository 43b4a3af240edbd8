/**
 * `npm run bench -- api`: what the API path costs. End-to-end latency of a python3 hello-world
 * through `runs.submit({wait})` (and through the `tartarus run` binary) against bare `runc run` of
 * the same root, then sustained runs per second at concurrency 4 and 16 — all in one process, on
 * an embedded server it starts in a temp data dir. `ratioVsRunc` = our median ÷ bare runc's
 * (target ≤ 1.3). Throughput: 8 × concurrency runs per variant, `runsPerSecC4`/`C16` ours,
 * `runcPerSecC4`/`C16` bare runc at the same concurrency. The whole `tartarus run` process is
 * also compared, interleaved, with `podman run --rm` of the same root imported as an image
 * (podman from Debian's package, installed here if missing): `cliRatioVsPodman` (target ≤ 1.0),
 * with NODE_EXTRA_CA_CERTS left out of the CLI's environment when it is set (see
 * `envWithoutExtraCa`); as invoked, with it: `cliWithExtraCaCertsRatioVsPodman`.
 * What metrics and phase timings cost the run path: the same submit against a second embedded
 * server with `observability: false`, interleaved with the others: `observabilityRatio` = on ÷
 * off (target ≤ 1.03).
 *
 *   npm run bench -- api [--iterations N]     (default 30 latency rounds, after 2 warm-up rounds)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateStore, defaultTemplateDir, runCommand } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { startEmbedded } from '@tartarus/server';
import type { BenchArgs } from './main.js';
import { makeBundle, runcRun } from './bare-runc.js';
import { checkStop, median, round, timeMs } from './stats.js';

const ARGV = ['python3', '-c', 'print("hello")'];
const CLI = fileURLToPath(new URL('../../packages/cli/bin/tartarus.js', import.meta.url));

function check(stdout: string | undefined, what: string): void {
  if (stdout?.trim() !== 'hello')
    throw new Error(`${what}: expected "hello", got ${JSON.stringify(stdout)}`);
}

/** Runs `n` calls of `fn` with `concurrency` in flight; returns completed calls per second. */
async function throughput(
  n: number,
  concurrency: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        checkStop();
        await fn();
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/**
 * The environment without NODE_EXTRA_CA_CERTS: when it names a CA bundle, every Node process
 * parses that whole file before any of its code runs (≈ 70 ms with Debian's full bundle, where
 * `node -e 0` takes ≈ 35 ms) — a cost of the environment (a fresh machine does not set it), not
 * of the CLI. Undefined when it is not set.
 */
function envWithoutExtraCa(): NodeJS.ProcessEnv | undefined {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** `tartarus run` as a user types it, with the server found through its data dir. */
function cliRun(dataDir: string, baseEnv: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--template', 'python', '--', ...ARGV], {
      env: { ...baseEnv, TARTARUS_DATA_DIR: dataDir, TARTARUS_URL: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 && out.trim() === 'hello'
        ? resolve()
        : reject(new Error(`tartarus run exited ${code}: ${out}`)),
    );
  });
}

const PODMAN_FLAGS = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

/** Imports `rootfs` into podman as an image (installing podman if missing); undefined when podman cannot be had. */
async function podmanImport(rootfs: string): Promise<string | undefined> {
  const has = await runCommand(['podman', '--version'], { allowNonZero: true }).then((r) => r.exitCode === 0, () => false);
  if (!has) {
    console.error('podman is missing: apt-get install -y podman (Debian package)');
    const ok = await runCommand(['apt-get', 'install', '-y', '--no-install-recommends', 'podman'], { timeoutMs: 600_000, allowNonZero: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      .then((r) => r.exitCode === 0, () => false);
    if (!ok) return undefined;
  }
  const image = 'localhost/tartarus-bench-python:latest';
  const tar = await runCommand(['sh', '-c', `tar -C "$0" -c . | podman import - ${image}`, rootfs], { timeoutMs: 600_000, allowNonZero: true });
  if (tar.exitCode !== 0) {
    console.error(`podman import failed: ${tar.stderr.trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  await podmanRun(image); // the first run sets up podman's storage
  return image;
}

async function podmanRun(image: string): Promise<void> {
  const r = await runCommand(['podman', 'run', '--rm', ...PODMAN_FLAGS, image, ...ARGV], { timeoutMs: 60_000 });
  check(r.stdout, 'podman run');
}

/**
 * Latency samples (ms) of each variant, interleaved round by round with the order rotated, so that
 * machine noise hits every variant alike; `warmup` rounds are not measured.
 */
async function interleaved(
  rounds: number,
  warmup: number,
  variants: Record<string, () => Promise<unknown>>,
): Promise<Record<string, number[]>> {
  const names = Object.keys(variants);
  const out: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < warmup + rounds; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length] as string;
      const ms = await timeMs(variants[name] as () => Promise<unknown>);
      if (i >= warmup) out[name]?.push(ms);
    }
  }
  return out;
}

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 30;
  const template = await new TemplateStore({ dir: defaultTemplateDir() }).ensure('python', {
    onProgress: (p) => console.error(`python template: ${p.phase}: ${p.message}`),
  });
  const bundle = await makeBundle(template.rootfsPath, ARGV, template.defaults.env);
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-api-'));
  // The shared template cache, so the python root built once serves both sides of the comparison.
  const server = await startEmbedded({ dataDir, port: 0, templateDir: defaultTemplateDir() });
  const offDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-api-off-'));
  const off = await startEmbedded({ dataDir: offDir, port: 0, templateDir: defaultTemplateDir(), server: { observability: false } });
  let podmanImage: string | undefined;
  try {
    const submitTo = (client: Tartarus) => async () => {
      const r = await client.runs.submit({ argv: ARGV, template: 'python' }, { wait: true });
      check(r.stdout, `run ${r.id} (${r.state}, ${r.reason ?? ''} ${r.message ?? ''})`);
    };
    const submit = submitTo(new Tartarus({ url: server.url, apiKey: server.adminKey }));
    const submitOff = submitTo(new Tartarus({ url: off.url, apiKey: off.adminKey }));
    const bare = async () => check(await runcRun(bundle), 'runc run');
    console.error(
      `latency: ${n} interleaved rounds of bare runc and runs.submit({wait}), then tartarus run`,
    );
    const lat = await interleaved(n, 2, { runc: bare, api: submit, apiOff: submitOff });
    // The CLI separately: a Node start-up takes both cores for a while and would slow the others.
    podmanImage = await podmanImport(template.rootfsPath);
    const cleanEnv = envWithoutExtraCa();
    const cliLat = await interleaved(Math.max(10, Math.ceil(n / 2)), 1, {
      cli: () => cliRun(dataDir, cleanEnv),
      ...(cleanEnv ? { cliAsInvoked: () => cliRun(dataDir) } : {}),
      ...(podmanImage ? { podman: () => podmanRun(podmanImage as string) } : {}),
    });
    const rates: Record<string, number> = {};
    for (const c of [4, 16]) {
      console.error(`throughput at concurrency ${c}`);
      rates[`runsPerSecC${c}`] = round(await throughput(8 * c, c, submit), 2);
      rates[`runcPerSecC${c}`] = round(await throughput(8 * c, c, bare), 2);
    }
    const runcMedian = median(lat.runc ?? []);
    const apiMedian = median(lat.api ?? []);
    const offMedian = median(lat.apiOff ?? []);
    const cliMedian = median(cliLat.cli ?? []);
    const podmanMedian = cliLat.podman?.length ? median(cliLat.podman) : undefined;
    console.error(
      `api/runc ${round(apiMedian / runcMedian, 3)} (target ≤ 1.3); tartarus run/runc ${round(cliMedian / runcMedian, 3)} (includes Node start-up)`,
    );
    return {
      iterations: n,
      runcMedianMs: round(runcMedian, 1),
      apiMedianMs: round(apiMedian, 1),
      cliMedianMs: round(cliMedian, 1),
      ratioVsRunc: round(apiMedian / runcMedian, 3),
      apiObservabilityOffMedianMs: round(offMedian, 1),
      observabilityRatio: round(apiMedian / offMedian, 3),
      observabilityTarget: 1.03,
      cliRatioVsRunc: round(cliMedian / runcMedian, 3),
      ...(podmanMedian === undefined ? { podman: 'unavailable (apt-get install podman failed)' } : { podmanMedianMs: round(podmanMedian, 1), cliRatioVsPodman: round(cliMedian / podmanMedian, 3), cliTarget: 1.0 }),
      // With NODE_EXTRA_CA_CERTS as this environment sets it (see envWithoutExtraCa).
      ...(cliLat.cliAsInvoked?.length ? { cliWithExtraCaCertsMedianMs: round(median(cliLat.cliAsInvoked), 1), ...(podmanMedian === undefined ? {} : { cliWithExtraCaCertsRatioVsPodman: round(median(cliLat.cliAsInvoked) / podmanMedian, 3) }) } : {}),
      targetRatio: 1.3,
      ...rates,
      ratioRunsPerSecC4: round((rates.runsPerSecC4 ?? 0) / (rates.runcPerSecC4 ?? 1), 3),
      ratioRunsPerSecC16: round((rates.runsPerSecC16 ?? 0) / (rates.runcPerSecC16 ?? 1), 3),
    };
  } finally {
    await server.close({ destroySandboxes: true });
    await off.close({ destroySandboxes: true });
    await rm(offDir, { recursive: true, force: true });
    if (podmanImage) await runCommand(['podman', 'rmi', '-f', podmanImage], { allowNonZero: true }).catch(() => undefined);
    await bundle.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}
