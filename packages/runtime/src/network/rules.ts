/**
 * The nftables rules of the sandbox network, generated as `nft -f` scripts by pure functions
 * (golden-tested in rules.test.ts); network/host.ts and network/sandbox.ts apply them. Two tables
 * of ours, nothing else touched:
 *
 * `inet tartarus`
 * - `forward`: a packet from a sandbox (in on the bridge) goes through `from_sandbox`: always-denied
 *   destinations (set `denied`: link-local and metadata, loopback, the pool itself — other
 *   sandboxes — and the configured deny list; set `denied_ports`: the list's address/port pairs,
 *   such as the control plane's) are dropped, then the map `egress` sends it to its
 *   sandbox's own chain `sb_<hash>` by source address (its policy: accept, an allow list, or
 *   drop), and an address without a chain is dropped. Checked on every packet, not only a new
 *   flow's, so a tightened policy cuts open connections at once. Nothing from outside starts a
 *   connection into a sandbox (ports are reached through the proxy from the host).
 * - `input`: from a sandbox to the host itself, only DNS to the gateway and replies to what the
 *   host started; the host's addresses and the control plane are otherwise unreachable.
 * - `postrouting`: egress is masqueraded behind the host's address.
 *
 * `bridge tartarus`: no frame between two sandboxes' ports (no L2 path around the rules above)
 * unless both are in one named group (set `group_ports`: port . port, both ways);
 * a frame to the host must carry its port's own address (set `ports`: veth . address), so a
 * sandbox's root cannot take another's address, and so another's policy; no IPv6 at all.
 */
import { createHash } from 'node:crypto';
import { egressCovers } from '@tartarus/core';
import { ALWAYS_DENIED, type NetworkConfig } from './config.js';

/** The tables' name (`inet tartarus`, `bridge tartarus`). */
export const TABLE = 'tartarus';
/** Every sandbox's bridge port (`vethName`), as an nft wildcard: the bridge family here has no bridge-name match. */
const PORTS = '"tv*"';

/** An allow-list entry with names resolved: a CIDR, on one port or all. */
export interface ResolvedRule {
  cidr: string;
  port: number | null;
}

/** A sandbox's policy as rules: everything, nothing, or an allow list. */
export type ResolvedEgress = 'all' | 'none' | ResolvedRule[];

/** What the rules know of one sandbox. */
export interface SandboxRuleInput {
  id: string;
  address: string;
  egress: ResolvedEgress;
}

function hash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The sandbox's chain: `sb_` and 16 hex digits of the id's hash. */
export function chainName(id: string): string {
  return `sb_${hash(id).slice(0, 16)}`;
}

/** The host end of the sandbox's veth pair (≤ 15 chars, the kernel's limit): `tv` and 13 hex digits. */
export function vethName(id: string): string {
  return `tv${hash(id).slice(0, 13)}`;
}

const q = (s: string): string => JSON.stringify(s);

/** The set of denied address/port pairs (the control plane's…); base rules made before it lack it, and its rule (host.ts adds both). */
export const DENIED_PORTS_SET = `add set inet ${TABLE} denied_ports { type ipv4_addr . inet_service; flags interval; }`;
/** The rule dropping what `denied_ports` holds, in chain `from_sandbox`. */
export const DENIED_PORTS_RULE = `from_sandbox meta l4proto { tcp, udp } ip daddr . th dport @denied_ports drop`;

/**
 * The configured deny list less what is denied anyway (loopback, the pool…) or by a wider entry
 * of the list: an interval set refuses an element inside one it holds ("File exists").
 */
function ownDenyList(cfg: NetworkConfig): NetworkConfig['deny'] {
  const held: string[] = [...ALWAYS_DENIED, cfg.pool];
  const prefix = (d: NetworkConfig['deny'][number]): number => Number(d.cidr.split('/')[1]);
  const widestFirst = [...cfg.deny].sort((a, b) => prefix(a) - prefix(b) || (a.port === null ? -1 : 0) - (b.port === null ? -1 : 0));
  return widestFirst.filter((d) => {
    const entry = d.port === null ? d.cidr : `${d.cidr}:${d.port}`;
    if (egressCovers(held, [entry])) return false;
    held.push(entry);
    return true;
  });
}

