export * from './base.js';
export * from './workload/index.js';
export * from './api/index.js';
export * from './network.js';
export * from './egress-policy.js';
export * from './config-sources.js';
export * from './deploy/index.js';
