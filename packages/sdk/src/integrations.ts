/** Integrations (GitHub, Slack, plugins): which the server runs, and the tenant's config of each. */
import type { Transport } from './http.js';

/** An integration the server runs. */
export interface IntegrationInfo {
  name: string;
  description: string;
  /** Whether the caller's tenant configured it. */
  configured: boolean;
  /** Its own routes (what to give the provider, e.g. GitHub's webhook URL). */
  routes: string[];
  /** The event types it receives. */
  events: string[];
}

/** Integrations API. */
export class Integrations {
  constructor(private readonly transport: Transport) {}

  /** The integrations this server runs. */
  async list(): Promise<IntegrationInfo[]> {
    return (await this.transport.json<{ items: IntegrationInfo[] }>('GET', '/v1/integrations')).items;
  }

  /** The tenant's config of `name` (secrets appear by name only). */
  async getConfig(name: string): Promise<Record<string, unknown>> {
    return this.transport.json('GET', `/v1/integrations/${encodeURIComponent(name)}/config`);
  }

  /** Sets the tenant's config of `name`; answers it with the defaults filled in. Needs an admin key. */
  async setConfig(name: string, config: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.transport.json('PUT', `/v1/integrations/${encodeURIComponent(name)}/config`, { body: config });
  }

  /** Removes the tenant's config of `name`: the integration stops acting for the tenant. */
  async deleteConfig(name: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/integrations/${encodeURIComponent(name)}/config`);
  }
}
