/**
 * Network policies API: the tenant's named egress policies. Give one to a sandbox or run by name
 * (`networkPolicy: 'pypi'`) instead of an `egress`; its egress is resolved when the work is
 * accepted. Creating and deleting one needs an admin key.
 */
import type { Transport } from './http.js';
import type { CreateNetworkPolicyRequest, NetworkPolicy } from './types.js';

/** Network policies API. */
export class NetworkPolicies {
  constructor(private readonly transport: Transport) {}

  /** Creates a policy; `ConflictError` if the name is taken, `InvalidArgumentError` beyond the tenant's `maxEgress`. */
  async create(request: CreateNetworkPolicyRequest): Promise<NetworkPolicy> {
    return this.transport.json('POST', '/v1/network-policies', { body: request });
  }

  /** The tenant's policies, by name. */
  async list(): Promise<NetworkPolicy[]> {
    return (await this.transport.json<{ items: NetworkPolicy[] }>('GET', '/v1/network-policies'))
      .items;
  }

  /** One policy; `NotFoundError` if the tenant has none by that name. */
  async get(name: string): Promise<NetworkPolicy> {
    return this.transport.json('GET', this.path(name));
  }

  /** Deletes a policy (work already accepted keeps its egress); returns it. */
  async delete(name: string): Promise<NetworkPolicy> {
    return this.transport.json('DELETE', this.path(name));
  }

  private path(name: string): string {
    return `/v1/network-policies/${encodeURIComponent(name)}`;
  }
}
