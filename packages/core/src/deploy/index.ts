// Deployments (`@tartarus/core/deploy`, also re-exported by `@tartarus/core`): the ZLayer V1 spec,
// its parser and compiler, the compiled plan, and the Compose importer.
export * from './plan.js';
export * from './spec.js';
export * from './source.js';
export * from './units.js';
export * from './parse.js';
export * from './checks.js';
export * from './compile.js';
export * from './load.js';
export * from './compose.js';
