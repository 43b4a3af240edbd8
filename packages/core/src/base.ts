/**
 * The zod-free part of core: errors, HTTP status mapping, durations, states, ids and a seeded
 * random generator. The SDK and
 * the CLI import their runtime values from here (`@tartarus/core/base`), so that a CLI start does
 * not pay for loading zod and building every API schema (≈ 150 ms on a small machine); they
 * still take their types from `@tartarus/core` (types cost nothing at run time).
 */
export * from './errors.js';
export * from './http-status.js';
export * from './duration.js';
export * from './states.js';
export * from './ids.js';
export * from './image-ref.js';
export * from './tunnel.js';
export * from './websocket-auth.js';
export * from './event-types.js';
export * from './webhook-signature.js';
export * from './run-phases.js';
export * from './random.js';
