/**
 * One sandbox's network: an address from the pool (a slot of the machine-wide table `net`,
 * sandbox/slots.ts), a network namespace owned by the sandbox's user namespace (made by
 * `tt-layer netns`, kept at `/run/tartarus/netns/<id>`, so that runc and runsc, running as the
 * sandbox's mapped root, may join and configure it), a veth pair whose host end `tv<hash>` is a
 * port of the bridge and whose other end is the sandbox's `eth0`, a default route through the
 * gateway (made by the same `tt-layer netns` process over netlink), and its nftables chain (rules.ts). Everything is named from the sandbox id and
 * recorded under `/run/tartarus/net/sandboxes/<id>.json` before it is made, so `releaseNetwork(id)`
 * removes it after any crash; gc/owners.ts calls it for orphans.
 */
import { access, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxNotRunningError, type Egress } from '@tartarus/core';
import { runCommand } from '../process/run.js';
import { SlotTable } from '../sandbox/slots.js';
import { ownersDir } from '../gc/owners.js';
import { slotAddress, type NetworkConfig } from './config.js';
import { ensureHostNetwork, leaseHostNetwork, netRunDir, NET_TOOL_TIMEOUT_MS, resolvConfPath } from './host.js';
import { addSandboxRules, groupPairLines, removeSandboxRules, restoreSandboxEgress, setSandboxEgress, widenSandboxEgress, vethName, type GroupMember } from './rules.js';
import type { EgressResolver } from './resolve.js';
import { groupDir, removeGroupNames } from './names.js';
import { NetworkSpares, type TakenNamespace } from './spares.js';
import { NetTools } from './tools.js';
import { linkExists, readLinks } from './links.js';

/** What a driver needs to put a sandbox on its network. */
export interface AttachedNetwork {
  /** The sandbox's uid range (the one its network namespace's user namespace maps). */
  uidBase: number;
  address: string;
  gateway: string;
  /** The network namespace (join it: `linux.namespaces` path). */
  netnsPath: string;
  /** Bind-mounted read-only at /etc/resolv.conf. */
  resolvConf: string;
  /** Resolves once the sandbox's nftables rules are in: until then its traffic is dropped. Await it before its first process runs. */
  rules: Promise<void>;
}

/** Rules being put in, by sandbox id: a removal waits for them (else it could run first and leave them). */
const pendingRules = new Map<string, Promise<void>>();

/** Where sandbox `id`'s network namespace is kept. */
export function sandboxNetnsPath(id: string): string {
  return join(netnsDir(), id);
}

interface NetRecord {
  address: string;
  egress: Egress;
  /** Its named group (sandboxes of one tenant on this node that may reach each other), if any. */
  group?: string;
}

/** Records `me` (sandbox `id`) as a member of `group` first, then returns the others (so two joining at once both see each other). */
async function joinGroup(group: string, id: string, me: GroupMember): Promise<GroupMember[]> {
  const dir = groupDir(group);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, id), `${me.veth} ${me.address}`, { mode: 0o600 });
  return groupMembers(group, id);
}

async function groupMembers(group: string, except: string): Promise<GroupMember[]> {
  const dir = groupDir(group);
  const ids = (await readdir(dir).catch(() => [] as string[])).filter((m) => m !== except);
  const texts = await Promise.all(ids.map((m) => readFile(join(dir, m), 'utf8').catch(() => '')));
  return texts
    .map((t) => /^(tv[0-9a-f]{13}) (\d{1,3}(?:\.\d{1,3}){3})$/.exec(t.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ veth: m[1] ?? '', address: m[2] ?? '' }));
}

/** The addresses' slot table (machine-wide) for a pool of `size` addresses (freeing needs no size). */
export function addressTable(size: number): SlotTable {
  return new SlotTable('net-addresses', size, 'network address');
}

/** Where sandboxes' network namespaces are kept: `/run/tartarus/netns`. */
export function netnsDir(): string {
  return join(netRunDir(), '..', 'netns');
}

function recordPath(id: string): string {
  return join(netRunDir(), 'sandboxes', `${id}.json`);
}

async function readRecord(id: string): Promise<NetRecord | undefined> {
  return readFile(recordPath(id), 'utf8').then(
    (t) => JSON.parse(t) as NetRecord,
    () => undefined,
  );
}

