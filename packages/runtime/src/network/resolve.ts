/**
 * Turning an egress policy into rules: allow-list entries that name hosts are resolved (A
 * records, through the same resolvers the sandboxes' DNS is forwarded to) when the sandbox
 * starts, and again every `refreshMs` while it runs (network/sandbox.ts replaces its chain when
 * an answer changed). A name that does not resolve allows nothing until it does.
 */
import { Resolver } from 'node:dns/promises';
import { parseEgressRules, type Egress } from '@tartarus/core';
import type { ResolvedEgress, ResolvedRule } from './rules.js';

/** How long one lookup may take, ms. */
const LOOKUP_TIMEOUT_MS = 2000;

/** Resolves policies; remembers the last answers to tell when they change. */
export class EgressResolver {
  private readonly resolver: Resolver;
  private readonly last = new Map<string, string>();

  constructor(
    upstream: string[],
    /** How often names are resolved again while a sandbox runs, ms. */
    readonly refreshMs = 60_000,
  ) {
    this.resolver = new Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
    if (upstream.length > 0) this.resolver.setServers(upstream);
  }

  /** True when the list names a host. */
  hasNames(egress: string[]): boolean {
    return parseEgressRules(egress).some((r) => r.kind === 'name');
  }

  async resolve(egress: Egress): Promise<ResolvedEgress> {
    if (egress === 'all' || egress === 'none') return egress;
    const out: ResolvedRule[] = [];
    for (const rule of parseEgressRules(egress)) {
      if (rule.kind === 'cidr') {
        out.push({ cidr: rule.cidr, port: rule.port });
        continue;
      }
      const addresses = await this.lookup(rule.name);
      for (const a of addresses) out.push({ cidr: `${a}/32`, port: rule.port });
    }
    return out;
  }

  /** True when a name of the list now resolves differently than at the last `resolve`. */
  async changed(egress: Egress): Promise<boolean> {
    if (!Array.isArray(egress)) return false;
    for (const rule of parseEgressRules(egress)) {
      if (rule.kind !== 'name') continue;
      const before = this.last.get(rule.name);
      const now = (await this.query(rule.name)).join(',');
      if (now !== before) return true;
    }
    return false;
  }

  private async lookup(name: string): Promise<string[]> {
    const found = await this.query(name);
    this.last.set(name, found.join(','));
    return found;
  }

  private async query(name: string): Promise<string[]> {
    return this.resolver.resolve4(name).then(
      (a) => [...a].sort(),
      () => [],
    );
  }
}
