/**
 * Garbage collection of the image store under a size budget: least recently used images first,
 * never one in use. "In use" is read off the machine, not this process: every sandbox's owner
 * record (`/run/tartarus/owners`, gc/owners.ts) names its state dir, whose `spec.json` names the
 * root it runs on — so a collection by one Runtime never removes the root of another's sandbox.
 * An image used within `minIdleMs` is kept too (a sandbox being created has ensured its image
 * but may not have recorded its owner yet). Blobs no remaining image needs go as well, unless a
 * pull is in progress (it may be reusing them); microVM disk images of a removed image go with it.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ownersDir } from '../gc/owners.js';
import { acquireLock } from '../templates/lock.js';
import { hex, imagePaths, lastUsedMs, readRecords, removeStaleTmp, type ImageRecord } from './layout.js';

/** Options of one collection. */
export interface CollectOptions {
  /** Keep the store (roots and blobs) at or under this many bytes if unused images allow. */
  budgetBytes: number;
  /** Never remove an image used more recently than this. Default 10 min. */
  minIdleMs?: number;
  /** Directory of microVM disk images (`<name>-<digest prefix>.ext4`), removed with their image. */
  vmImageDir?: string | undefined;
}

/** What a collection did. */
export interface Collection {
  /** Digests of the images removed. */
  removed: string[];
  freedBytes: number;
  /** Bytes the store holds afterwards (roots and blobs). */
  keptBytes: number;
}

/** Hex digests of the image roots any sandbox on this machine runs on. */
export async function rootsInUse(dir: string): Promise<Set<string>> {
  const roots = imagePaths(dir).roots;
  const inUse = new Set<string>();
  const records = await readdir(ownersDir()).catch(() => [] as string[]);
  await Promise.all(
    records.filter((n) => n.endsWith('.json')).map(async (n) => {
      try {
        const owner = JSON.parse(await readFile(join(ownersDir(), n), 'utf8')) as { dir: string };
        // OCI drivers keep `{ spec: { template } }`, the microVM driver the spec itself.
        type Spec = { template?: { rootfsPath?: string } };
        const stored = JSON.parse(await readFile(join(owner.dir, 'spec.json'), 'utf8')) as Spec & { spec?: Spec };
        const rootfs = stored.spec?.template?.rootfsPath ?? stored.template?.rootfsPath;
        if (rootfs && dirname(dirname(rootfs)) === roots) inUse.add(basename(dirname(rootfs)));
      } catch {
        // A record being written or a sandbox being removed: nothing of it to protect.
      }
    }),
  );
  return inUse;
}

async function blobBytes(blobDir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const names = await readdir(blobDir).catch(() => [] as string[]);
  await Promise.all(names.map(async (n) => sizes.set(n, await stat(join(blobDir, n)).then((s) => s.size, () => 0))));
  return sizes;
}

/** Removes unused images, least recently used first, until the store fits `budgetBytes`. */
export async function collectImages(dir: string, o: CollectOptions): Promise<Collection> {
  const paths = imagePaths(dir);
  // A node that never pulled an image has no store yet: its lock dir is made, and nothing is found.
  await mkdir(paths.locks, { recursive: true });
  const release = await acquireLock(join(paths.locks, 'gc.lock'));
  try {
    await removeStaleTmp(dir);
    const [records, inUse, blobs] = await Promise.all([readRecords(dir), rootsInUse(dir), blobBytes(join(paths.blobs, 'sha256'))]);
    const before = records.reduce((s, r) => s + r.sizeBytes, 0) + [...blobs.values()].reduce((s, n) => s + n, 0);
    // How many kept images need each blob: an image's removal frees the blobs only it needed.
    const users = new Map<string, number>();
    for (const r of records) for (const b of r.blobs) users.set(hex(b), (users.get(hex(b)) ?? 0) + 1);
    const orphanBytes = [...blobs].filter(([b]) => !users.has(b)).reduce((s, [, n]) => s + n, 0);
    let total = before - orphanBytes;
    const used = await Promise.all(records.map(async (r) => ({ r, at: await lastUsedMs(dir, r) })));
    used.sort((a, b) => a.at - b.at);
    const minIdle = o.minIdleMs ?? 600_000;
    const removed: ImageRecord[] = [];
    for (const { r, at } of used) {
      if (total <= o.budgetBytes) break;
      if (inUse.has(hex(r.digest)) || Date.now() - at < minIdle) continue;
      await removeRoot(dir, r, o.vmImageDir);
      removed.push(r);
      total -= r.sizeBytes;
      for (const b of r.blobs) {
        const left = (users.get(hex(b)) ?? 1) - 1;
        users.set(hex(b), left);
        if (left === 0) total -= blobs.get(hex(b)) ?? 0;
      }
    }
    const freedBlobs = await removeUnneededBlobs(dir, new Set([...users].filter(([, n]) => n > 0).map(([b]) => b)), blobs);
    const after = before - removed.reduce((s, r) => s + r.sizeBytes, 0) - freedBlobs;
    return { removed: removed.map((r) => r.digest), freedBytes: before - after, keptBytes: after };
  } finally {
    await release();
  }
}

async function removeRoot(dir: string, r: ImageRecord, vmImageDir: string | undefined): Promise<void> {
  const paths = imagePaths(dir);
  // Renamed away first: from that instant the image is simply not there (a reader re-pulls it).
  const away = join(paths.tmp, `gc-${hex(r.digest)}-${Date.now()}`);
  await rename(paths.root(r.digest), away);
  await rm(away, { recursive: true, force: true });
  if (vmImageDir) {
    const names = await readdir(vmImageDir).catch(() => [] as string[]);
    const tag = `-${hex(r.digest).slice(0, 24)}.ext4`;
    await Promise.all(names.filter((n) => n.endsWith(tag)).map((n) => rm(join(vmImageDir, n), { force: true })));
  }
}

/** Removes blobs not in `needed`; skipped while a pull works (it may be reusing them). Returns bytes freed. */
async function removeUnneededBlobs(dir: string, needed: Set<string>, blobs: Map<string, number>): Promise<number> {
  const live = await readdir(imagePaths(dir).tmp).catch(() => [] as string[]);
  if (live.some((n) => /^\d+-/.test(n))) return 0;
  let freed = 0;
  for (const [name, size] of blobs) {
    if (needed.has(name)) continue;
    await rm(join(imagePaths(dir).blobs, 'sha256', name), { force: true });
    freed += size;
  }
  return freed;
}
