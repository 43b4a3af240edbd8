/**
 * First-start bootstrap of a data directory: the bootstrap tenant and an admin key, whose secret
 * is written once to `<dataDir>/admin-key` (mode 0600) and returned so the CLI can print it.
 */
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
