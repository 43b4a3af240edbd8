/**
 * A cross-process lock file: `open(O_EXCL)` holding the owner's pid. A lock whose owner is no
 * longer alive (crashed mid-build) is taken over. Chosen over an mtime-heartbeat library
 * (proper-lockfile) because a long build must never be declared stale while its owner lives,
 * and the template cache is local to one machine, where a pid check is exact.
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Releases a held lock; idempotent. */
export type ReleaseLock = () => Promise<void>;

/** Options of `acquireLock`. */
export interface LockOptions {
  signal?: AbortSignal | undefined;
  /** How often a waiter re-checks a held lock. Default 200 ms. */
  pollMs?: number;
  /** Called once when the lock is found held by another live process. */
  onWait?: (ownerPid: number) => void;
}

/** Waits until the lock at `path` is free, then takes it. Throws `signal.reason` on abort. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(path)) return releaser(path);
    const owner = await readOwner(path);
    if (
      owner === undefined ? await isOldEmptyLock(path) : owner !== process.pid && !isAlive(owner)
    ) {
      // Rename first: of two waiters seeing the same dead owner only one wins the rename.
      const stale = `${path}.stale-${process.pid}`;
      await rename(path, stale).then(
        () => unlink(stale),
        () => undefined,
      );
      continue;
    }
    if (!told && owner !== undefined) {
      told = true;
      options.onWait?.(owner);
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(
      () => undefined,
    );
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o644);
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function readOwner(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text ?? '', 10);
  // An empty file is a lock being written right now: treat it as held, check again later.
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

// An empty lock older than this was left by a process that died between create and write.
const EMPTY_LOCK_STALE_MS = 10_000;

async function isOldEmptyLock(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS;
}

/** Whether process `pid` exists (EPERM: it exists, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaser(path: string): ReleaseLock {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const owner = await readOwner(path);
    if (owner === process.pid) await unlink(path).catch(() => undefined);
  };
}
