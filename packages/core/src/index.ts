export * from './errors.js';
export * from './http-status.js';
export * from './duration.js';
export * from './api/index.js';
