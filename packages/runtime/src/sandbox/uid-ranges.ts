/**
 * Host uid/gid ranges for sandboxes in their own user namespace: container ids 0..65535 are host
 * ids BASE..BASE+65535, one range per sandbox, so no two sandboxes (of any tenant, of any Runtime
 * on this machine) share a host uid — per-user kernel limits (POSIX message queues, inotify
 * instances, pipe pages, RLIMIT_NPROC) are no longer shared across tenants.
 *
 * Ranges are slots of the machine-wide table `/run/tartarus/uids` (sandbox/slots.ts): found and
 * freed from the sandbox id alone, never reused while live, even by a restarted agent.
 * `collectOrphans()` frees the ranges of sandboxes whose owner record is gone.
 */
import { SlotTable } from './slots.js';

/** First host id of slot 0: far above any user or subordinate-id range a host hands out. */
export const UID_RANGE_START = 0x10000000;
/** Ids per sandbox (container 0..65535). */
export const UID_RANGE_SIZE = 65536;
/** Slots, so the last range ends below 2^30. */
export const UID_SLOTS = 12288;

const table = new SlotTable('uids', UID_SLOTS, 'uid range');

/** The first host id of `slot`. */
export function slotBase(slot: number): number {
  return UID_RANGE_START + slot * UID_RANGE_SIZE;
}

/** Takes a free range for sandbox `id` and returns its base (the host id of container uid 0). */
export async function allocateUidRange(id: string): Promise<number> {
  return slotBase(await table.allocate(id));
}

/** Hands the range `from` holds (a spare network namespace's) to sandbox `to`; returns its base. */
export function transferUidRange(from: string, to: string): number {
  return slotBase(table.transfer(from, to));
}

/** Frees the range of sandbox `id` (its processes are gone). Idempotent. */
export function releaseUidRange(id: string): Promise<void> {
  return table.release(id);
}

/** Frees the ranges of sandboxes that have no owner record any more (gc/owners.ts). Returns their ids. */
export function releaseOrphanRanges(): Promise<string[]> {
  return table.releaseOrphans();
}
