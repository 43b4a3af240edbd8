/**
 * gVisor memory snapshots. `runsc checkpoint` saves a sandbox's whole kernel (its processes and
 * their memory) to an image and ends the sandbox; `runsc restore` starts one from that image.
 * The files are not in the image, and the writable layer (tt-layer's tmpfs: upper/ and runsc's
 * /tmp) would die with the runtime: a holder (`tt-layer snapshot PID DIR --hold`) keeps the
 * layer's mount namespace while runsc checkpoints, then writes the whole layer as a tar, so that
 * files and memory are of one moment (the checkpoint writes the sentry's cached file data back
 * first). A restore starts a new layer from that tar (`tt-layer run --seed-layer`), with the image
 * bound where runsc, running as the sandbox's mapped root, finds it (`--image`).
 *
 * The agent channel is the runtime's stdio: runsc hands the restored init the restoring process's
 * stdio in place of the saved one's, so frames go on over the new pipes.
 *
 * A memory snapshot (`SandboxHandle.snapshotMemory`) is a tar of three files: the manifest
 * (`MEMORY_MANIFEST`, first: shared/snapshot.ts tells such a seed by it), `checkpoint.img` and
 * `layer.tar`.
 */
import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, InvalidArgumentError } from '@tartarus/core';
import { runCommand } from '../../process/run.js';
import { LAYER_HELPER } from '../../sandbox/native.js';
import type { OciContext, SandboxPaths } from '../shared/context.js';
import type { RestoreFrom } from '../shared/main-process.js';
import { MEMORY_MANIFEST, parentPid, writeCapped } from '../shared/snapshot.js';

const IMAGE_FILE = 'checkpoint.img';
const LAYER_FILE = 'layer.tar';
/** How long runsc may take to write a sandbox's memory, ms. */
const CHECKPOINT_TIMEOUT_MS = 300_000;
/** How long the holder may take to enter the layer's namespaces, and the runtime to end after its checkpoint, ms. */
const HOLD_TIMEOUT_MS = 30_000;

/** What a memory snapshot says of itself. */
export interface MemoryManifest {
  /** The init's id of the main process, which goes on in the restored sandbox. */
  mainId: number;
  /** The init's secret (it keeps the one it had): a host attaching after a restart presents it. */
  agentSecret: string;
}

/** A checkpoint on this host: its image and layer, in `dir` (under the sandbox's state dir). */
export interface Checkpoint extends RestoreFrom {
  dir: string;
}

/** A holder of a sandbox's layer: says when it has entered, writes the layer when told. */
interface Holder {
  /** The runtime ended: write the layer (resolves when it is written). */
  write(): Promise<void>;
  cancel(): void;
}

/** Starts `tt-layer snapshot PID BUNDLE --hold` with its tar going to `out`; resolves once it holds the layer. */
async function holdLayer(runtimePid: number, bundle: string, out: string): Promise<Holder> {
  const file = await open(out, 'w', 0o600);
  const child = spawn(LAYER_HELPER, ['snapshot', String(runtimePid), bundle, '--hold'], { stdio: ['pipe', file.fd, 'pipe', 'pipe'] });
  await file.close();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('error', () => resolve(null)).on('close', resolve));
  const said = new Promise<boolean>((resolve) => {
    child.stdio[3]?.once('data', () => resolve(true));
    void exited.then(() => resolve(false));
    setTimeout(() => resolve(false), HOLD_TIMEOUT_MS).unref();
  });
  if (!(await said)) {
    child.kill('SIGKILL');
    await exited;
    throw new InternalError(`the sandbox's layer could not be held for its checkpoint (tt-layer snapshot: ${stderr.trim() || 'no answer'})`);
  }
  return {
    async write() {
      child.stdin?.end('G');
      const code = await exited;
      if (code !== 0) throw new InternalError(`the sandbox's files could not be written after its checkpoint (tt-layer snapshot exited ${code}: ${stderr.trim()})`);
    },
    cancel() {
      child.kill('SIGKILL');
    },
  };
}

