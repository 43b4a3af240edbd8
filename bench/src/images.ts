/**
 * `npm run bench -- images`: pulling an image. A 100 MiB image (busybox plus a layer of
 * incompressible bytes, built here with umoci) is served by a registry on loopback; Tartarus's
 * `ImageStore.pull` into an empty store (resolve, fetch, unpack, record) against the same work by
 * hand — `skopeo copy` into an OCI layout, then `umoci raw unpack` — interleaved, each round into
 * fresh directories. Then a cached re-pull: `pull` of a reference the store already holds (it
 * still asks the registry what the tag names now), and `ensure` (Docker's if-not-present: no
 * registry call).
 *
 *   npm run bench -- images [--iterations N]     (default 8 pull rounds after 1 warm-up; 30 re-pulls)
 *
 * Figures: `pullMs`, `bareMs` (medians), `pullRatio` = pull ÷ bare (target ≤ 1.1),
 * `cachedRepullMs` (median, target ≤ 50), `ensureMs` (median).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, runCommand } from '@tartarus/runtime';
import { buildTestImage, pushTestImage, startRegistry } from '@tartarus/runtime/testing';
import type { BenchArgs } from './main.js';
import { checkStop, median, round } from './stats.js';

const PAD_MIB = 100;

/** Runs the benchmark; see the file header. */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.iterations ?? 8;
  const dir = await mkdtemp(join(tmpdir(), 'tartarus-bench-images-'));
  const registry = await startRegistry();
  try {
    console.error(`building and pushing a ${PAD_MIB} MiB image…`);
    await buildTestImage(join(dir, 'layout'), 'big', { busybox: true, layers: [], config: { cmd: ['sh'] }, padMiB: PAD_MIB });
    const { ref } = await pushTestImage(join(dir, 'layout'), 'big', { ...registry, auth: undefined } as typeof registry, 'bench/big:1');
    const pulls: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 1 + n; i++) {
      checkStop();
      const ours = async (): Promise<number> => timed(() => new ImageStore({ dir: join(dir, `store-${i}`) }).pull(ref), join(dir, `store-${i}`));
      const theirs = async (): Promise<number> => timed(() => byHand(ref, join(dir, `hand-${i}`)), join(dir, `hand-${i}`));
      // Alternating which goes first, so that neither always meets the other's disk writeback.
      let a: number;
      let b: number;
      if (i % 2 === 0) {
        a = await ours();
        b = await theirs();
      } else {
        b = await theirs();
        a = await ours();
      }
      if (i === 0) continue;
      pulls.push(a);
      bare.push(b);
      console.error(`round ${i}: pull ${round(a)} ms, by hand ${round(b)} ms`);
    }
    const store = new ImageStore({ dir: join(dir, 'cached') });
    await store.pull(ref);
    const repulls: number[] = [];
    const ensures: number[] = [];
    for (let i = 0; i < 30; i++) {
      checkStop();
      let t = performance.now();
      await store.pull(ref);
      repulls.push(performance.now() - t);
      t = performance.now();
      await store.ensure(ref);
      ensures.push(performance.now() - t);
    }
    const pullMs = median(pulls);
    const bareMs = median(bare);
    return {
      imageMiB: PAD_MIB,
      pullMs: round(pullMs),
      bareMs: round(bareMs),
      pullRatio: round(pullMs / bareMs, 3),
      cachedRepullMs: round(median(repulls)),
      ensureMs: round(median(ensures), 2),
    };
  } finally {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Times `fn` from a clean page cache state (dirty pages written out first), then removes `dir`. */
async function timed(fn: () => Promise<unknown>, dir: string): Promise<number> {
  await runCommand(['sync']);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

/** What a person does without Tartarus: skopeo copy into an OCI layout, then umoci unpack. */
async function byHand(ref: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await runCommand(['skopeo', '--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}/layout:image`], {
    timeoutMs: 600_000,
  });
  await runCommand(['umoci', 'raw', 'unpack', '--image', `${dir}/layout:image`, `${dir}/rootfs`], { timeoutMs: 600_000 });
}
