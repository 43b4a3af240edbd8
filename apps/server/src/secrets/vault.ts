/**
 * Tenants' secrets: stored sealed (`cipher.ts`), listed by name, revealed only inside the server
 * (to integrations, webhook signing and deployments' `$S:name`). Without a `secretKey` the server
 * keeps no secrets, and says how to configure one.
 */
import { ConflictError } from '@tartarus/core';
import type { ServerConfig } from '../config.js';
import type { SealedSecret } from '../store/secrets.js';
import type { Store } from '../store/index.js';
import { SecretCipher } from './cipher.js';

/** A secret as listed: never its value. */
export type SecretInfo = Omit<SealedSecret, 'sealed'>;

const aad = (tenantId: string, name: string): string => `${tenantId}/${name}`;

/** The secrets of every tenant. */
export class SecretVault {
  private readonly cipher: SecretCipher | null;

  constructor(
    private readonly store: Store,
    config: Pick<ServerConfig, 'secretKey'>,
  ) {
    this.cipher = config.secretKey === null ? null : new SecretCipher(config.secretKey);
  }

  /** Creates or replaces a secret. */
  async put(tenantId: string, name: string, value: string): Promise<SecretInfo> {
    const { sealed: _sealed, ...info } = await this.store.secrets.put(tenantId, name, this.need().seal(value, aad(tenantId, name)));
    return info;
  }

  /** The tenant's secrets by name. */
  async list(tenantId: string): Promise<SecretInfo[]> {
    return (await this.store.secrets.list(tenantId)).map(({ sealed: _sealed, ...info }) => info);
  }

  /** Removes a secret; NotFoundError when there is none. */
  delete(tenantId: string, name: string): Promise<void> {
    return this.store.secrets.delete(tenantId, name);
  }

  /** The value, for the server's own use only (never an API answer); NotFoundError when there is none. */
  async reveal(tenantId: string, name: string): Promise<string> {
    const s = await this.store.secrets.get(tenantId, name);
    return this.need().open(s.sealed, aad(tenantId, name));
  }

  /** Seals a value of the server's own (a webhook's signing secret) bound to `aad`. */
  seal(value: string, boundTo: string): string {
    return this.need().seal(value, boundTo);
  }

  /** Opens what `seal` sealed with the same `boundTo`. */
  open(sealed: string, boundTo: string): string {
    return this.need().open(sealed, boundTo);
  }

  private need(): SecretCipher {
    if (this.cipher === null)
      throw new ConflictError('this server keeps no secrets: it has no secretKey (set --secret-key or TARTARUS_SECRET_KEY, the same on every replica; `tartarus up` makes one in its data dir)');
    return this.cipher;
  }
}
