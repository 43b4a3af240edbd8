/**
 * The scheduler's pure decision logic (no I/O, no store), exported as `@tartarus/server/scheduler`
 * so the benchmark and tests outside the server use exactly what the server runs.
 */
export * from './resources.js';
export * from './placement.js';
export * from './fair-share.js';
export { BinaryHeap, type Before } from './heap.js';
