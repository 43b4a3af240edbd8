/**
 * The store's public surface: `openStore(options)` (migrates, then returns a `Store`), the `Store`
 * contract and its record types.
 */
export type * from './types.js';
export type * from './store.js';
export {
  openStore,
  DEFAULT_LOG_CAP_BYTES,
  DEFAULT_QUOTA_RETRY_AFTER_MS,
  DEFAULT_POOL_MAX,
} from './open.js';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF } from './runs.js';
export { DEFAULT_MAX_QUEUED_RUNS, DEFAULT_MAX_CONCURRENT_SANDBOXES } from './tenants.js';
export { hashSecret } from './api-keys.js';
export { isFinalRun } from './states.js';
export { backoffDelayMs } from '../queue/backoff.js';
