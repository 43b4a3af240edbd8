/** Ids the server chooses itself (the runtime needs `[a-z0-9][a-z0-9-]{0,62}`). */
import { randomBytes } from 'node:crypto';

/** A new sandbox id: `sbx-` + 16 base-32 characters. */
export function newSandboxId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `sbx-${[...randomBytes(16)].map((b) => alphabet[b & 31]).join('')}`;
}
