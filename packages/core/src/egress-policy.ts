/**
 * What a tenant's `maxEgress` allows, and which runtimes can give work a network at all. Pure:
 * compile (admission), the tenants' settings and `PUT /v1/sandboxes/:id/egress` all ask here.
 *
 * Coverage, entry by entry (`none` is within every maximum, `all` only within `all`):
 * - an address or CIDR entry is covered by a maximum's CIDR that contains it, on the same port or
 *   on every port (a maximum's entry without a port covers each port; an entry without a port
 *   needs one without a port);
 * - a DNS name is covered only by the same name, with a compatible port as above: what a name
 *   resolves to changes, so no CIDR of the maximum can vouch for it.
 */
import { InvalidArgumentError } from './errors.js';
import { parseCidr, parseEgressRule, type Egress, type EgressRule } from './network.js';

/** A tenant's network settings; null fields take the platform's (see `WORKLOAD_DEFAULTS`). */
export interface TenantNetworkPolicy {
  /** Egress of a sandbox that asks for none; null: `WORKLOAD_DEFAULTS.sandboxEgress` (within `maxEgress`). */
  defaultSandboxEgress: Egress | null;
  /** Egress of a run that asks for none; null: `WORKLOAD_DEFAULTS.runEgress`. */
  defaultRunEgress: Egress | null;
  /** The most any of the tenant's work may reach; null: no maximum (`all`). */
  maxEgress: Egress | null;
}

function ruleCovers(max: EgressRule, want: EgressRule): boolean {
  if (max.port !== null && max.port !== want.port) return false;
  if (want.kind === 'name') return max.kind === 'name' && max.name === want.name;
  if (max.kind === 'name') return false;
  const m = parseCidr(max.cidr);
  const w = parseCidr(want.cidr);
  if (w.prefix < m.prefix) return false;
  const mask = m.prefix === 0 ? 0 : (0xffffffff << (32 - m.prefix)) >>> 0;
  return (w.base & mask) >>> 0 === m.base;
}

/**
 * The first part of `want` that `max` does not allow (`all`, or an entry as given), or null when
 * `max` covers all of it. Both are valid policies (checked by `EgressSchema`).
 */
export function egressNotCovered(max: Egress, want: Egress): string | null {
  if (max === 'all' || want === 'none') return null;
  if (want === 'all') return 'all';
  const allowed = max === 'none' ? [] : max.map((e) => parseEgressRule(e));
  return want.find((e) => !allowed.some((m) => ruleCovers(m, parseEgressRule(e)))) ?? null;
}

/** Whether `max` allows all of `want`. */
export function egressCovers(max: Egress, want: Egress): boolean {
  return egressNotCovered(max, want) === null;
}

function describe(egress: Egress): string {
  return Array.isArray(egress) ? JSON.stringify(egress) : `"${egress}"`;
}

/**
 * Throws `InvalidArgumentError` (400) naming the entry when `egress` (asked for as `what`, e.g.
 * `egress` or `network policy "pypi"`) is more than the tenant's `maxEgress` allows.
 */
export function checkEgressWithin(egress: Egress, maxEgress: Egress | null, what = 'egress'): void {
  if (maxEgress === null) return;
  const over = egressNotCovered(maxEgress, egress);
  if (over === null) return;
  const part = over === 'all' ? `${what} "all"` : `${what} entry ${JSON.stringify(over)}`;
  const hint =
    maxEgress === 'none'
      ? 'this tenant may not reach the network: give egress "none"'
      : `ask only for destinations inside it (a CIDR within one of its CIDRs, a name it lists, on a port it allows)`;
  throw new InvalidArgumentError(
    `${part} is more than this tenant's maxEgress ${describe(maxEgress)} allows: ${hint}`,
    {
      context: { field: 'egress', entry: over, maxEgress },
    },
  );
}

/** Throws `InvalidArgumentError` when a tenant's default is more than its own maximum allows. */
export function checkTenantNetworkPolicy(p: TenantNetworkPolicy): void {
  if (p.maxEgress === null) return;
  for (const [name, value] of [
    ['defaultSandboxEgress', p.defaultSandboxEgress],
    ['defaultRunEgress', p.defaultRunEgress],
  ] as const) {
    if (value === null) continue;
    const over = egressNotCovered(p.maxEgress, value);
    if (over !== null)
      throw new InvalidArgumentError(
        `${name} ${describe(value)} is more than maxEgress ${describe(p.maxEgress)} allows (${over === 'all' ? '"all"' : `entry ${JSON.stringify(over)}`}): lower the default or raise the maximum in the same request`,
        { context: { field: name, maxEgress: p.maxEgress } },
      );
  }
}

/**
 * The egress of work that asked for none: the tenant's default, else the platform's — cut down to
 * the tenant's maximum when the platform's is more (a tenant limited to a list gets that list).
 */
export function defaultEgress(
  platform: Egress,
  tenantDefault: Egress | null,
  maxEgress: Egress | null,
): Egress {
  if (tenantDefault !== null) return tenantDefault;
  if (maxEgress === null || egressCovers(maxEgress, platform)) return platform;
  return maxEgress;
}
