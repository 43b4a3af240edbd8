/** Templates, nodes, API keys, tenants and the audit log. */
import type { Transport } from './http.js';
import { InternalError, errorFromEvent } from './errors.js';
import { readSse } from './sse.js';
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
  Template,
  TemplateProgress,
  Tenant,
} from './types.js';

/** Templates API. */
export class Templates {
  constructor(private readonly transport: Transport) {}

  /** Every template and whether it is built. */
  async list(): Promise<Template[]> {
    return (await this.transport.json<{ items: Template[] }>('GET', '/v1/templates')).items;
  }

  /**
   * Builds (or rebuilds) a template, reporting progress as it goes; resolves with the built
   * template. A failed build rejects with the server's typed error.
   */
  async build(
    name: string,
    options: { onProgress?: (p: TemplateProgress) => void; signal?: AbortSignal } = {},
  ): Promise<Template> {
    const res = await this.transport.send(
      'POST',
      `/v1/templates/${encodeURIComponent(name)}/build`,
      {
        headers: { accept: 'text/event-stream' },
        signal: options.signal,
      },
    );
    if (!res.body) throw new InternalError('template build: the server sent an empty stream');
    for await (const ev of readSse(res.body)) {
      if (ev.event === 'progress') options.onProgress?.(ev.data as TemplateProgress);
      else if (ev.event === 'done') return ev.data as Template;
      else if (ev.event === 'error') throw errorFromEvent(ev.data, `template build of ${name}`);
    }
    throw new InternalError(`template build of ${name}: the stream ended without a result`);
  }
}

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
