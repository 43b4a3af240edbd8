// Public surface of @tartarus/server.
export {
  startEmbedded,
  defaultDataDir,
  type EmbeddedOptions,
  type ClosedEmbedded,
  type EmbeddedHandle,
} from './embedded.js';
export { startServer, type StartServerOptions, type ServerHandle } from './server.js';
export {
  ServerConfigSchema,
  SERVER_OPTIONS,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from './config.js';
export type { Logger } from './context.js';
export { createLogger, LOG_LEVELS, type LogLevel } from './logging.js';
export { bootstrap, type BootstrapResult } from './bootstrap.js';
export { openStore } from './store/index.js';
export type { Store, StoreOptions } from './store/index.js';
export { slackSignatureProblem } from './integrations/slack/index.js';
export { triggerOf as githubTriggerOf } from './integrations/github/index.js';
