// Public surface of @tartarus/agent.
export { Agent, type AgentLogger } from './agent.js';
export {
  AgentConfigSchema,
  AGENT_OPTIONS,
  parseAgentConfig,
  parsePoolList,
  type AgentConfig,
  type AgentConfigInput,
} from './config.js';
export type { AgentRuntime, StartOptions, TemplateReport, BuildProgress } from './runtime-port.js';
export { RuntimeAdapter } from './runtime-adapter.js';
export { agentNetworkOptions, controlPlaneDeny, type NetworkOptions } from './control-plane.js';
