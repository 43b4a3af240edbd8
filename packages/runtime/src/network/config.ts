/**
 * The node's sandbox network: one host bridge, an IPv4 pool its sandboxes' addresses come from
 * (the bridge holds the pool's first address as every sandbox's gateway and DNS server), the
 * resolvers DNS is forwarded to, and destinations always denied on top of the built-in ones.
 * One per machine: every Runtime on it must agree (it is read from the environment by default).
 */
import { readFileSync } from 'node:fs';
import { intToIpv4, parseCidr, parseEgressRule, type EgressRule } from '@tartarus/core';

/** What a Runtime is told about the network (all optional). */
export interface NetworkOptions {
  /** The IPv4 pool, a CIDR of /8../28. Default `$TARTARUS_NET_POOL` or 10.89.0.0/16. */
  pool?: string;
  /** The host bridge's name (≤ 15 chars). Default `$TARTARUS_NET_BRIDGE` or `tt0`. */
  bridge?: string;
  /** Resolvers DNS queries are forwarded to (`a.b.c.d` or `a.b.c.d:port`). Default: the host's /etc/resolv.conf. */
  dnsUpstream?: string[];
  /** More destinations no sandbox may reach, whatever its policy (IPv4/CIDR, optional :port): the control plane's. */
  deny?: string[];
  /** How often names in running sandboxes' allow lists are resolved again, ms (≥ 100). Default 60 000. */
  nameRefreshMs?: number;
}

/** The resolved configuration. */
export interface NetworkConfig {
  bridge: string;
  /** The pool as `a.b.c.d/n`. */
  pool: string;
  poolBase: number;
  prefix: number;
  /** The bridge's address: each sandbox's gateway and resolver. */
  gateway: string;
  /** Addresses sandboxes can hold (the pool less network, gateway and broadcast). */
  size: number;
  dnsUpstream: string[];
  deny: Extract<EgressRule, { kind: 'cidr' }>[];
  nameRefreshMs: number;
}

/** Always denied, whatever the policy: link-local (cloud metadata lives there), loopback, "this network", multicast and reserved. */
export const ALWAYS_DENIED = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'];

const DEFAULT_POOL = '10.89.0.0/16';
const DEFAULT_BRIDGE = 'tt0';

/** Resolves options (and the environment) to a configuration; throws naming what to change. */
export function networkConfig(options: NetworkOptions = {}, env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const pool = options.pool ?? env.TARTARUS_NET_POOL ?? DEFAULT_POOL;
  let parsed: { base: number; prefix: number };
  try {
    parsed = parseCidr(pool);
  } catch (err) {
    throw new Error(`network pool ${(err as Error).message}`);
  }
  if (parsed.prefix < 8 || parsed.prefix > 28) throw new Error(`network pool ${pool}: give a prefix of /8../28`);
  const bridge = options.bridge ?? env.TARTARUS_NET_BRIDGE ?? DEFAULT_BRIDGE;
  if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/.test(bridge)) throw new Error(`network bridge ${JSON.stringify(bridge)}: give 1..15 letters, digits, "_" or "-"`);
  const deny = (options.deny ?? []).map((d) => {
    const rule = parseEgressRule(d);
    if (rule.kind !== 'cidr') throw new Error(`network deny entry ${JSON.stringify(d)}: give an IPv4 address or CIDR, not a name`);
    return rule;
  });
  const nameRefreshMs = options.nameRefreshMs ?? 60_000;
  if (!Number.isInteger(nameRefreshMs) || nameRefreshMs < 100) throw new Error(`network nameRefreshMs ${nameRefreshMs}: give a whole number of ms, at least 100`);
  return {
    bridge,
    pool: `${intToIpv4(parsed.base)}/${parsed.prefix}`,
    poolBase: parsed.base,
    prefix: parsed.prefix,
    gateway: intToIpv4(parsed.base + 1),
    size: 2 ** (32 - parsed.prefix) - 3,
    dnsUpstream: options.dnsUpstream ?? hostResolvers(),
    deny,
    nameRefreshMs,
  };
}

/** The address of pool slot `slot` (0 is the first after the gateway). */
export function slotAddress(cfg: NetworkConfig, slot: number): string {
  return intToIpv4(cfg.poolBase + 2 + slot);
}

/** The IPv4 nameservers of the host's /etc/resolv.conf (none: no DNS for sandboxes). */
export function hostResolvers(path = '/etc/resolv.conf'): string[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}