async function writeRecord(id: string, record: NetRecord): Promise<void> {
  await mkdir(join(netRunDir(), 'sandboxes'), { recursive: true, mode: 0o700 });
  const tmp = `${recordPath(id)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
  await rename(tmp, recordPath(id));
}

/** The sandboxes' networks of one Runtime (the host side is shared by the machine). */
export class SandboxNetworks {
  private readonly addresses: SlotTable;
  /** Sandboxes of this Runtime whose allow list names hosts: re-resolved while they run. */
  private readonly named = new Map<string, Egress>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private lease: Promise<() => Promise<void>> | undefined;
  private refreshing = false;
  /** The policy change in progress per sandbox (`setEgress`), the next one chained behind it. */
  private readonly egressChanges = new Map<string, Promise<void>>();
  /** `tt-layer netns` and `nft` kept waiting for the create path. */
  private readonly tools = new NetTools();
  /** Namespaces made ahead of need. */
  private readonly spares: NetworkSpares;
  /** Called once the host side exists (the Runtime starts the DNS relay on the gateway then). */
  onHostReady: () => Promise<void> = async () => undefined;

  constructor(
    readonly cfg: NetworkConfig,
    private readonly resolver: EgressResolver,
    /** Where this Runtime records its spare namespaces (`<stateDir>/net-spares`). */
    sparesDir: string,
  ) {
    this.addresses = addressTable(cfg.size);
    this.spares = new NetworkSpares(
      {
        cfg,
        tools: this.tools,
        addresses: this.addresses,
        netnsPath: sandboxNetnsPath,
        slotAddress: (slot) => slotAddress(cfg, slot),
        release: releaseNetwork,
      },
      sparesDir,
    );
  }

  /**
   * Puts sandbox `id` on the network with `egress` (`none`: an interface that reaches nothing):
   * a namespace made ahead when one is ready (spares.ts: its uid range becomes the sandbox's),
   * else one made now in a uid range from `allocateRange`. The range is known first (`uidBase`:
   * the sandbox's other files are written meanwhile), then the network. Its rules go in
   * meanwhile (traffic from an address without them is dropped): await `rules` before its first
   * process runs.
   */
  attach(id: string, allocateRange: () => Promise<number>, egress: Egress, group?: string): { uidBase: Promise<number>; network: Promise<AttachedNetwork> } {
    const taken = this.spares.take(id);
    taken?.moved.catch(() => undefined);
    const uidBase = taken ? Promise.resolve(taken.uidBase) : allocateRange();
    uidBase.catch(() => undefined);
    return { uidBase, network: this.attachWith(id, taken, uidBase, egress, group) };
  }

  private async attachWith(id: string, taken: TakenNamespace | undefined, uidBase: Promise<number>, egress: Egress, group?: string): Promise<AttachedNetwork> {
    const host = this.leased()
      .then(() => ensureHostNetwork(this.cfg))
      .then(() => this.onHostReady());
    // All settle before a failure is thrown: the caller's clean-up must not race a write.
    const made = taken
      ? Promise.all([taken.uidBase, taken.address])
      : Promise.all([uidBase, this.addresses.allocate(id).then((slot) => slotAddress(this.cfg, slot)), mkdir(netnsDir(), { recursive: true, mode: 0o711 })]);
    const [hostDone, pieces] = await Promise.allSettled([host, made]);
    for (const r of [hostDone, pieces]) if (r.status === 'rejected') return this.failed(r.reason, taken?.moved);
    const [range, address] = (pieces as PromiseFulfilledResult<[number, string, ...unknown[]]>).value;
    // Recorded before anything more is made, so that releaseNetwork(id) finds it after any crash.
    const recorded = writeRecord(id, { address, egress, ...(group === undefined ? {} : { group }) });
    const netnsPath = sandboxNetnsPath(id);
    const veth = vethName(id);
    const rules = recorded.then(async () => {
      const me = { veth, address };
      const members = group === undefined ? [] : await joinGroup(group, id, me);
      const pairs = groupPairLines('add', me, members);
      await this.tools.nft(`${addSandboxRules({ id, address, egress: await this.resolver.resolve(egress) })}${pairs.map((l) => `${l}\n`).join('')}`);
    });
    const pending = rules.catch(() => undefined).finally(() => pendingRules.delete(id));
    pendingRules.set(id, pending);
    // A spare's namespace is being moved meanwhile; without one, one process makes the namespace
    // (owned by the sandbox's user namespace) and its interface over netlink.
    const iface = [veth, this.cfg.bridge, `${address}/${this.cfg.prefix}`, this.cfg.gateway];
    const namespace = taken ? taken.moved : recorded.then(() => this.tools.layerRun(['netns', String(range), netnsPath, ...iface]));
    const settled = await Promise.allSettled([recorded, namespace]);
    for (const r of settled) if (r.status === 'rejected') return this.failed(r.reason, pending);
    this.track(id, egress);
    return { uidBase: range, address, gateway: this.cfg.gateway, netnsPath, resolvConf: resolvConfPath(), rules };
  }

  /** Throws `err` once `pending` (rules or a namespace being moved) has settled: the caller's clean-up then takes it too. */
  private async failed(err: unknown, pending?: Promise<unknown>): Promise<never> {
    await pending?.catch(() => undefined);
    throw err;
  }

  /**
   * Serves a networked sandbox found after a restart: the host side checked (and made again if
   * someone removed it) and the DNS relay started, which otherwise only a new attach would do.
   */
  async resume(): Promise<void> {
    await this.leased();
    await ensureHostNetwork(this.cfg);
    await this.onHostReady();
  }

  /** Replaces a networked sandbox's policy; its open connections are held to the new one at once. */
  setEgress(id: string, egress: Egress): Promise<void> {
    return this.oneAtATime(id, () => this.replaceEgress(id, egress));
  }

  /** Runs `change` of sandbox `id`'s rules after the ones before it: each reads the policy the last one left. */
  private oneAtATime(id: string, change: () => Promise<void>): Promise<void> {
    const done = (this.egressChanges.get(id) ?? Promise.resolve()).then(change);
    const settled = done.catch(() => undefined);
    this.egressChanges.set(id, settled);
    void settled.then(() => this.egressChanges.get(id) === settled && this.egressChanges.delete(id));
    return done;
  }

  private async replaceEgress(id: string, egress: Egress): Promise<void> {
    const record = await readRecord(id);
    if (!record) throw new SandboxNotRunningError(`sandbox ${id} has no network (it was created with egress "none"): create it with a network to change its egress`);
    const resolved = await this.resolver.resolve(egress);
    await writeRecord(id, { ...record, egress });
    // From `none` (a pooled sandbox being handed out) the rules are only added: see widenSandboxEgress.
    const script = record.egress === 'none' ? widenSandboxEgress(id, resolved) : setSandboxEgress(id, resolved);
    if (script !== '') await this.tools.nft(script);
    this.track(id, egress);
  }

  /**
   * Puts an adopted sandbox's rules back to its recorded policy. A policy is recorded before its
   * rules are committed, so a process that died between the two left rules that say otherwise.
   */
  reapply(id: string): Promise<void> {
    return this.oneAtATime(id, async () => {
      const record = await readRecord(id);
      if (!record) return;
      await this.tools.nft(restoreSandboxEgress(id, await this.resolver.resolve(record.egress)));
      this.track(id, record.egress);
    });
  }

  /** The sandbox's address and policy, if it has a network. */
  async get(id: string): Promise<NetRecord | undefined> {
    return readRecord(id);
  }

  /** Removes the sandbox's network (idempotent). */
  async detach(id: string): Promise<void> {
    this.named.delete(id);
    await releaseNetwork(id);
  }

  /** Frees the spare namespaces and stops re-resolving names. */
  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.spares.close();
    this.tools.close();
    const lease = this.lease;
    this.lease = undefined;
    await (await lease?.catch(() => undefined))?.();
  }

  /** This Runtime's lease on the host network (host.ts), taken on first use (and again after a failed try). */
  private leased(): Promise<unknown> {
    if (!this.lease) {
      const lease = leaseHostNetwork();
      lease.catch(() => {
        if (this.lease === lease) this.lease = undefined;
      });
      this.lease = lease;
    }
    return this.lease;
  }

  /** True when no sandbox of the machine holds an address and no Runtime keeps a namespace (a spare) ready. */
  async machineIdle(): Promise<boolean> {
    return (await this.machineNetworks()) === 0;
  }

  /** Networks on this machine: sandboxes' records and namespaces (spares' included). */
  machineNetworks(): Promise<number> {
    return machineNetworkCount();
  }

  /**
   * Whether the machine has no networked sandbox left, once the ones going away have gone: while
   * their count falls (a destroy finishing), it looks again, for at most `waitMs`.
   */
  async machineIdleSoon(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    let count = await this.machineNetworks();
    while (count > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await this.machineNetworks();
      if (next === count) break; // nothing is going away: live sandboxes stay
      count = next;
    }
    return count === 0;
  }

  private track(id: string, egress: Egress): void {
    if (Array.isArray(egress) && this.resolver.hasNames(egress)) this.named.set(id, egress);
    else this.named.delete(id);
    if (this.named.size > 0 && !this.refreshTimer) {
      this.refreshTimer = setInterval(() => void this.refresh(), this.resolver.refreshMs);
      this.refreshTimer.unref();
    }
  }

  // Names in allow lists are resolved again; a changed answer replaces the chain — in turn with
  // the sandbox's policy changes, and only while the policy is still the one resolved (a change
  // made meanwhile resolved its own names).
  private async refresh(): Promise<void> {
    if (this.refreshing) return; // the last one is still waiting for answers
    this.refreshing = true;
    try {
      await this.refreshNamed();
    } finally {
      this.refreshing = false;
    }
  }

  private async refreshNamed(): Promise<void> {
    for (const [id, egress] of this.named) {
      if (!(await this.resolver.changed(egress))) continue;
      await this.oneAtATime(id, async () => {
        if (this.named.get(id) !== egress) return;
        await this.tools.nft(setSandboxEgress(id, await this.resolver.resolve(egress)));
      }).catch(() => undefined);
    }
  }
}

/** Removes everything of sandbox `id`'s network that exists: rules, veth, namespace, address, record. Cheap without one. */
export async function releaseNetwork(id: string): Promise<void> {
  await pendingRules.get(id);
  const veth = vethName(id);
  const netns = sandboxNetnsPath(id);
  const [record, hasVeth, hasNetns] = await Promise.all([readRecord(id), linkExists(veth), exists(netns)]);
  if (record) {
    let lines = removeSandboxRules(id, record.address);
    if (record.group !== undefined) {
      await rm(join(groupDir(record.group), id), { force: true });
      lines = [...lines, ...groupPairLines('delete', { veth, address: record.address }, await groupMembers(record.group, id))];
      // The last member gone: the group's service names (names.ts) go with it.
      if (await rmdir(groupDir(record.group)).then(() => true, () => false)) await removeGroupNames(record.group);
    }
    const all = await runCommand(['nft', '-f', '-'], { stdin: `${lines.join('\n')}\n`, allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
    // Some were never made (a crash half way): each of the others on its own.
    if (all.exitCode !== 0) {
      for (const line of lines) await runCommand(['nft', '-f', '-'], { stdin: `${line}\n`, allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
    }
  }
  // Deleting the host end deletes the sandbox's eth0 with it.
  if (hasVeth) await runCommand(['ip', 'link', 'del', veth], { allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
  if (hasNetns) {
    await runCommand(['umount', '--lazy', netns], { allowNonZero: true, timeoutMs: NET_TOOL_TIMEOUT_MS });
    await rm(netns, { force: true });
  }
  // Its address (held from before the record was written, so freed whatever the record says).
  await addressTable(0).release(id);
  if (record) await rm(recordPath(id), { force: true });
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** Networks on this machine: sandboxes' records and namespaces (spares' included). */
export async function machineNetworkCount(): Promise<number> {
  const [records, namespaces] = await Promise.all([
    readdir(join(netRunDir(), 'sandboxes')).catch(() => [] as string[]),
    readdir(netnsDir()).catch(() => [] as string[]),
  ]);
  return records.length + namespaces.length;
}

/** Releases the networks of sandboxes that have no owner record any more (gc/owners.ts). */
export async function releaseOrphanNetworks(): Promise<string[]> {
  const owners = new Set((await readdir(ownersDir()).catch(() => [] as string[])).map((n) => n.replace(/\.json$/, '')));
  const records = (await readdir(join(netRunDir(), 'sandboxes')).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
  const namespaces = await readdir(netnsDir()).catch(() => [] as string[]);
  const orphans = [...new Set([...records, ...namespaces])].filter((id) => !owners.has(id));
  for (const id of orphans) await releaseNetwork(id);
  await addressTable(0).releaseOrphans();
  return orphans;
}

/**
 * Bytes sandbox `id` has sent over its network link, from the kernel's counters: what leaves its
 * `eth0` arrives at the veth's host end (`rx_bytes` there). 0 without a network (or once it is gone).
 */
export async function readEgressBytes(id: string): Promise<number> {
  return readLinks().then(
    (links) => links.get(vethName(id))?.rxBytes ?? 0,
    () => 0,
  );
}
