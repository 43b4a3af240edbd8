/**
 * Machine-wide numbered slots held by sandboxes — a host uid range each (uid-ranges.ts), an
 * address each (network/addresses.ts) — recorded under `/run/tartarus/<table>` beside the owner
 * records, on the tmpfs that lives exactly as long as the host's processes: `slots/<n>` holds the
 * sandbox id (made with O_EXCL: two allocators, in any process, never take one slot) and
 * `ids/<id>` the slot, so a slot is found and freed from the sandbox id alone and a restarted
 * agent never reuses a live one. `releaseOrphans()` frees the slots of sandboxes whose owner
 * record is gone (gc/owners.ts).
 */
import { randomInt } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ownersDir } from '../gc/owners.js';

/** Random tries before a table is called full. */
const ATTEMPTS = 64;

/** One table of `count` slots (0..count-1). */
export class SlotTable {
  constructor(
    private readonly name: string,
    private readonly count: number,
    /** What the table holds, for the error when it is full. */
    private readonly what: string,
  ) {}

  private dir(): string {
    return join(dirname(ownersDir()), this.name);
  }

  /** Takes a free slot for sandbox `id` (or returns the one it holds). */
  async allocate(id: string): Promise<number> {
    const d = this.dir();
    await Promise.all([mkdir(join(d, 'slots'), { recursive: true, mode: 0o700 }), mkdir(join(d, 'ids'), { recursive: true, mode: 0o700 })]);
    const existing = await this.slotOf(id);
    if (existing !== undefined) return existing;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const slot = randomInt(this.count);
      // ids/<id> first: a crash between the two writes leaves an id naming a slot it does not hold
      // (freed by releaseOrphans), never a slot nobody can find.
      await writeFile(join(d, 'ids', id), String(slot), { mode: 0o600 });
      try {
        await writeFile(join(d, 'slots', String(slot)), id, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        await rm(join(d, 'ids', id), { force: true });
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      return slot;
    }
    throw new Error(`no free ${this.what} for a new sandbox: the machine holds too many sandboxes`);
  }

  /** The slot sandbox `id` holds, if any. */
  async slotOf(id: string): Promise<number | undefined> {
    const text = await readFile(join(this.dir(), 'ids', id), 'utf8').catch(() => undefined);
    const slot = Number(text);
    return text !== undefined && Number.isInteger(slot) ? slot : undefined;
  }

  /**
   * Hands the slot `from` holds to `to` (a spare made ahead becoming a sandbox's): `to` is
   * recorded first and `from` forgotten last, so a crash between leaves both naming the slot, and
   * `release` of either frees it only while it is the holder. Returns the slot.
   *
   * Synchronous: it is on a sandbox's create path, and four tiny writes on the tmpfs take
   * microseconds each where a round trip through the thread pool takes a quarter of a millisecond.
   */
  transfer(from: string, to: string): number {
    const d = this.dir();
    const slot = Number(readFileSync(join(d, 'ids', from), 'utf8'));
    if (!Number.isInteger(slot)) throw new Error(`${from} holds no ${this.what}`);
    writeFileSync(join(d, 'ids', to), String(slot), { mode: 0o600 });
    const tmp = join(d, 'slots', `.${slot}.${process.pid}.tmp`);
    writeFileSync(tmp, to, { mode: 0o600 });
    renameSync(tmp, join(d, 'slots', String(slot)));
    rmSync(join(d, 'ids', from), { force: true });
    return slot;
  }

  /** Frees the slot of sandbox `id` (its processes are gone). Idempotent. */
  async release(id: string): Promise<void> {
    const slot = await this.slotOf(id);
    if (slot !== undefined) {
      const holder = await readFile(join(this.dir(), 'slots', String(slot)), 'utf8').catch(() => undefined);
      if (holder === id) await rm(join(this.dir(), 'slots', String(slot)), { force: true });
    }
    await rm(join(this.dir(), 'ids', id), { force: true });
  }

  /** Ids of sandboxes holding a slot that have no owner record any more. */
  async orphans(): Promise<string[]> {
    const ids = await readdir(join(this.dir(), 'ids')).catch(() => [] as string[]);
    const owners = new Set((await readdir(ownersDir()).catch(() => [] as string[])).map((n) => n.replace(/\.json$/, '')));
    return ids.filter((id) => !owners.has(id));
  }

  /** Frees the slots of sandboxes that have no owner record any more. Returns their ids. */
  async releaseOrphans(): Promise<string[]> {
    const orphans = await this.orphans();
    await Promise.all(orphans.map((id) => this.release(id)));
    return orphans;
  }
}
