/**
 * A microVM's network: the sandbox network of the OCI drivers (network/sandbox.ts: address,
 * namespace owned by the user namespace of the VM's uid range, veth whose inner end is `eth0`,
 * nftables chain, DNS, cleanup), plus what a VM needs on top of it, made inside that namespace:
 *
 * - a TAP device `tap0` owned by the VM's host uid (QEMU's `-runas`, the base of its range: the
 *   same uid owns the namespace's user namespace, so nothing else may open it);
 * - tc rules that redirect every frame arriving on `eth0` to `tap0` and every frame from `tap0`
 *   out of `eth0` (ingress qdisc, u32 match-all, mirred egress redirect: Kata Containers'
 *   "tcfilter" model). No bridge in the namespace, no MAC learning, and the namespace's own stack
 *   never sees a frame: `eth0` keeps the address attach() gave it, but the guest answers for it.
 *
 * QEMU runs inside the namespace (`nsenter --net`, then exec: argv.ts), so that it opens `tap0`
 * there and, compromised, can reach nothing but what its guest may. The guest takes the
 * address, route and resolver from its kernel command line (guest/net.c). Nothing here needs
 * cleanup of its own: the tap and the tc rules live in the namespace and go with it once
 * QEMU has exited and `releaseNetwork()` has unmounted it.
 */
import { createHash } from 'node:crypto';
import type { Egress } from '@tartarus/core';
import { netTool } from '../../network/host.js';
import type { SandboxNetworks } from '../../network/sandbox.js';

/** The TAP device's name inside the sandbox's namespace. */
export const TAP_NAME = 'tap0';

/** What QEMU and the guest need of a VM's network (argv.ts). */
export interface VmNetwork {
  /** The VM's uid range (QEMU runs as its base; its user namespace owns the network namespace). */
  uidBase: number;
  /** The namespace QEMU runs in. */
  netnsPath: string;
  tap: string;
  /** The guest NIC's MAC address (derived from the sandbox id). */
  mac: string;
  /** The guest's IPv4 address: the one attach() allocated (the bridge drops any other source). */
  address: string;
  /** Prefix length of the pool. */
  prefix: number;
  gateway: string;
  /** The guest's DNS server (the gateway: the sandboxes' DNS relay listens there). */
  resolver: string;
}

/** A locally administered unicast MAC from the sandbox id: `02:` and 5 bytes of its hash. */
export function guestMac(id: string): string {
  const hex = createHash('sha256').update(`mac:${id}`).digest('hex').slice(0, 10);
  return ['02', ...(hex.match(/../g) ?? [])].join(':');
}

/** The `ip -batch` and `tc -batch` scripts that make the tap of host uid `uid` and join it to `eth0`. */
export function tapScripts(uid: number, tap = TAP_NAME): { ip: string; tc: string } {
  const ip = [`tuntap add dev ${tap} mode tap user ${uid} group ${uid}`, `link set ${tap} up`];
  const redirect = (from: string, to: string): string[] => [
    `qdisc add dev ${from} ingress`,
    `filter add dev ${from} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${to}`,
  ];
  return { ip: `${ip.join('\n')}\n`, tc: `${[...redirect('eth0', tap), ...redirect(tap, 'eth0')].join('\n')}\n` };
}

/**
 * Puts VM `id` on the sandbox network with `egress`; its host uid is the base of its namespace's
 * range (`allocateRange` gives one when no namespace was made ahead). A failure part way leaves
 * only objects `releaseNetwork(id)` and the driver's destroy remove.
 */
export async function attachVmNetwork(networks: SandboxNetworks, id: string, allocateRange: () => Promise<number>, egress: Egress, group?: string): Promise<VmNetwork> {
  const net = await networks.attach(id, allocateRange, egress, group).network;
  const scripts = tapScripts(net.uidBase);
  const inside = ['nsenter', `--net=${net.netnsPath}`, '--'];
  await netTool([...inside, 'ip', '-batch', '-'], scripts.ip);
  await netTool([...inside, 'tc', '-batch', '-'], scripts.tc);
  // The rules too before the VM is given the interface (the VM's boot is long enough to hide them anyway).
  await net.rules;
  return {
    uidBase: net.uidBase,
    netnsPath: net.netnsPath,
    tap: TAP_NAME,
    mac: guestMac(id),
    address: net.address,
    prefix: networks.cfg.prefix,
    gateway: net.gateway,
    resolver: net.gateway,
  };
}
