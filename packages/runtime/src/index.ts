// Public surface of @tartarus/runtime. Each part appends its own export lines.
export type * from './driver.js';
export type * from './templates/types.js';
export * from './process/run.js';
export * from './templates/index.js';
