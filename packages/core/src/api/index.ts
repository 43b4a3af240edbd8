// Public surface of the API schemas (`@tartarus/core`): one module per concern.
export * from './common.js';
export * from './sandboxes.js';
export * from './exec.js';
export * from './files.js';
export * from './runs.js';
export * from './admin.js';
export * from './registries.js';
export * from './ports.js';
export * from './network-policies.js';
export * from './agent-calls.js';
export * from './agent.js';
export * from './usage.js';
export * from './events.js';
export * from './secrets.js';
export * from './webhooks.js';
export * from './logs.js';
export * from './deployments.js';
