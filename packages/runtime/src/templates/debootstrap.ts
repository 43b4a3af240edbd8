/**
 * The `debian` and `python` templates: `debootstrap --variant=minbase` of Debian 12 with extra
 * packages in the same pass (faster than apt-get afterwards), then slimmed and given the shared
 * skeleton. Downloaded .deb files are kept in the cache dir, so `python` after `debian` (or a
 * rebuild) downloads only what is new.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, RuntimeUnavailableError } from '@tartarus/core';
import { runCommand } from '../process/run.js';
import type { BuildContext, BuildResult } from './builder.js';
import { debianDigest, slimDebianRoot } from './debian-root.js';
import { DebootstrapProgress, LineSplitter } from './progress.js';
import { addShadowEntries, addUsers, writeSkeleton } from './skeleton.js';

/** Version of this builder's output; a template built by another version is rebuilt. */
export const DEBOOTSTRAP_BUILDER_VERSION = 1;
/** The Debian release every debootstrap template is built from. */
export const DEBIAN_SUITE = 'bookworm';

const BUILD_TIMEOUT_MS = 30 * 60_000;

/** Inputs of `debootstrapArgv`. */
export interface DebootstrapArgs {
  suite: string;
  rootfs: string;
  mirror: string;
  /** Extra packages installed in the same pass. */
  include: string[];
  /** Directory where debootstrap keeps downloaded .deb files between runs. */
  debCacheDir: string;
}

/**
 * The debootstrap command line. It runs in a private mount namespace (`unshare --mount`): the
 * /proc and /sys it mounts inside the target vanish with it even if it is killed mid-build.
 */
export function debootstrapArgv(a: DebootstrapArgs): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'debootstrap',
    '--variant=minbase',
    '--components=main',
    ...(a.include.length > 0 ? [`--include=${a.include.join(',')}`] : []),
    `--cache-dir=${a.debCacheDir}`,
    a.suite,
    a.rootfs,
    a.mirror,
  ];
}

/** Builds a Debian root with `include` into `ctx.rootfs`. `expectedPackages` only scales progress. */
export async function buildDebootstrap(
  ctx: BuildContext,
  include: string[],
  expectedPackages = 90,
): Promise<BuildResult> {
  await requireDebootstrap();
  const debCacheDir = join(ctx.cacheDir, 'debs');
  await mkdir(debCacheDir, { recursive: true });
  const argv = debootstrapArgv({
    suite: DEBIAN_SUITE,
    rootfs: ctx.rootfs,
    mirror: ctx.debianMirror,
    include,
    debCacheDir,
  });
  ctx.report('resolve', `debootstrap ${DEBIAN_SUITE} from ${ctx.debianMirror}`, 0);
  const progress = new DebootstrapProgress(expectedPackages);
  const lines = new LineSplitter();
  const onLine = (line: string): void => {
    // Warnings and other lines keep the phase reached so far; every line goes out as `message`.
    const step = progress.next(line) ?? progress.current();
    // debootstrap is most of the build; the last 5 % is slimming and measuring.
    ctx.report(step.phase, line, step.fraction * 0.95);
  };

  try {
    await runCommand(argv, {
      signal: ctx.signal,
      timeoutMs: BUILD_TIMEOUT_MS,
      maxOutputBytes: 8 << 20,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
      onOutput: (_stream, data) => lines.push(data.toString('utf8')).forEach(onLine),
    });
  } catch (err) {
    ctx.signal.throwIfAborted(); // a cancel is reported as the caller's abort, not a tool failure
    const why = err instanceof Error ? err.message : String(err);
    // Most failures are the network or the mirror: worth retrying unchanged.
    throw new InternalError(
      `building the ${ctx.name} template: debootstrap from ${ctx.debianMirror} failed: ${why}`,
      {
        cause: err,
        retryable: true,
        context: { template: ctx.name, mirror: ctx.debianMirror },
      },
    );
  }
  lines.flush().forEach(onLine);
  ctx.report('finalize', 'removing docs and caches, adding the sandbox user', 0.96);
  await slimDebianRoot(ctx.rootfs);
  await writeSkeleton(ctx.rootfs);
  await addUsers(ctx.rootfs, '/bin/bash');
  await addShadowEntries(ctx.rootfs);
  const digest = await debianDigest(
    ctx.rootfs,
    `debootstrap-builder-${DEBOOTSTRAP_BUILDER_VERSION} ${DEBIAN_SUITE}`,
  );
  return { digest };
}

async function requireDebootstrap(): Promise<void> {
  const found = await runCommand(['debootstrap', '--version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
  if (!found) {
    throw new RuntimeUnavailableError(
      'debootstrap is not installed: apt-get install debootstrap (needed for the debian and python templates)',
    );
  }
}
