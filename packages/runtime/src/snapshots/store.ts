/**
 * Filesystem snapshots on this host, next to the templates (`<templateDir>/snapshots/`): a
 * sandbox's writable layer as a tar (`SandboxHandle.snapshotFiles`), given to a new sandbox as its
 * `seed`. Content-addressed: the files are kept under their digest (`sha256-<hex>.tar`), and each
 * snapshot is a hard link to them under its id (`by-id/<id>.tar`), so a snapshot's files stay
 * whatever happens to another snapshot of the same files, and go with the last link.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@tartarus/core';
import type { SandboxHandle } from '../driver.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ID = /^[a-z0-9][a-z0-9_-]{0,127}$/;
/** A partial file older than this is a crashed take's, removed by the next take. */
const STALE_PARTIAL_MS = 3_600_000;

/** See the file header. */
export class SnapshotStore {
  constructor(readonly dir: string) {}

  /**
   * Keeps `handle`'s files as snapshot `id` (at most `maxBytes`); returns their digest and size.
   * InvalidArgumentError for a driver without snapshots.
   */
  async take(handle: SandboxHandle, runtime: string, id: string, maxBytes?: number, memory = false): Promise<{ digest: string; sizeBytes: number }> {
    if (!handle.snapshotFiles) {
      throw new InvalidArgumentError(`${runtime} sandboxes have no snapshots yet: use the container or gvisor runtime`);
    }
    if (memory && !handle.snapshotMemory) {
      throw new ConflictError(`${runtime} sandboxes cannot have their memory saved here (only microVMs and gVisor sandboxes can): take a files snapshot (memory: false)`);
    }
    const byId = this.byId(id);
    await mkdir(join(this.dir, 'by-id'), { recursive: true, mode: 0o700 });
    await this.removeStalePartials();
    const partial = join(this.dir, `.partial-${randomUUID()}`);
    try {
      const options = maxBytes === undefined ? {} : { maxBytes };
      const { sizeBytes } = memory && handle.snapshotMemory ? await handle.snapshotMemory(partial, options) : await handle.snapshotFiles(partial, options);
      const digest = `sha256:${await sha256(partial)}`;
      // The snapshot's own link first: its files are its own from here, whatever a delete does.
      await link(partial, byId);
      await rename(partial, this.content(digest));
      return { digest, sizeBytes };
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** The tar of snapshot `id` on this host; NotFoundError when it is not here. */
  async path(id: string): Promise<string> {
    const file = this.byId(id);
    await stat(file).catch(() => {
      throw new NotFoundError(`snapshot ${id}'s files are not on this node`);
    });
    return file;
  }

  /** Removes snapshot `id` (of files `digest`); the files go when no other snapshot links them. Idempotent. */
  async remove(id: string, digest: string): Promise<void> {
    await rm(this.byId(id), { force: true });
    const content = this.content(digest);
    const s = await stat(content).catch(() => undefined);
    if (s?.nlink === 1) await unlink(content).catch(() => undefined);
  }

  private async removeStalePartials(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.startsWith('.partial-')) continue;
      const s = await stat(join(this.dir, name)).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > STALE_PARTIAL_MS) await rm(join(this.dir, name), { force: true });
    }
  }

  private byId(id: string): string {
    if (!ID.test(id)) throw new InvalidArgumentError(`a snapshot id is lowercase letters, digits, _ and -, not ${JSON.stringify(id)}`);
    return join(this.dir, 'by-id', `${id}.tar`);
  }

  private content(digest: string): string {
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
