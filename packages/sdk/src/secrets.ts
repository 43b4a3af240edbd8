/** A tenant's named secrets (for integrations, webhooks and deployments' `$S:name`); values are write-only. */
import type { Transport } from './http.js';
import type { Secret } from './types.js';

/** Secrets API. */
export class Secrets {
  constructor(private readonly transport: Transport) {}

  /** Stores (or replaces) a secret; its value is encrypted at rest and never returned. Needs an admin key. */
  async set(name: string, value: string): Promise<Secret> {
    return this.transport.json('PUT', `/v1/secrets/${encodeURIComponent(name)}`, { body: { value } });
  }

  /** The tenant's secrets by name (never a value). */
  async list(): Promise<Secret[]> {
    return (await this.transport.json<{ items: Secret[] }>('GET', '/v1/secrets')).items;
  }

  /** Removes a secret. */
  async delete(name: string): Promise<void> {
    await this.transport.send('DELETE', `/v1/secrets/${encodeURIComponent(name)}`);
  }
}
