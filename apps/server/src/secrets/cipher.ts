/**
 * Sealing of tenants' secrets at rest: AES-256-GCM (node:crypto) with a random 96-bit IV per value
 * and the secret's `tenant/name` as additional data, so a sealed value copied to another row (or
 * another tenant) does not open. The key is the SHA-256 of the server's `secretKey`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { InternalError } from '@tartarus/core';

const VERSION = 'v1';

/** Seals and opens values with one key. */
export class SecretCipher {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = createHash('sha256').update(secretKey, 'utf8').digest();
  }

  /** `v1.<base64url(iv | ciphertext | tag)>`, bound to `aad`. */
  seal(value: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(value, 'utf8'), c.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url')}`;
  }

  /** The value sealed with `aad`; InternalError when it was sealed with another key or tampered with. */
  open(sealed: string, aad: string): string {
    const [version, data] = sealed.split('.', 2);
    const raw = Buffer.from(data ?? '', 'base64url');
    if (version !== VERSION || raw.length < 28) throw new InternalError('a stored secret is not in a known format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
    } catch (err) {
      throw new InternalError('a stored secret does not open with this server\'s secretKey (was the key changed?)', { cause: err });
    }
  }
}
