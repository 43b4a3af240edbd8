/**
 * Where the server's own outbound HTTP (webhook deliveries) may go. The server sits inside the
 * platform's network — next to its database, the nodes' agents, the sandboxes' bridge and the
 * cloud's metadata service — so a tenant's URL must not turn it into a proxy into that network
 * (SSRF). The networking issue's rules (no metadata, no host, no control plane) therefore become,
 * seen from the server: only **public unicast** addresses, never
 *
 * - unspecified (`0.0.0.0/8`, `::`), loopback (`127.0.0.0/8`, `::1`), this host's own addresses
 *   (every interface's, and the address the server listens on);
 * - link-local (`169.254.0.0/16`, `fe80::/10`: cloud metadata at 169.254.169.254);
 * - private (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`: the control plane, the sandboxes' pool,
 *   AWS's IPv6 metadata fd00:ec2::254) and carrier-grade NAT (`100.64.0.0/10`: Alibaba's
 *   metadata at 100.100.100.200);
 * - multicast and reserved space (`224.0.0.0/4`, `240.0.0.0/4` with broadcast, `ff00::/8`, …).
 *
 * IPv4 inside IPv6 (`::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is judged as the IPv4 address.
 * `webhookAllowedDestinations` (IPv4 CIDRs) lets an operator open a range on purpose (a receiver on
 * the server's own network; the tests' loopback receiver); nothing else bypasses the rules.
 *
 * The rules are applied to every address a name resolves to, at delivery time, inside the lookup
 * of the connection itself (`guardedLookup`): the address checked is the address connected to, so
 * a name that changes its answer between a check and the connect (DNS rebinding) gains nothing. A
 * name with any refused address is refused as a whole.
 */
import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { InvalidArgumentError } from '@tartarus/core';

/** The rule that refuses an address. */
export type DestinationRule = 'unspecified' | 'loopback' | 'this-host' | 'link-local' | 'private' | 'shared' | 'multicast' | 'reserved';

/** Why an address is refused. */
export interface Refusal {
  rule: DestinationRule;
  /** `169.254.169.254 is link-local, …`: says what the rule is. */
  message: string;
}

interface Rule {
  rule: DestinationRule;
  v4: string[];
  v6: string[];
  why: string;
}

const RULES: Rule[] = [
  { rule: 'unspecified', v4: ['0.0.0.0/8'], v6: ['::/128'], why: 'unspecified ("this network")' },
  { rule: 'loopback', v4: ['127.0.0.0/8'], v6: ['::1/128'], why: 'loopback (the server itself)' },
  { rule: 'link-local', v4: ['169.254.0.0/16'], v6: ['fe80::/10'], why: 'link-local (where cloud metadata services answer, 169.254.169.254)' },
  { rule: 'private', v4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], v6: ['fc00::/7', 'fec0::/10'], why: "private (the platform's own network: control plane, nodes, sandboxes)" },
  { rule: 'shared', v4: ['100.64.0.0/10'], v6: [], why: 'carrier-grade NAT space (cloud metadata such as 100.100.100.200)' },
  { rule: 'multicast', v4: ['224.0.0.0/4'], v6: ['ff00::/8'], why: 'multicast' },
  { rule: 'reserved', v4: ['240.0.0.0/4', '192.0.0.0/24', '198.18.0.0/15'], v6: ['100::/64', '2001:db8::/32'], why: 'reserved, not a public unicast address' },
];

function subnetList(entries: string[], type: 'ipv4' | 'ipv6', into = new BlockList()): BlockList {
  for (const e of entries) {
    const [net = '', bits = type === 'ipv4' ? '32' : '128'] = e.split('/');
    into.addSubnet(net, Number(bits), type);
  }
  return into;
}

const COMPILED = RULES.map((r) => ({ ...r, list: subnetList(r.v6, 'ipv6', subnetList(r.v4, 'ipv4')) }));

