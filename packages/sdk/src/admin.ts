/** Nodes, API keys, tenants and the audit log. */
import type { Transport } from './http.js';
import type {
  ApiKey,
  AuditEntry,
  CreateApiKeyRequest,
  CreateTenantRequest,
  CreatedApiKey,
  ListOptions,
  Node,
  Page,
  PatchTenantRequest,
  Tenant,
} from './types.js';

/** Nodes API. */
export class Nodes {
  constructor(private readonly transport: Transport) {}

  /** Every node with its capacity, usage and liveness. */
  async list(): Promise<Node[]> {
    return (await this.transport.json<{ items: Node[] }>('GET', '/v1/nodes')).items;
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

  /** Creates a tenant (quotas default to 1000 queued runs and 50 sandboxes). */
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
