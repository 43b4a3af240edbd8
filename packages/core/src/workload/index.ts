// The workload engine's shared vocabulary: defaults, the compiled spec, and compile.
export * from './defaults.js';
export * from './spec.js';
export * from './compile.js';
