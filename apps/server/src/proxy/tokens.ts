/**
 * Sandbox access tokens: what lets a browser or a client without the API key reach one sandbox's
 * ports through the proxy, until it expires. `<sandboxId>.<expiresAtMs>.<HMAC-SHA256 of both>`
 * under the server's `tokenSecret` (base64url); checked in constant time. No state: any replica
 * with the same secret accepts it, and it cannot be revoked before it expires (keep lifetimes short).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Lifetime when none is asked: 1 hour. */
export const DEFAULT_TOKEN_TTL_MS = 3_600_000;

/** Signs and checks tokens with one secret. */
export class AccessTokens {
  private readonly key: Buffer;

  constructor(secret: string | null) {
    this.key = secret === null ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** A token for `sandboxId` valid until `expiresAtMs`. */
  mint(sandboxId: string, expiresAtMs: number): string {
    const body = `${sandboxId}.${expiresAtMs}`;
    return `${body}.${this.mac(body)}`;
  }

  /** True when `token` is a valid, unexpired token for `sandboxId`. */
  verify(token: string, sandboxId: string, nowMs = Date.now()): boolean {
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const [id = '', exp = '', mac = ''] = parts;
    const expected = Buffer.from(this.mac(`${id}.${exp}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return id === sandboxId && /^\d+$/.test(exp) && Number(exp) > nowMs;
  }
}
