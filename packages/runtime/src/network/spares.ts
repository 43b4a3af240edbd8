/**
 * Network namespaces made ahead of need. Making a sandbox's namespace — a user namespace of its
 * uid range owning a new network namespace, a veth pair on the bridge, its address and route —
 * is most of what a network adds to a sandbox's start (≈ 3 ms of kernel work). So a Runtime that
 * has started a networked sandbox keeps `SPARES` of them ready, each with its own uid range and
 * address, its interface's host end down (it carries nothing). A new sandbox takes one: the range
 * and address are handed to it (slot tables), the namespace is kept under its id and the host end
 * renamed for it and brought up on the bridge (`tt-layer take`, ≈ 0.5 ms); its rules go in as for any other.
 * A replacement is made a little later, off the create path (as drivers/shared/prespawn.ts does
 * for processes).
 *
 * A spare is recorded like a sandbox (an owner record whose dir is under the Runtime's state dir),
 * so a crashed Runtime's spares are collected with its orphans (gc/owners.ts), and a Runtime that
 * starts on the same state dir frees the ones left there. `close()` frees the rest.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { forgetOwner, recordOwner } from '../gc/owners.js';
import { SlotTable } from '../sandbox/slots.js';
import { allocateUidRange, releaseUidRange, transferUidRange } from '../sandbox/uid-ranges.js';
import type { NetworkConfig } from './config.js';
import { vethName } from './rules.js';
import type { NetTools } from './tools.js';

/** How spares' ids begin (their owner records, kept namespaces and slots are named by them). */
export const SPARE_PREFIX = 'nsp_';

/** Namespaces kept ready. */
const SPARES = 2;
/** Delay between taking a spare and making its replacement, ms. */
const REFILL_DELAY_MS = 50;

/** A namespace made ahead: its id (holding its uid range and address), its base, its address. */
interface Spare {
  id: string;
  uidBase: number;
  address: string;
}

/** What taking a spare gives the sandbox: its range and address at once, its namespace once `moved`. */
export interface TakenNamespace {
  uidBase: number;
  address: string;
  /** Resolves once the namespace is kept under the sandbox's id with its interface up; rejects when that failed (the sandbox then owns the range and address, not the namespace). */
  moved: Promise<void>;
}

/** How a namespace's pieces are found and removed (network/sandbox.ts). */
export interface SpareDeps {
  cfg: NetworkConfig;
  tools: NetTools;
  addresses: SlotTable;
  /** Sandbox `id`'s kept namespace path. */
  netnsPath(id: string): string;
  /** The address of a slot. */
  slotAddress(slot: number): string;
  /** Removes the network pieces of `id` that exist (namespace, veth, address). */
  release(id: string): Promise<void>;
}

/** The spare namespaces of one Runtime. */
export class NetworkSpares {
  private readonly ready: Spare[] = [];
  private making: Promise<void> | undefined;
  /** Taken spares' records (or, when their move failed, whole spares) being removed. */
  private readonly forgetting = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private cleaned: Promise<void> | undefined;

  constructor(
    private readonly deps: SpareDeps,
    /** `<stateDir>/net-spares`: one dir per spare, named in its owner record. */
    private readonly dir: string,
  ) {}

  /**
   * Hands a ready namespace to sandbox `id` (whose owner record exists): its uid range and
   * address become the sandbox's at once, and its namespace is then kept at `netnsPath(id)` with
   * host end `vethName(id)`, up (`moved`). Undefined when none is ready.
   */
  take(id: string): TakenNamespace | undefined {
    const spare = this.ready.shift();
    this.refillSoon();
    if (!spare) return undefined;
    let uidBase: number;
    try {
      uidBase = transferUidRange(spare.id, id);
      this.deps.addresses.transfer(spare.id, id);
    } catch {
      // What was handed over is the sandbox's now (its teardown frees it); the rest goes with the spare.
      this.later(this.free(spare.id));
      return undefined;
    }
    const moved = this.deps.tools.layerRun(['take', this.deps.netnsPath(spare.id), this.deps.netnsPath(id), vethName(spare.id), vethName(id), this.deps.cfg.bridge]);
    // Its records go after the create (close() waits for them); a namespace not moved goes too.
    this.later(moved.then(() => this.forget(spare.id), () => this.free(spare.id)));
    return { uidBase, address: spare.address, moved };
  }

  /** Makes spares up to `SPARES` a little later (the first call also frees a previous run's). */
  refillSoon(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.making ??= this.fill().finally(() => (this.making = undefined));
    }, REFILL_DELAY_MS);
    this.timer.unref();
  }

  /** Stops making spares and frees the ready ones. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.making;
    await Promise.all(this.forgetting);
    const left = this.ready.splice(0);
    await Promise.all(left.map((s) => this.free(s.id)));
  }

  private async fill(): Promise<void> {
    this.cleaned ??= this.freeLeftovers();
    await this.cleaned;
    while (!this.closed && this.ready.length < SPARES) {
      const spare = await this.make().catch(() => undefined);
      // A namespace that cannot be made now (the bridge went away, a full table) is not retried
      // until the next take: creates make their own meanwhile.
      if (!spare) return;
      if (this.closed) return void (await this.free(spare.id));
      this.ready.push(spare);
    }
  }

  private async make(): Promise<Spare> {
    const id = `${SPARE_PREFIX}${randomBytes(8).toString('hex')}`;
    const dir = join(this.dir, id);
    await Promise.all([mkdir(dir, { recursive: true, mode: 0o700 }), mkdir(dirname(this.deps.netnsPath(id)), { recursive: true, mode: 0o711 })]);
    await recordOwner(id, { dir, runtime: 'container', spare: true });
    try {
      const [uidBase, slot] = await Promise.all([allocateUidRange(id), this.deps.addresses.allocate(id)]);
      const address = this.deps.slotAddress(slot);
      const { cfg } = this.deps;
      await this.deps.tools.layerRun(['spare', String(uidBase), this.deps.netnsPath(id), vethName(id), cfg.bridge, `${address}/${cfg.prefix}`, cfg.gateway]);
      return { id, uidBase, address };
    } catch (err) {
      await this.free(id);
      throw err;
    }
  }

  /** Removes spare `id` entirely: namespace, veth, address, uid range, owner record and dir. */
  private async free(id: string): Promise<void> {
    await this.deps.release(id);
    await releaseUidRange(id);
    await this.forget(id);
  }

  private later(p: Promise<void>): void {
    const tracked = p.catch(() => undefined).finally(() => this.forgetting.delete(tracked));
    this.forgetting.add(tracked);
  }

  private async forget(id: string): Promise<void> {
    await forgetOwner(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  /** Spares a previous Runtime on this state dir left (it crashed or was killed). */
  private async freeLeftovers(): Promise<void> {
    const left = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(left.filter((n) => n.startsWith(SPARE_PREFIX)).map((id) => this.free(id)));
  }
}
