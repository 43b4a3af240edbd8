/**
 * Filesystem snapshots of microVMs: the VM's writable disk (`rw.ext4`: the overlay's upper
 * layer, whiteouts included) as a sparse tar. The guest writes its dirty pages back first
 * (`sync`), and the VM is stopped while the image is read, so the copy is one moment's disk. A new
 * microVM seeded from it (`SandboxOptions.seed`) boots on that image instead of a fresh one.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { runCommand } from '../../process/run.js';
import { writeCapped } from '../shared/snapshot.js';
import { qmpCommand } from './qmp.js';
import type { VmPaths } from './paths.js';

/** Writes the stopped-for-the-moment VM's disk to `path` (≤ `maxBytes`); the VM runs again after. */
export async function snapshotDisk(paths: VmPaths, path: string, maxBytes: number, wasRunning: boolean): Promise<number> {
  if (wasRunning) await qmpCommand(paths.qmpSocket, 'stop');
  try {
    const image = paths.writableImage;
    return await writeCapped(['tar', '--sparse', '-cf', '-', '-C', dirname(image), basename(image)], path, maxBytes, "the VM's disk could not be read (tar");
  } finally {
    if (wasRunning) await qmpCommand(paths.qmpSocket, 'cont');
  }
}

/** Puts the disk of the snapshot `seed` where the new VM's writable image goes (`paths.writableImage`). */
export async function seedDisk(seed: string, paths: VmPaths, signal?: AbortSignal): Promise<void> {
  const image = paths.writableImage;
  const r = await runCommand(['tar', '--sparse', '-xf', seed, '-C', dirname(image), basename(image)], { timeoutMs: 300_000, signal, allowNonZero: true });
  if (r.exitCode !== 0 || !(await stat(image).catch(() => undefined))?.isFile()) {
    throw new InvalidArgumentError(`snapshot ${basename(seed)} holds no microVM disk (it was taken of another runtime's sandbox): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
}
