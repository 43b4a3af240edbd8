/**
 * The names the sandboxes' resolver answers itself (dns.ts forwards everything else): a network
 * group's service names (names.ts), asked by a member of that group.
 *
 * - A name of the asking sandbox's group — `<service>` and `<service>.<deployment>.internal` for a
 *   deployment — is answered with the address of one of its listed sandboxes that are members
 *   now, picked at random for each answer, with a TTL of 1 s (a replica that stops taking traffic
 *   drops out of the caches quickly). One, not all of them shuffled: glibc's getaddrinfo sorts a
 *   multi-address answer by RFC 3484 rule 9 (the longest prefix shared with the client's own
 *   address, applied to IPv4 within the client's subnet, where every member is), so each client
 *   would always connect to the same replica, whatever the order sent. Types other than A get an
 *   empty answer (NOERROR, no records: a name that exists without such records), never a
 *   forwarded one that could say NXDOMAIN and fail a lookup of both A and AAAA.
 * - Any other name under `.internal` is NXDOMAIN: it is never sent upstream.
 * - Anything else goes upstream as the bytes the sandbox sent.
 *
 * Queries are decoded with `dns-packet` (see the package README) only when their first question
 * may be ours: a single label or under `.internal`; the groups' tables are read from disk at most
 * once a second, and again at once for an asking address they do not know yet (a new member).
 */
import dnsPacket from 'dns-packet';
import { readNamesSnapshot, type NamesSnapshot } from './names.js';

/** The answers' TTL, s. */
export const SERVICE_NAME_TTL_S = 1;
/** How long a read of the tables is used, ms. */
const SNAPSHOT_MS = 1000;
/** How soon the tables are read again for an address they do not know, ms. */
const UNKNOWN_CLIENT_MS = 100;
/** The suffix of the names answered here and nowhere else. */
const INTERNAL = '.internal';

/** The response codes used here (RFC 1035 4.1.1). */
const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** What became of a query: an answer of ours, or none (forward it). */
export type NameAnswer = Buffer | undefined;

/** Answers the groups' service names; see the file header. */
export class ServiceNameAnswers {
  private snapshot: { at: number; value: NamesSnapshot } | undefined;
  private reading: Promise<NamesSnapshot> | undefined;

  /** Our answer to query `msg` from `client` (an IPv4 address), or undefined: forward it. */
  async answer(msg: Buffer, client: string): Promise<NameAnswer> {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined; // not ours to judge: upstream answers garbage as it sees fit
    }
    const question = query.questions?.[0];
    if (question === undefined || query.type === 'response' || (((query.flags ?? 0) >> 11) & 0xf) !== 0) return undefined;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const internal = name === INTERNAL.slice(1) || name.endsWith(INTERNAL);
    if (!internal && name.includes('.')) return undefined;
    const snap = await this.read(client);
    const group = snap.groupOf.get(client);
    const ids = group === undefined ? undefined : snap.names.get(group)?.get(name);
    if (ids === undefined) return internal ? reply(query, 'NXDOMAIN', []) : undefined;
    if (question.type !== 'A') return reply(query, 'NOERROR', []);
    const members = snap.members.get(group ?? '') ?? new Map<string, string>();
    const addresses = ids.map((id) => members.get(id)).filter((a): a is string => a !== undefined);
    const one = addresses[Math.floor(Math.random() * addresses.length)];
    return reply(query, 'NOERROR', one === undefined ? [] : [one]);
  }

  /** The tables, read again when older than a second (or a tenth of one for an unknown client). */
  private async read(client: string): Promise<NamesSnapshot> {
    const s = this.snapshot;
    const age = s === undefined ? Infinity : Date.now() - s.at;
    if (s !== undefined && (age < UNKNOWN_CLIENT_MS || (age < SNAPSHOT_MS && s.value.groupOf.has(client)))) return s.value;
    this.reading ??= readNamesSnapshot()
      .then((value) => ((this.snapshot = { at: Date.now(), value }), value))
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}

/** A reply to `query`: `rcode` and A records of `addresses` for its first question. */
export function reply(query: dnsPacket.Packet, rcode: keyof typeof RCODES, addresses: string[]): Buffer {
  const question = query.questions?.[0];
  const rd = ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0;
  return dnsPacket.encode({
    id: query.id ?? 0,
    type: 'response',
    // Authoritative for our own names; recursion available (others are forwarded). The encoder
    // takes the rcode from the flags' low 4 bits only.
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | (rd ? dnsPacket.RECURSION_DESIRED : 0) | RCODES[rcode],
    questions: question === undefined ? [] : [question],
    answers: question === undefined ? [] : addresses.map((data) => ({ type: 'A' as const, name: question.name, ttl: SERVICE_NAME_TTL_S, class: 'IN' as const, data })),
  } as dnsPacket.Packet);
}

/** A SERVFAIL for `msg`, when there is nowhere to forward it; undefined when it is not a query. */
export function servfail(msg: Buffer): Buffer | undefined {
  try {
    const query = dnsPacket.decode(msg);
    return query.type === 'response' ? undefined : reply(query, 'SERVFAIL', []);
  } catch {
    return undefined;
  }
}
