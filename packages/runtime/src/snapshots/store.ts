/**
 * Filesystem snapshots on this host, content-addressed next to the templates
 * (`<templateDir>/snapshots/sha256-<hex>.tar`): a sandbox's writable layer as a tar
 * (`SandboxHandle.snapshotFiles`), kept once however many snapshots have the same files, and
 * given to a new sandbox as its `seed`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { SandboxHandle } from '../driver.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** See the file header. */
export class SnapshotStore {
  constructor(readonly dir: string) {}

  /** Keeps `handle`'s files; returns their digest and size. InvalidArgumentError for a driver without snapshots. */
  async take(handle: SandboxHandle, runtime: string): Promise<{ digest: string; sizeBytes: number }> {
    if (!handle.snapshotFiles) {
      throw new InvalidArgumentError(`${runtime} sandboxes have no snapshots yet: use the container or gvisor runtime`);
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const partial = join(this.dir, `.partial-${randomUUID()}`);
    try {
      const { sizeBytes } = await handle.snapshotFiles(partial);
      const digest = `sha256:${await sha256(partial)}`;
      // The same files again: the kept copy serves both.
      await rename(partial, this.file(digest));
      return { digest, sizeBytes };
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** The tar of `digest` on this host; NotFoundError when it is not here. */
  async path(digest: string): Promise<string> {
    const file = this.file(digest);
    await access(file).catch(() => {
      throw new NotFoundError(`snapshot ${digest} is not on this node`);
    });
    return file;
  }

  /** Removes `digest`'s files. Idempotent. */
  async remove(digest: string): Promise<void> {
    await rm(this.file(digest), { force: true });
  }

  private file(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidArgumentError(`a snapshot digest is sha256:<64 hex digits>, not ${JSON.stringify(digest)}`);
    return join(this.dir, `${digest.replace(':', '-')}.tar`);
  }
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
