export { WarmPools, poolKey, type PoolConfig, type PoolStats } from './pool.js';
export { ClaimedSandbox } from './claimed.js';
