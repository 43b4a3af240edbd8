/**
 * On-disk layout of the image store (under the template cache, `<templateDir>/images`):
 *
 *   blobs/sha256/<hex>          layers, configs and manifests, shared by every image
 *   roots/<hex>/rootfs/         the unpacked root of manifest sha256:<hex>, read-only, world-readable
 *   roots/<hex>/image.json      its ImageRecord; its presence means "ready"
 *   roots/<hex>/used            touched at every use: its mtime orders garbage collection
 *   refs/<hash of ref>.json     the digest a tag last resolved to (`if-not-present` pulls)
 *   tmp/<pid>-<random>/         a pull or unpack in progress (removed when its process is gone)
 *   locks/<hex>.lock            held while a process fetches sha256:<hex>
 *
 * A root is unpacked under tmp/ and renamed into roots/ with its image.json: a crash never leaves
 * something that looks ready.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageConfig } from './config.js';
import { isAlive } from '../templates/lock.js';

/** What the store keeps about one unpacked image. */
export interface ImageRecord {
  /** The reference it was first pulled as (normalised). */
  ref: string;
  /** Manifest digest, `sha256:…`, as the registry serves it (or as built). */
  digest: string;
  config: ImageConfig;
  /** Digests of the blobs the image is made of (config and layers): kept while the image is. */
  blobs: string[];
  sizeBytes: number;
  pulledAtMs: number;
}

/** Paths of the image store at `dir`. */
export function imagePaths(dir: string) {
  return {
    blobs: join(dir, 'blobs'),
    roots: join(dir, 'roots'),
    refs: join(dir, 'refs'),
    tmp: join(dir, 'tmp'),
    locks: join(dir, 'locks'),
    root: (digest: string) => join(dir, 'roots', hex(digest)),
    rootfs: (digest: string) => join(dir, 'roots', hex(digest), 'rootfs'),
    record: (digest: string) => join(dir, 'roots', hex(digest), 'image.json'),
    used: (digest: string) => join(dir, 'roots', hex(digest), 'used'),
    lock: (digest: string) => join(dir, 'locks', `${hex(digest)}.lock`),
    ref: (canonical: string) => join(dir, 'refs', `${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}.json`),
  };
}

/** The hex part of `sha256:<hex>`. */
export function hex(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(7) : digest;
}

/** The record of an unpacked image, or undefined when it is not (fully) there. */
export async function readRecord(dir: string, digest: string): Promise<ImageRecord | undefined> {
  try {
    return JSON.parse(await readFile(imagePaths(dir).record(digest), 'utf8')) as ImageRecord;
  } catch {
    return undefined;
  }
}

/** Every ready image. */
export async function readRecords(dir: string): Promise<ImageRecord[]> {
  const names = await readdir(imagePaths(dir).roots).catch(() => [] as string[]);
  const records = await Promise.all(names.map((n) => readRecord(dir, `sha256:${n}`)));
  return records.filter((r): r is ImageRecord => r !== undefined);
}

/** Marks an image used now (garbage collection removes the least recently used first). */
export async function touchUsed(dir: string, digest: string): Promise<void> {
  const p = imagePaths(dir).used(digest);
  const now = new Date();
  await utimes(p, now, now).catch(() => writeFile(p, '').catch(() => undefined));
}

/** When an image was last used (ms), its pull time when never. */
export async function lastUsedMs(dir: string, r: ImageRecord): Promise<number> {
  return stat(imagePaths(dir).used(r.digest)).then((s) => s.mtimeMs, () => r.pulledAtMs);
}

/** The digest `canonical` (a tag reference) last resolved to, if known. */
export async function readRef(dir: string, canonical: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(await readFile(imagePaths(dir).ref(canonical), 'utf8')) as { ref: string; digest: string };
    return v.ref === canonical ? v.digest : undefined;
  } catch {
    return undefined;
  }
}

/** Records that `canonical` resolves to `digest` (atomically). */
export async function writeRef(dir: string, canonical: string, digest: string): Promise<void> {
  const p = imagePaths(dir).ref(canonical);
  await mkdir(imagePaths(dir).refs, { recursive: true });
  const tmp = `${p}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify({ ref: canonical, digest, atMs: Date.now() }));
  await rename(tmp, p);
}

/** Removes what crashed pulls left under tmp/ (entries named `<pid>-…` whose process is gone). */
export async function removeStaleTmp(dir: string): Promise<void> {
  const tmp = imagePaths(dir).tmp;
  const names = await readdir(tmp).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (n) => {
      const pid = Number.parseInt(n, 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return;
      await rm(join(tmp, n), { recursive: true, force: true });
    }),
  );
}
