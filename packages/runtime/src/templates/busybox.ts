/**
 * The `busybox` template: the host's static busybox plus applet symlinks and the shared
 * skeleton. No network, no package manager: it builds in milliseconds.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readFile, symlink } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { InvalidArgumentError, RuntimeUnavailableError } from '@tartarus/core';
import { runCommand } from '../process/run.js';
import type { BuildContext, BuildResult } from './builder.js';
import { addUsers, writeSkeleton } from './skeleton.js';

/** Version of this builder's output; part of the digest. */
export const BUSYBOX_BUILDER_VERSION = 1;

/** Builds the busybox root into `ctx.rootfs`. */
export async function buildBusybox(ctx: BuildContext): Promise<BuildResult> {
  ctx.report('prepare', `checking ${ctx.busyboxPath}`, 0);
  await assertStatic(ctx.busyboxPath);
  const binary = await readFile(ctx.busyboxPath);
  ctx.signal.throwIfAborted();
  await writeSkeleton(ctx.rootfs);
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin']) {
    await mkdir(join(ctx.rootfs, dir), { recursive: true });
  }
  await copyFile(ctx.busyboxPath, join(ctx.rootfs, 'bin/busybox'));
  await chmod(join(ctx.rootfs, 'bin/busybox'), 0o755);
  ctx.report('install', 'linking applets', 0.3);
  const applets = await appletPaths(ctx.busyboxPath, ctx.signal);
  for (const rel of applets) {
    ctx.signal.throwIfAborted();
    const dest = join(ctx.rootfs, rel);
    await mkdir(dirname(dest), { recursive: true });
    await symlink('/bin/busybox', dest).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  ctx.report('finalize', 'writing users', 0.9);
  await addUsers(ctx.rootfs, '/bin/sh');
  const digest = createHash('sha256')
    .update(`busybox-builder-${BUSYBOX_BUILDER_VERSION}\n`)
    .update(binary)
    .digest('hex');
  return { digest };
}

/** Applet install paths relative to the root (`usr/bin/awk`...), from `busybox --list-full`. */
async function appletPaths(busybox: string, signal: AbortSignal): Promise<string[]> {
  const { stdout } = await runCommand([busybox, '--list-full'], { signal, timeoutMs: 10_000 });
  return stdout
    .split('\n')
    .map((l) => normalize(l.trim()))
    .filter((l) => l !== '.' && !l.startsWith('/') && !l.startsWith('..') && l !== 'bin/busybox');
}

/**
 * Throws unless `path` is a static ELF executable (no PT_INTERP program header): a dynamic
 * busybox would need the host's libc inside the template.
 */
export async function assertStatic(path: string): Promise<void> {
  const fh = await open(path, 'r').catch((cause: unknown) => {
    throw new RuntimeUnavailableError(`busybox not found at ${path}: install busybox-static`, {
      cause,
    });
  });
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) {
      throw new InvalidArgumentError(`${path} is not a 64-bit little-endian ELF executable`);
    }
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    await fh.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) {
        throw new RuntimeUnavailableError(
          `${path} is dynamically linked; the busybox template needs a static busybox (install busybox-static)`,
        );
      }
    }
  } finally {
    await fh.close();
  }
}
