/**
 * `npm run bench -- pool`: a sandbox from a warm pool. `Sandbox.create({template: 'python'})`
 * through the SDK, then `commands.run` of a python command, timed until its first output, on an
 * embedded server whose agent keeps a python/container pool — against a bare `runc run` of the
 * same command over the same root (a cold container), interleaved. The sandbox is killed after
 * each round (outside the timing); the pool boots a replacement in the background, and each
 * round waits until the pool is full again so that every measured create finds one.
 *
 *   npm run bench -- pool [--iterations N]     (default 30 rounds, after 2 warm-up rounds)
 *
 * Figures: `warmMs` (median, create → first output), `createMs` (median of the create alone),
 * `runcColdMs`, `warmRatioVsRuncCold` = warm ÷ bare (target ≤ 0.5). The floor under any create:
 * `execFirstOutputMs`, the same command run again in the sandbox that now runs (untimed above),
 * and `execFloorRatioVsRuncCold` = that ÷ bare — python3's own start-up is most of it.
 */
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateStore, defaultTemplateDir } from '@tartarus/runtime';
import { Tartarus } from '@tartarus/sdk';
import { startEmbedded } from '@tartarus/server';
import type { BenchArgs } from './main.js';
import { makeBundle, runcRun } from './bare-runc.js';
import { checkStop, median, round } from './stats.js';

const ARGV = ['python3', '-c', 'print(42)'];
const POOL_SIZE = 2;

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 30;
  const template = await new TemplateStore({ dir: defaultTemplateDir() }).ensure('python', {
    onProgress: (p) => console.error(`python template: ${p.phase}: ${p.message}`),
  });
  const bundle = await makeBundle(template.rootfsPath, ARGV, template.defaults.env);
  const dataDir = await mkdtemp(join(tmpdir(), 'tartarus-bench-pool-'));
  const server = await startEmbedded({
    dataDir,
    port: 0,
    templateDir: defaultTemplateDir(),
    pools: [{ template: 'python', runtime: 'container', size: POOL_SIZE }],
  });
  try {
    const client = new Tartarus({ url: server.url, apiKey: server.adminKey });
    const warm: number[] = [];
    const cold: number[] = [];
    const creates: number[] = [];
    const execs: number[] = [];
    for (let i = 0; i < 2 + n; i++) {
      checkStop();
      await poolFull(dataDir);
      const t0 = performance.now();
      let first = 0;
      const sbx = await client.sandboxes.create({ template: 'python' });
      const created = performance.now();
      try {
        const r = await sbx.commands.run(ARGV, { onStdout: () => (first ||= performance.now()) });
        if (r.stdout.trim() !== '42') throw new Error(`python in the sandbox: ${JSON.stringify(r)}`);
        // The floor of any create: the same command again in the sandbox that now runs (outside the timing above).
        const e0 = performance.now();
        let again = 0;
        await sbx.commands.run(ARGV, { onStdout: () => (again ||= performance.now()) });
        if (i >= 2) execs.push(again - e0);
      } finally {
        await sbx.kill();
      }
      const t1 = performance.now();
      const out = await runcRun(bundle);
      const t2 = performance.now();
      if (out.trim() !== '42') throw new Error(`runc run: ${out}`);
      if (i >= 2) {
        creates.push(created - t0);
        warm.push(first - t0);
        cold.push(t2 - t1);
      }
    }
    const w = median(warm);
    const c = median(cold);
    console.error(`create → first output ${round(w, 1)} ms with a warm pool; bare runc run ${round(c, 1)} ms`);
    return {
      iterations: n,
      warmMs: round(w, 1),
      createMs: round(median(creates), 1),
      runcColdMs: round(c, 1),
      warmRatioVsRuncCold: round(w / c),
      target: 0.5,
      execFirstOutputMs: round(median(execs), 1),
      execFloorRatioVsRuncCold: round(median(execs) / c),
    };
  } finally {
    await server.close({ destroySandboxes: true });
    await bundle.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until the pool holds its sandboxes again: running containers (a pid file) nobody claimed. */
async function poolFull(dataDir: string): Promise<void> {
  const root = join(dataDir, 'runtime');
  for (let i = 0; i < 400; i++) {
    const dirs = (await readdir(join(root, 'container')).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
    const claims = await readdir(join(root, 'claims')).catch(() => [] as string[]);
    const claimed = new Set(await Promise.all(claims.map(async (c) => (JSON.parse(await readFile(join(root, 'claims', c), 'utf8')) as { hostId: string }).hostId)));
    const running = await Promise.all(dirs.filter((d) => !claimed.has(d)).map((d) => access(join(root, 'container', d, 'pid')).then(() => 1, () => 0)));
    if (running.reduce<number>((a, b) => a + b, 0) >= POOL_SIZE) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the warm pool did not fill within 10 s');
}
