/**
 * Filesystem snapshots of microVMs: the VM's writable disk (`rw.ext4`: the overlay's upper
 * layer, whiteouts included) as a sparse tar. The guest writes its dirty pages back first
 * (`sync`), and the VM is stopped while the image is read, so the copy is one moment's disk. A new
 * microVM seeded from it (`SandboxOptions.seed`) boots on that image instead of a fresh one.
 *
 * A memory snapshot is the same tar with the VM's saved state (`memory.state`, hibernate.ts) and
 * what a restore needs to match it (`vm.json`): the disk and the memory are of one moment (the VM
 * stopped for both). A VM seeded from it does not boot: it is started from that state.
 */
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError } from '@tartarus/core';
import { runCommand } from '../../process/run.js';
import { writeCapped } from '../shared/snapshot.js';
import { saveVm } from './hibernate.js';
import { qmpCommand } from './qmp.js';
import type { VmPaths } from './paths.js';

/** What a memory snapshot's VM was (`vm.json`): a restore starts a VM of the same shape. */
export interface MemoryImage {
  /** Guest RAM, MiB, and vCPUs: they must match the saved state. */
  memoryMiB: number;
  cpus: number;
  /** The guest agent's id of the main process, which goes on in the restored VM. */
  mainId: number;
}

/**
 * Makes a files snapshot's disk the size this sandbox asked for (its `diskMiB`): grown, or shrunk
 * when its files fit (else the sandbox would get the source's disk, whatever it asked for). A
 * memory snapshot's disk keeps its size: its guest knows it.
 */
async function resizeDisk(image: string, diskMiB: number, signal?: AbortSignal): Promise<void> {
  const want = Math.max(8, diskMiB) * 2 ** 20;
  const have = (await stat(image)).size;
  if (have === want) return;
  const run = (argv: string[]) => runCommand(argv, { timeoutMs: 120_000, signal, allowNonZero: true });
  // e2fsck first (resize2fs asks for a checked file system); 1 means it fixed something, still fine.
  const check = await run(['e2fsck', '-f', '-y', image]);
  if (check.exitCode !== 0 && check.exitCode !== 1) throw new InvalidArgumentError(`the snapshot's disk is damaged (e2fsck: ${check.stdout.trim().split('\n').pop() ?? ''})`);
  if (want > have) await truncate(image, want);
  const r = await run(['resize2fs', image, `${want / 1024}K`]);
  if (r.exitCode !== 0) {
    throw new InvalidArgumentError(`the snapshot's files do not fit in limits.diskMiB (${diskMiB} MiB): ask for more disk (${r.stderr.trim().split('\n').pop() ?? ''})`);
  }
  if (want < have) await truncate(image, want);
}

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

/**
 * Writes the VM's memory and disk (one moment of both) to `path` as a sparse tar (≤ `maxBytes`).
 * The VM is stopped meanwhile and runs again after.
 */
export async function snapshotMemory(paths: VmPaths, id: string, uid: number, image: MemoryImage, path: string, maxBytes: number): Promise<number> {
  const dir = await mkdtemp(join(paths.dir, 'snap-'));
  try {
    await writeFile(join(dir, 'vm.json'), JSON.stringify(image), { mode: 0o600 });
    await saveVm(paths.qmpSocket, id, uid, join(dir, basename(paths.savedState)));
    const disk = paths.writableImage;
    return await writeCapped(['tar', '--sparse', '-cf', '-', '-C', dir, 'vm.json', basename(paths.savedState), '-C', dirname(disk), basename(disk)], path, maxBytes, "the VM's memory and disk could not be written (tar");
  } finally {
    // Running again (a completed migration leaves QEMU stopped, its disks handed over: cont takes them back).
    await qmpCommand(paths.qmpSocket, 'cont').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Puts the disk of the snapshot `seed` where the new VM's writable image goes (`paths.writableImage`),
 * and a memory snapshot's state where a hibernated VM's goes (`paths.savedState`): its description then.
 */
export async function seedDisk(seed: string, paths: VmPaths, diskMiB: number, signal?: AbortSignal): Promise<MemoryImage | undefined> {
  const image = paths.writableImage;
  // Only these names (a snapshot of another runtime holds a sandbox's own paths).
  const r = await runCommand(['tar', '--sparse', '-xf', seed, '-C', dirname(image), basename(image)], { timeoutMs: 300_000, signal, allowNonZero: true });
  if (r.exitCode !== 0 || !(await stat(image).catch(() => undefined))?.isFile()) {
    throw new InvalidArgumentError(`snapshot ${basename(seed)} holds no microVM disk (it was taken of another runtime's sandbox): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  const memory = await runCommand(['tar', '--sparse', '-xf', seed, '-C', paths.dir, 'vm.json', basename(paths.savedState)], { timeoutMs: 300_000, signal, allowNonZero: true });
  const vm = memory.exitCode === 0 ? await readFile(join(paths.dir, 'vm.json'), 'utf8').catch(() => undefined) : undefined;
  if (vm === undefined) {
    await rm(paths.savedState, { force: true });
    await resizeDisk(image, diskMiB, signal);
    return undefined;
  }
  await rm(join(paths.dir, 'vm.json'), { force: true });
  return JSON.parse(vm) as MemoryImage;
}
