/**
 * The store's public surface: `openStore(options)` (migrates, then returns a `Store`), the `Store`
 * contract and its record types.
 */
export type * from './types.js';
export type * from './store.js';
export type * from './retention-store.js';
export type { CreateTenantOptions, TenantStore } from './tenants.js';
export { openStore } from './open.js';
export { registryKey } from './registry-credentials.js';
