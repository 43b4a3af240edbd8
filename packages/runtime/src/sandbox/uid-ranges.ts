/**
 * Host uid/gid ranges for sandboxes in their own user namespace: container ids 0..65535 are host
 * ids BASE..BASE+65535, one range per sandbox, so no two sandboxes (of any tenant, of any Runtime
 * on this machine) share a host uid — per-user kernel limits (POSIX message queues, inotify
 * instances, pipe pages, RLIMIT_NPROC) are no longer shared across tenants.
 *
 * Ranges are recorded machine-wide under `/run/tartarus/uids` (beside the owner records, on the
 * tmpfs that lives exactly as long as the host's processes): `slots/<n>` holds the sandbox id
 * (made with O_EXCL: two allocators never take one slot) and `ids/<id>` the slot, so a range is
 * found and freed from the sandbox id alone, and a restarted agent never reuses a live one.
 * `collectOrphans()` frees the ranges of sandboxes whose owner record is gone.
 */
import { randomInt } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ownersDir } from '../gc/owners.js';

/** First host id of slot 0: far above any user or subordinate-id range a host hands out. */
export const UID_RANGE_START = 0x10000000;
/** Ids per sandbox (container 0..65535). */
export const UID_RANGE_SIZE = 65536;
/** Slots, so the last range ends below 2^30. */
export const UID_SLOTS = 12288;

function dir(): string {
  return join(dirname(ownersDir()), 'uids');
}

/** The first host id of `slot`. */
export function slotBase(slot: number): number {
  return UID_RANGE_START + slot * UID_RANGE_SIZE;
}

/** Takes a free range for sandbox `id` and returns its base (the host id of container uid 0). */
export async function allocateUidRange(id: string): Promise<number> {
  const d = dir();
  await Promise.all([mkdir(join(d, 'slots'), { recursive: true, mode: 0o700 }), mkdir(join(d, 'ids'), { recursive: true, mode: 0o700 })]);
  const existing = await readSlot(id);
  if (existing !== undefined) return slotBase(existing);
  for (let attempt = 0; attempt < 64; attempt++) {
    const slot = randomInt(UID_SLOTS);
    // ids/<id> first: a crash between the two writes leaves an id naming a slot it does not hold
    // (freed by releaseOrphanRanges), never a slot nobody can find.
    await writeFile(join(d, 'ids', id), String(slot), { mode: 0o600 });
    try {
      await writeFile(join(d, 'slots', String(slot)), id, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      await rm(join(d, 'ids', id), { force: true });
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    return slotBase(slot);
  }
  throw new Error('no free uid range for a new sandbox: the machine holds too many sandboxes');
}

async function readSlot(id: string): Promise<number | undefined> {
  const text = await readFile(join(dir(), 'ids', id), 'utf8').catch(() => undefined);
  const slot = Number(text);
  return text !== undefined && Number.isInteger(slot) ? slot : undefined;
}

/** Frees the range of sandbox `id` (its processes are gone). Idempotent. */
export async function releaseUidRange(id: string): Promise<void> {
  const slot = await readSlot(id);
  if (slot !== undefined) {
    const holder = await readFile(join(dir(), 'slots', String(slot)), 'utf8').catch(() => undefined);
    if (holder === id) await rm(join(dir(), 'slots', String(slot)), { force: true });
  }
  await rm(join(dir(), 'ids', id), { force: true });
}

/** Frees the ranges of sandboxes that have no owner record any more (gc/owners.ts). Returns their ids. */
export async function releaseOrphanRanges(): Promise<string[]> {
  const ids = await readdir(join(dir(), 'ids')).catch(() => [] as string[]);
  const owners = new Set((await readdir(ownersDir()).catch(() => [] as string[])).map((n) => n.replace(/\.json$/, '')));
  const orphans = ids.filter((id) => !owners.has(id));
  await Promise.all(orphans.map(releaseUidRange));
  return orphans;
}
