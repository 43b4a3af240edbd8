export * from './errors.js';
export * from './http-status.js';
export * from './duration.js';
export * from './states.js';
export * from './ids.js';
export * from './workload/index.js';
export * from './api/index.js';