/**
 * Checkpoints the sandbox `id` (its runtime ends: `runtimeEnded` resolves) and keeps its layer of
 * that moment: returns where both are, readable by the sandbox's mapped root (`uidBase`).
 */
export async function checkpointSandbox(ctx: OciContext, paths: SandboxPaths, id: string, runtimeEnded: Promise<unknown>, uidBase: number | undefined): Promise<Checkpoint> {
  if (!ctx.tool.checkpoint) throw new InvalidArgumentError(`${ctx.tool.runtime} sandboxes cannot be checkpointed`);
  const runtimePid = await parentPid(Number((await readFile(paths.pidFile, 'utf8')).trim()));
  const dir = await mkdtemp(join(paths.dir, 'checkpoint-'));
  const checkpoint = { dir, image: join(dir, 'image'), layer: join(dir, LAYER_FILE) };
  let holder: Holder | undefined;
  try {
    await mkdir(checkpoint.image, { mode: 0o700 });
    holder = await holdLayer(runtimePid, paths.bundle, checkpoint.layer);
    await runCommand(ctx.tool.checkpoint(paths.runtimeRoot, { imagePath: checkpoint.image, containerId: ctx.containerId(id) }), { timeoutMs: CHECKPOINT_TIMEOUT_MS });
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([runtimeEnded.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), HOLD_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!ended) throw new InternalError(`sandbox ${id}'s runtime did not end after its checkpoint`);
    await holder.write();
    await ownedBy(checkpoint.image, uidBase);
    return checkpoint;
  } catch (err) {
    holder?.cancel();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The image's directory and file become the mapped root's (the restoring runsc runs as it). */
async function ownedBy(image: string, uidBase: number | undefined): Promise<void> {
  if (uidBase === undefined) return;
  await chown(join(image, IMAGE_FILE), uidBase, uidBase);
  await chown(image, uidBase, uidBase);
}

/** Writes the checkpoint and its manifest to `path` as one tar (≤ `maxBytes`); returns its size. */
export async function writeMemorySnapshot(checkpoint: Checkpoint, manifest: MemoryManifest, path: string, maxBytes: number): Promise<number> {
  await writeFile(join(checkpoint.dir, MEMORY_MANIFEST), JSON.stringify(manifest), { mode: 0o600 });
  const argv = ['tar', '-cf', '-', '-C', checkpoint.dir, MEMORY_MANIFEST, '-C', checkpoint.image, IMAGE_FILE, '-C', checkpoint.dir, LAYER_FILE];
  return writeCapped(argv, path, maxBytes, "the sandbox's memory and files could not be written (tar");
}

/** Unpacks the memory snapshot `seed` into the sandbox's state dir `stateDir`, for a restore. */
export async function unpackMemorySnapshot(seed: string, stateDir: string, uidBase: number | undefined): Promise<{ checkpoint: Checkpoint; manifest: MemoryManifest }> {
  const dir = await mkdtemp(join(stateDir, 'checkpoint-'));
  const checkpoint = { dir, image: join(dir, 'image'), layer: join(dir, LAYER_FILE) };
  try {
    await mkdir(checkpoint.image, { mode: 0o700 });
    const r = await runCommand(['tar', '-xf', seed, '-C', dir, MEMORY_MANIFEST, IMAGE_FILE, LAYER_FILE], { timeoutMs: CHECKPOINT_TIMEOUT_MS, allowNonZero: true });
    if (r.exitCode !== 0) throw new InvalidArgumentError(`the snapshot is not a whole gVisor memory snapshot: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    await rename(join(dir, IMAGE_FILE), join(checkpoint.image, IMAGE_FILE));
    await ownedBy(checkpoint.image, uidBase);
    const manifest = JSON.parse(await readFile(join(dir, MEMORY_MANIFEST), 'utf8')) as MemoryManifest;
    if (!Number.isInteger(manifest.mainId) || typeof manifest.agentSecret !== 'string') throw new InvalidArgumentError("the snapshot's manifest is damaged");
    return { checkpoint, manifest };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
