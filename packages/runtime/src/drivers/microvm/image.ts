/**
 * Disk images of a microVM. A template becomes one ext4 image, built once per template digest
 * with `mkfs.ext4 -d` (no mount needed), cached and attached read-only to every VM of that
 * template. Each sandbox gets its own sparse ext4 writable layer whose size is its disk limit;
 * the guest mounts an overlay of both. Neither needs a journal: the template image is never
 * written and the writable layer dies with its VM.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateInfo } from '../../templates/types.js';
import { runCommand } from '../../process/run.js';

const building = new Map<string, Promise<string>>();
const MiB = 1024 * 1024;

/** Size of a template image: the root plus room for ext4's metadata, in MiB. */
export function templateImageMiB(sizeBytes: number): number {
  return Math.max(32, Math.ceil((sizeBytes * 1.3) / MiB) + 32);
}

/** Path of the cached image of `template` under `imageDir`; builds it first if missing. */
export function ensureTemplateImage(
  template: TemplateInfo,
  imageDir: string,
  signal?: AbortSignal,
): Promise<string> {
  const path = join(
    imageDir,
    `${template.name.replace(/[^a-zA-Z0-9_.-]/g, '_')}-${template.digest.slice(0, 24)}.ext4`,
  );
  let p = building.get(path);
  if (!p) {
    p = buildIfMissing(template, path, signal).finally(() => building.delete(path));
    building.set(path, p);
  }
  return p;
}

async function buildIfMissing(
  template: TemplateInfo,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  await mkdir(join(path, '..'), { recursive: true });
  // Built under a unique name and renamed: a concurrent builder or a crash never leaves a half image in place.
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await runCommand(
      [
        'mkfs.ext4',
        '-q',
        '-F',
        '-O',
        '^has_journal',
        '-i',
        '8192',
        '-L',
        'tt-root',
        '-d',
        template.rootfsPath,
        tmp,
        `${templateImageMiB(template.sizeBytes)}M`,
      ],
      { timeoutMs: 600_000, signal },
    );
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return path;
}

/** Creates the sparse writable layer of one sandbox: an empty ext4 of `diskMiB`. */
export async function createWritableLayer(
  path: string,
  diskMiB: number,
  signal?: AbortSignal,
): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(Math.max(8, diskMiB) * MiB);
  } finally {
    await fh.close();
  }
  await runCommand(
    [
      'mkfs.ext4',
      '-q',
      '-F',
      '-O',
      '^has_journal',
      '-E',
      'lazy_itable_init=1,nodiscard',
      '-m',
      '0',
      path,
    ],
    {
      timeoutMs: 60_000,
      signal,
    },
  );
}