/** `add element` lines for the configured deny list, one element each: addresses in `denied`, address/port pairs in `denied_ports`. */
function denyElementLines(cfg: NetworkConfig): string[] {
  return ownDenyList(cfg).map((d) =>
    d.port === null ? `add element inet ${TABLE} denied { ${d.cidr} }` : `add element inet ${TABLE} denied_ports { ${d.cidr} . ${d.port} }`,
  );
}

function denyRules(cfg: NetworkConfig): string[] {
  return [
    `flush set inet ${TABLE} denied`,
    `flush set inet ${TABLE} denied_ports`,
    `add element inet ${TABLE} denied { ${[...ALWAYS_DENIED, cfg.pool].join(', ')} }`,
    ...denyElementLines(cfg),
    `add rule inet ${TABLE} from_sandbox ip daddr @denied drop`,
    `add rule inet ${TABLE} ${DENIED_PORTS_RULE}`,
  ];
}

/**
 * Adds this configuration's deny list to the sets, one element a line (idempotent, never removing
 * another's): base rules made by another Runtime of the machine, or before a restart with another
 * list, would otherwise lack it. Empty when nothing is left to add (e.g. a control plane on loopback).
 */
export function denyElements(cfg: NetworkConfig): string {
  const lines = denyElementLines(cfg);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The tables, sets and fixed chains: idempotent (each Runtime on the machine applies it), sandboxes' chains and elements kept. */
export function baseRules(cfg: NetworkConfig): string {
  const br = q(cfg.bridge);
  const lines = [
    `add table inet ${TABLE}`,
    `add set inet ${TABLE} denied { type ipv4_addr; flags interval; auto-merge; }`,
    DENIED_PORTS_SET,
    `add map inet ${TABLE} egress { type ipv4_addr : verdict; }`,
    `add set inet ${TABLE} group_addrs { type ipv4_addr . ipv4_addr; }`,
    `add chain inet ${TABLE} forward { type filter hook forward priority filter - 10; policy accept; }`,
    `add chain inet ${TABLE} input { type filter hook input priority filter - 10; policy accept; }`,
    `add chain inet ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain inet ${TABLE} from_sandbox`,
    `add chain inet ${TABLE} to_host`,
    ...['forward', 'input', 'postrouting', 'from_sandbox', 'to_host'].map((c) => `flush chain inet ${TABLE} ${c}`),
    `add rule inet ${TABLE} forward iifname ${br} jump from_sandbox`,
    `add rule inet ${TABLE} forward oifname ${br} ct state established,related accept`,
    `add rule inet ${TABLE} forward oifname ${br} drop`,
    // Members of one group reach each other (bridged traffic passes here too where br_netfilter is loaded).
    `add rule inet ${TABLE} from_sandbox ip saddr . ip daddr @group_addrs accept`,
    ...denyRules(cfg),
    `add rule inet ${TABLE} from_sandbox ip saddr vmap @egress`,
    `add rule inet ${TABLE} from_sandbox drop`,
    `add rule inet ${TABLE} input iifname ${br} jump to_host`,
    `add rule inet ${TABLE} to_host ct state established,related accept`,
    `add rule inet ${TABLE} to_host ip daddr ${cfg.gateway} meta l4proto { tcp, udp } th dport 53 accept`,
    `add rule inet ${TABLE} to_host drop`,
    `add rule inet ${TABLE} postrouting ip saddr ${cfg.pool} oifname != ${br} masquerade`,
    `add table bridge ${TABLE}`,
    `add set bridge ${TABLE} ports { type ifname . ipv4_addr; }`,
    `add set bridge ${TABLE} group_ports { type ifname . ifname; }`,
    `add chain bridge ${TABLE} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain bridge ${TABLE} input { type filter hook input priority filter; policy accept; }`,
    `flush chain bridge ${TABLE} forward`,
    `flush chain bridge ${TABLE} input`,
    `add rule bridge ${TABLE} forward iifname . oifname @group_ports accept`,
    `add rule bridge ${TABLE} forward iifname ${PORTS} drop`,
    `add rule bridge ${TABLE} input iifname ${PORTS} ether type ip iifname . ip saddr != @ports drop`,
    `add rule bridge ${TABLE} input iifname ${PORTS} ether type arp iifname . arp saddr ip != @ports drop`,
    `add rule bridge ${TABLE} input iifname ${PORTS} ether type ip6 drop`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The accept rules (matches and verdict) of a policy: everything, nothing, or one per allow-list entry. */
function acceptRules(egress: ResolvedEgress): string[] {
  if (egress === 'all') return ['accept'];
  if (egress === 'none') return [];
  return egress.map((r) => (r.port === null ? `ip daddr ${r.cidr} accept` : `ip daddr ${r.cidr} meta l4proto { tcp, udp } th dport ${r.port} accept`));
}

/** The rules of a sandbox's chain for its policy (the chain flushed first). */
function policyRules(chain: string, egress: ResolvedEgress): string[] {
  const add = (rule: string): string => `add rule inet ${TABLE} ${chain} ${rule}`;
  const lines = [`flush chain inet ${TABLE} ${chain}`];
  if (egress === 'all') return [...lines, add('accept')];
  return [...lines, ...acceptRules(egress).map(add), add('drop')];
}

/** Adds a sandbox: its chain with its policy, its entry in `egress`, its port's address. */
export function addSandboxRules(s: SandboxRuleInput): string {
  const chain = chainName(s.id);
  const lines = [
    `add chain inet ${TABLE} ${chain}`,
    ...policyRules(chain, s.egress),
    `add element inet ${TABLE} egress { ${s.address} : jump ${chain} }`,
    `add element bridge ${TABLE} ports { ${q(vethName(s.id))} . ${s.address} }`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Replaces a running sandbox's policy (one transaction: no moment without rules). */
export function setSandboxEgress(id: string, egress: ResolvedEgress): string {
  return `${policyRules(chainName(id), egress).join('\n')}\n`;
}

/** `setSandboxEgress` for a sandbox whose chain may be gone (an adopted one): an empty chain is made first, which then drops. */
export function restoreSandboxEgress(id: string, egress: ResolvedEgress): string {
  return `add chain inet ${TABLE} ${chainName(id)}\n${setSandboxEgress(id, egress)}`;
}

/**
 * Widens a sandbox's policy from `none` (its chain holds only its drop: a pooled sandbox's, before
 * it is handed out) to `egress`: the accept rules are put before the drop, and nothing is
 * removed. A commit that removes a rule waits for the kernel's RCU grace period (≈ 15 ms on this
 * kind of machine, against ≈ 3 ms for one that only adds), and this is on a warm create's path.
 * Empty when `egress` is `none` too.
 */
export function widenSandboxEgress(id: string, egress: ResolvedEgress): string {
  const chain = chainName(id);
  // `insert` puts each at the head: before the drop; the order among accepts does not matter.
  return acceptRules(egress)
    .map((r) => `insert rule inet ${TABLE} ${chain} ${r}\n`)
    .join('');
}

/** A member of a network group: its port and address. */
export interface GroupMember {
  veth: string;
  address: string;
}

/**
 * Lets sandbox `me` and each of `members` exchange traffic, both ways: frames between their
 * ports (set `group_ports`) and packets between their addresses (set `group_addrs`, for hosts
 * where bridged traffic also passes the inet hooks) — a named group of one tenant's sandboxes on
 * this node (`op` `add`), or no longer (`delete`, one line each: a member may already be gone).
 */
export function groupPairLines(op: 'add' | 'delete', me: GroupMember, members: GroupMember[]): string[] {
  return members.flatMap((m) => [
    `${op} element bridge ${TABLE} group_ports { ${q(me.veth)} . ${q(m.veth)} }`,
    `${op} element bridge ${TABLE} group_ports { ${q(m.veth)} . ${q(me.veth)} }`,
    `${op} element inet ${TABLE} group_addrs { ${me.address} . ${m.address} }`,
    `${op} element inet ${TABLE} group_addrs { ${m.address} . ${me.address} }`,
  ]);
}

/** Removes what `addSandboxRules` added, each line on its own (`nft` fails a script on the first missing object). */
export function removeSandboxRules(id: string, address: string): string[] {
  return [
    `delete element inet ${TABLE} egress { ${address} }`,
    `delete chain inet ${TABLE} ${chainName(id)}`,
    `delete element bridge ${TABLE} ports { ${q(vethName(id))} . ${address} }`,
  ];
}

/** Removes both tables (the last sandbox of the machine is gone). */
export function removeBaseRules(): string {
  return `delete table inet ${TABLE}\ndelete table bridge ${TABLE}\n`;
}