/** The eight 16-bit groups of an IPv6 address (`isIP` says it is one). */
function ipv6Groups(text: string): number[] {
  let t = text.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    t = `${t.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - h.length - tl.length;
  return [...h, ...Array<string>(zeros).fill('0'), ...tl].map((g) => parseInt(g, 16));
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped, NAT64 well-known prefix), or undefined. */
export function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const g = ipv6Groups(address);
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return undefined;
  const [hi = 0, lo = 0] = g.slice(6);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** What the rules are applied with. */
export interface DestinationPolicy {
  /** `webhookAllowedDestinations`: IPv4 CIDRs allowed despite the rules. */
  allowed: readonly string[];
  /** The server's listen address (`host` of its config), refused like its interfaces' addresses. */
  listenHost: string;
}

/** This host's addresses: every interface's, and the listen address when it is one. */
function ownAddresses(listenHost: string): BlockList {
  const own = new BlockList();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) own.addAddress(a.address.replace(/%.*$/, ''), a.family === 'IPv6' ? 'ipv6' : 'ipv4');
  const host = listenHost.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) own.addAddress(host, isIP(host) === 6 ? 'ipv6' : 'ipv4');
  return own;
}

const hint = 'webhooks may reach only public addresses (an operator can allow a range with webhookAllowedDestinations)';

/** Why `address` (an IP address) may not be reached under `policy`, or null when it may. */
export function refusal(address: string, policy: DestinationPolicy): Refusal | null {
  const family = isIP(address);
  if (family === 0) return { rule: 'reserved', message: `${address} is not an IP address` };
  const inner = embeddedIpv4(address);
  const judged = inner ?? address;
  const type = isIP(judged) === 6 ? 'ipv6' : 'ipv4';
  if (type === 'ipv4' && policy.allowed.length > 0 && subnetList([...policy.allowed], 'ipv4').check(judged, 'ipv4')) return null;
  const shown = inner === undefined ? address : `${address} (${inner})`;
  for (const r of COMPILED) if (r.list.check(judged, type)) return { rule: r.rule, message: `${shown} is ${r.why}: ${hint}` };
  if (ownAddresses(policy.listenHost).check(judged, type)) return { rule: 'this-host', message: `${shown} is an address of the server's own host: ${hint}` };
  return null;
}

/** Thrown (as a connection error) when a destination is refused; `code` is `EDESTREFUSED`. */
export class DestinationRefusedError extends Error {
  readonly code = 'EDESTREFUSED';
  constructor(
    readonly host: string,
    readonly refused: Refusal,
  ) {
    super(`destination ${host} refused: ${refused.message}`);
  }
}

/**
 * A `lookup` for `http.request` that resolves the name and refuses it unless every address is
 * allowed: the connection then goes to an address that was checked.
 */
export function guardedLookup(policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      for (const a of addresses) {
        const why = refusal(a.address, policy);
        if (why !== null) return callback(new DestinationRefusedError(hostname, why), '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Longest a name may take to resolve when a webhook is created, ms. */
const CREATE_LOOKUP_MS = 2000;

/**
 * Refuses (InvalidArgumentError, a 400 naming the rule) a webhook URL whose host is a refused
 * address, `localhost`, or a name resolving now to a refused address. A name that does not
 * resolve now is accepted: it is checked again at every delivery.
 */
export async function checkWebhookUrl(text: string, policy: DestinationPolicy): Promise<void> {
  const url = new URL(text);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const refuse = (why: Refusal): never => {
    throw new InvalidArgumentError(`url host ${url.hostname} is refused (${why.rule}): ${why.message}`, { context: { field: 'url', rule: why.rule } });
  };
  if (isIP(host) !== 0) {
    const why = refusal(host, policy);
    if (why !== null) refuse(why);
    return;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) refuse({ rule: 'loopback', message: `${host} is loopback (the server itself): ${hint}` });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<[]>((resolve) => (timer = setTimeout(() => resolve([]), CREATE_LOOKUP_MS)));
  const found = await Promise.race([dnsLookupAsync(host, { all: true }).catch(() => []), timeout]).finally(() => clearTimeout(timer));
  for (const a of found) {
    const why = refusal(a.address, policy);
    if (why !== null) refuse({ rule: why.rule, message: `${host} resolves to ${why.message}` });
  }
}
