/**
 * The destination rules of the server's own outbound HTTP (integrations' API calls): only http(s),
 * and every address the host resolves to must be a public unicast one — never loopback, private,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast or unspecified, so a
 * tenant's config cannot make the server reach the host, the control plane or the sandboxes'
 * network — unless it is in `webhookAllowedDestinations` (receivers on the server's own network).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidArgumentError, ipv4ToInt, parseCidr } from '@tartarus/core';

/** IPv4 ranges no outbound call may reach by default. */
const DENIED_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'].map(parseCidr);

function inCidr(ip: number, c: { base: number; prefix: number }): boolean {
  const mask = c.prefix === 0 ? 0 : (~0 << (32 - c.prefix)) >>> 0;
  return ((ip & mask) >>> 0) === ((c.base & mask) >>> 0);
}

/** Why `address` may not be reached (undefined when it may). */
export function deniedAddress(address: string, allowed: readonly string[]): string | undefined {
  if (isIP(address) === 6) {
    const a = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return deniedAddress(mapped[1] ?? '', allowed);
    if (a === '::' || a === '::1' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || a.startsWith('ff')) return `${address} is a loopback, private, link-local or multicast IPv6 address`;
    return undefined;
  }
  const ip = ipv4ToInt(address);
  if (ip === undefined) return `${address} is not an IP address`;
  if (allowed.some((c) => inCidr(ip, parseCidr(c)))) return undefined;
  return DENIED_V4.some((c) => inCidr(ip, c)) ? `${address} is a loopback, private, link-local or reserved address (allow it with webhookAllowedDestinations)` : undefined;
}

/** Throws InvalidArgumentError naming the rule when `url` may not be called. */
export async function checkDestination(url: URL, allowed: readonly string[]): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`${url.href}: only http and https destinations are called`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw new InvalidArgumentError(`${url.host} does not resolve`);
  for (const a of addresses) {
    const why = deniedAddress(a, allowed);
    if (why !== undefined) throw new InvalidArgumentError(`${url.host} is refused: ${why}`);
  }
}
