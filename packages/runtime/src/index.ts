export type * from './driver.js';
export type * from './templates/types.js';
