// The microvm driver's public surface.
export { MicrovmDriver, type MicrovmDriverOptions } from './driver.js';
export type { AccelOption } from './accel.js';
export type { Accel } from './argv.js';
export { bareBaseline, type BareBaseline } from './baseline.js';
