/**
 * Egress policies: what a sandbox may reach on the network. Shared by the API (validation, one
 * 400 naming the entry), the compiled spec and the runtime (which turns a policy into nftables
 * rules, drivers' network code). Pure.
 *
 * A policy is `none` (loopback only: the sandbox gets no interface), `all` (anything but what is
 * always denied), or an allow list whose entries are
 * - an IPv4 address or CIDR: `10.1.2.3`, `10.1.0.0/16`;
 * - either with a TCP/UDP port: `10.1.2.3:443`, `10.1.0.0/16:5432`;
 * - a DNS name, with or without a port: `pypi.org`, `files.pythonhosted.org:443` (resolved by the
 *   node when the sandbox starts and refreshed while it runs).
 * Whatever the policy, link-local and metadata addresses, the node's own addresses, the control
 * plane and other sandboxes are denied (enforced by the runtime, not expressible here).
 */
import { z } from 'zod';

/** One allow-list entry, parsed. */
export type EgressRule = { kind: 'cidr'; cidr: string; port: number | null } | { kind: 'name'; name: string; port: number | null };

/** An egress policy as requested and stored. */
export type Egress = 'none' | 'all' | string[];

/** Most entries in one allow list. */
export const MAX_EGRESS_RULES = 256;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses an IPv4 address to its 32-bit value, or undefined. */
export function ipv4ToInt(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/** The dotted form of a 32-bit IPv4 value. */
export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/n` (or a bare address, /32) to its network base and prefix; throws a message naming what is wrong. */
export function parseCidr(text: string): { base: number; prefix: number } {
  const [addr = '', bits, extra] = text.split('/');
  if (extra !== undefined) throw new Error(`${JSON.stringify(text)} has more than one "/"`);
  const base = ipv4ToInt(addr);
  if (base === undefined) throw new Error(`${JSON.stringify(addr)} is not an IPv4 address (a.b.c.d, each 0..255)`);
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= 32)) throw new Error(`${JSON.stringify(text)} has a bad prefix length: give /0../32`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) throw new Error(`${JSON.stringify(text)} has host bits set: write ${intToIpv4((base & mask) >>> 0)}/${prefix}`);
  return { base, prefix };
}

function parsePort(text: string, entry: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`${JSON.stringify(entry)} has a bad port: give 1..65535`);
  return port;
}

/** Parses one allow-list entry; throws an Error whose message says what to write instead. */
export function parseEgressRule(entry: string): EgressRule {
  if (entry.includes('[') || entry.split(':').length > 2) {
    throw new Error(`${JSON.stringify(entry)}: IPv6 egress rules are not supported; give an IPv4 address, CIDR or DNS name`);
  }
  const [host = '', portText] = entry.split(':');
  const port = portText === undefined ? null : parsePort(portText, entry);
  if (/^[\d./]+$/.test(host)) {
    const { base, prefix } = parseCidr(host);
    return { kind: 'cidr', cidr: `${intToIpv4(base)}/${prefix}`, port };
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!NAME.test(name)) throw new Error(`${JSON.stringify(entry)} is neither an IPv4 address, a CIDR nor a DNS name`);
  return { kind: 'name', name, port };
}

/** Parses an allow list (already shape-checked); throws naming the first bad entry. */
export function parseEgressRules(entries: readonly string[]): EgressRule[] {
  return entries.map((e) => parseEgressRule(e));
}

/** `egress` in requests and specs: `none`, `all`, or an allow list of 1..256 entries. */
export const EgressSchema = z
  .union(
    [
      z.literal('none'),
      z.literal('all'),
      z
        .array(z.string().max(260, 'an egress entry is at most 260 characters'))
        .min(1, 'egress lists no destination: give at least one, or "none" or "all"')
        .max(MAX_EGRESS_RULES, `egress lists more than ${MAX_EGRESS_RULES} destinations: use CIDRs that cover several`),
    ],
    {
      error: `egress must be "none", "all", or a list of 1..${MAX_EGRESS_RULES} allowed destinations (IPv4, CIDR or DNS name, each with an optional :port)`,
    },
  )
  .superRefine((value, ctx) => {
    if (!Array.isArray(value)) return;
    for (const entry of value) {
      try {
        parseEgressRule(entry);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `egress entry ${(err as Error).message}` });
        return;
      }
    }
  })
  .meta({ id: 'Egress' });
