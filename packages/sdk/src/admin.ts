/** Nodes (and their agent tokens), API keys, tenants and the audit log. */
import type { Transport } from './http.js';
import type {
  ApiKey,
  AuditEntry,
  CreateApiKeyRequest,
  CreateTenantRequest,
  CreatedApiKey,
  CreatedNodeToken,
  ListOptions,
  Node,
  NodeToken,
  Page,
  PoolList,
  PatchTenantRequest,
  Tenant,
} from './types.js';

/** Agent tokens bound to one node (admins of the bootstrap tenant). */
export class NodeTokens {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates a token for `nodeId`; the returned `secret` (`tt_node_…`) is shown this once. An agent
   * presenting it may only connect as that node.
   */
  async create(nodeId: string): Promise<CreatedNodeToken> {
    return this.transport.json('POST', '/v1/nodes/tokens', { body: { nodeId } });
  }

  /** Every node token (never a secret), newest first, revoked ones too. */
  async list(): Promise<NodeToken[]> {
    return (await this.transport.json<{ items: NodeToken[] }>('GET', '/v1/nodes/tokens')).items;
  }

  /** Revokes a token: the agent using it is disconnected and cannot connect with it again. */
  async revoke(id: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/nodes/tokens/${encodeURIComponent(id)}`);
  }
}

/** Nodes API. */
export class Nodes {
  /** The nodes' agent tokens. */
  readonly tokens: NodeTokens;

  constructor(private readonly transport: Transport) {
    this.tokens = new NodeTokens(transport);
  }

  /** Every node with its capacity, usage and liveness. */
  async list(): Promise<Node[]> {
    return (await this.transport.json<{ items: Node[] }>('GET', '/v1/nodes')).items;
  }

  /** Places no new work on node `id`; what runs there goes on. */
  cordon(id: string): Promise<Node> {
    return this.transport.json('POST', `/v1/nodes/${encodeURIComponent(id)}/cordon`);
  }

  /** Cordons node `id` and moves deployments' replicas off it; other work finishes there. */
  drain(id: string): Promise<Node> {
    return this.transport.json('POST', `/v1/nodes/${encodeURIComponent(id)}/drain`);
  }

  /**
   * The nodes' warm pools (admins of the bootstrap tenant): each one's size, the forecast of the
   * interval under way with its 90 % interval, and the creates of the last `intervals` intervals
   * (default 12), newest first.
   */
  pools(options: { intervals?: number } = {}): Promise<PoolList> {
    const q = options.intervals === undefined ? '' : `?intervals=${encodeURIComponent(String(options.intervals))}`;
    return this.transport.json('GET', `/v1/pools${q}`);
  }

  /** Places work on node `id` again. */
  uncordon(id: string): Promise<Node> {
    return this.transport.json('POST', `/v1/nodes/${encodeURIComponent(id)}/uncordon`);
  }
}

/** API keys API. */
export class ApiKeys {
  constructor(private readonly transport: Transport) {}

  /** Creates a key; the returned `secret` is shown this once. */
  async create(request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    return this.transport.json('POST', '/v1/api-keys', { body: request });
  }

  /** The keys of the caller's tenant. */
  async list(): Promise<ApiKey[]> {
    return (await this.transport.json<{ items: ApiKey[] }>('GET', '/v1/api-keys')).items;
  }

  /** Revokes a key; calls with it fail from now on. */
  async revoke(id: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
  }
}

/** Tenants API (admins of the bootstrap tenant). */
export class Tenants {
  constructor(private readonly transport: Transport) {}

  /** Every tenant. */
  async list(): Promise<Tenant[]> {
    return (await this.transport.json<{ items: Tenant[] }>('GET', '/v1/tenants')).items;
  }

  /** Creates a tenant (quotas default to 1000 queued runs and 50 sandboxes; snapshots to the server's `maxSnapshotBytes`). */
  async create(request: CreateTenantRequest): Promise<Tenant> {
    return this.transport.json('POST', '/v1/tenants', { body: request });
  }

  /** One tenant. */
  async get(id: string): Promise<Tenant> {
    return this.transport.json('GET', `/v1/tenants/${encodeURIComponent(id)}`);
  }

  /** Changes a tenant's name or quotas. */
  async update(id: string, patch: PatchTenantRequest): Promise<Tenant> {
    return this.transport.json('PATCH', `/v1/tenants/${encodeURIComponent(id)}`, { body: patch });
  }
}

/** Audit log API. */
export class Audit {
  constructor(private readonly transport: Transport) {}

  /** One page of the audit log, newest first. */
  async list(options: ListOptions = {}): Promise<Page<AuditEntry>> {
    return this.transport.json('GET', '/v1/audit', { query: { ...options } });
  }
}
