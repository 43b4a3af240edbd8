/**
 * The network side of admission: a tenant's network settings and the named policy a request
 * refers to, looked up for compile (`NetworkContext`); and a tenant's network policies, checked
 * against its `maxEgress` when created.
 */
import {
  checkEgressWithin,
  InvalidArgumentError,
  NotFoundError,
  type NetworkContext,
} from '@tartarus/core';
import type { CreateNetworkPolicyOptions, NetworkPolicy, Store, Tenant } from '../store/index.js';

/** What compile needs for `tenant`'s request naming `networkPolicy` (if any); 400 for a name the tenant does not have. */
export async function networkContext(
  store: Store,
  tenant: Tenant,
  networkPolicy: string | undefined,
): Promise<NetworkContext> {
  const ctx: NetworkContext = { tenant };
  if (networkPolicy === undefined) return ctx;
  try {
    const p = await store.networkPolicies.get(tenant.id, networkPolicy);
    return { ...ctx, policy: { name: p.name, egress: p.egress } };
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new InvalidArgumentError(
      `networkPolicy ${JSON.stringify(networkPolicy)} does not exist: create it (POST /v1/network-policies), name another, or give egress instead`,
      { context: { field: 'networkPolicy' } },
    );
  }
}

/** Creates a tenant's network policy; 400 when it allows more than the tenant's `maxEgress`. */
export async function createNetworkPolicy(
  store: Store,
  tenantId: string,
  options: CreateNetworkPolicyOptions,
): Promise<NetworkPolicy> {
  const tenant = await store.tenants.get(tenantId);
  checkEgressWithin(
    options.egress,
    tenant.maxEgress,
    `network policy ${JSON.stringify(options.name)}`,
  );
  return store.networkPolicies.create(tenantId, options);
}
