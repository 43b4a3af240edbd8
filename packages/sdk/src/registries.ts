/** Registries API: the tenant's credentials for private image registries. */
import type { Transport } from './http.js';
import type { RegistryCredential } from './types.js';

/** Registries API. */
export class Registries {
  constructor(private readonly transport: Transport) {}

  /**
   * Stores (or replaces) the tenant's login for `registry` (`host[:port]` as image references
   * name it: `ghcr.io`, `docker.io`, `127.0.0.1:5000`). Needs an admin key. The password is
   * never returned by the API.
   */
  async setCredentials(
    registry: string,
    login: { username: string; password: string },
  ): Promise<RegistryCredential> {
    return this.transport.json(
      'PUT',
      `/v1/registries/${encodeURIComponent(registry)}/credentials`,
      {
        body: login,
      },
    );
  }

  /** The registries the tenant stored credentials for, with usernames (never passwords). */
  async list(): Promise<RegistryCredential[]> {
    return (await this.transport.json<{ items: RegistryCredential[] }>('GET', '/v1/registries'))
      .items;
  }

  /** Removes the tenant's login for `registry`; `NotFoundError` if it stored none. */
  async deleteCredentials(registry: string): Promise<void> {
    await this.transport.send(
      'DELETE',
      `/v1/registries/${encodeURIComponent(registry)}/credentials`,
    );
  }
}
