/**
 * First-start bootstrap of a data directory: the bootstrap tenant and an admin key, whose secret
 * is written once to `<dataDir>/admin-key` (mode 0600) and returned so the CLI can print it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '@tartarus/core';
import { BOOTSTRAP_TENANT_ID } from './http/auth.js';
import type { Store } from './store/index.js';

/** Result of `bootstrap`. */
export interface BootstrapResult {
  /** The admin secret when this start created it; undefined on later starts. */
  createdAdminKey?: string;
  /** The stored admin secret (read back from the file), if present. */
  adminKey?: string;
}

/**
 * The key that seals this data dir's secrets (`<dataDir>/secret-key`, mode 0600), made on first
 * use and never changed: what was sealed with it must keep opening.
 */
export async function dataDirSecretKey(dataDir: string): Promise<string> {
  const file = join(dataDir, 'secret-key');
  const existing = await readFile(file, 'utf8').then((s) => s.trim(), () => '');
  if (existing.length >= 32) return existing;
  const fresh = randomBytes(32).toString('base64url');
  try {
    await writeFile(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch {
    // Another process wrote it meanwhile: that one is the key.
    return (await readFile(file, 'utf8')).trim();
  }
}

/** Ensures the bootstrap tenant and an admin key exist. */
export async function bootstrap(store: Store, dataDir: string): Promise<BootstrapResult> {
  try {
    await store.tenants.get(BOOTSTRAP_TENANT_ID);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await store.tenants.create({ id: BOOTSTRAP_TENANT_ID, name: 'default' });
  }
  const file = join(dataDir, 'admin-key');
  const existing = await readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
  if (existing !== undefined && existing !== '') return { adminKey: existing };
  const { secret } = await store.apiKeys.create(BOOTSTRAP_TENANT_ID, {
    name: 'admin (bootstrap)',
    role: 'admin',
  });
  // `wx`: never overwrite a key another process wrote meanwhile.
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { createdAdminKey: secret, adminKey: secret };
}
