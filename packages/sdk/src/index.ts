/**
 * `@tartarus/sdk`: the typed client of the Tartarus API. The CLI and the dashboard use only this.
 *
 * ```ts
 * const sbx = await Sandbox.create({ template: 'python' });
 * const r = await sbx.commands.run('python3 -c "print(1)"', { onStdout: (d) => process.stdout.write(d) });
 * await sbx.kill();
 * const run = await new Tartarus().runs.submit({ argv: ['echo', 'hi'] }, { wait: true });
 * ```
 */
import { Runs } from './runs.js';
import { envTransport } from './connection.js';

export { Tartarus, Sandboxes } from './client.js';
export { Sandbox, type SandboxCreateOptions } from './sandbox.js';
export { Commands, type CommandOptions, type CommandResult } from './commands.js';
export { CommandHandle } from './command-handle.js';
export { Files, type WriteOptions } from './files.js';
export { Runs, FINAL_RUN_STATES, type SubmitOptions } from './runs.js';
/**
 * Runs on the server named by `TARTARUS_URL` / `TARTARUS_API_KEY` (read at the first call):
 * `await runs.submit({ argv: ['echo', 'hi'] }, { wait: true })`, `await runs.wait(id)`. For another
 * server or key, use `new Tartarus({ url, apiKey }).runs`.
 */
export const runs: Runs = new Runs(envTransport());
export { ApiKeys, Audit, Nodes, NodeTokens, Tenants } from './admin.js';
export { Templates, type TemplateProgressOptions } from './templates.js';
export { Registries } from './registries.js';
export { Usage } from './usage.js';
export { Events, type EventOptions } from './events.js';
export { Secrets } from './secrets.js';
export { Webhooks } from './webhooks.js';
export {
  verifyWebhookSignature,
  parseWebhookSignature,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SEC,
  type WebhookSignatureHeader,
} from '@tartarus/core/base';
export { Integrations, type IntegrationInfo } from './integrations.js';
export { Deployments, envNamesOf, type ApplyOptions, type DeploymentEventOptions, type DeploymentExecOptions } from './deployments.js';
export { Logs } from './logs.js';
export { Snapshots } from './snapshots.js';
export { NetworkPolicies } from './network-policies.js';
export { DEFAULT_URL, type ConnectionOptions } from './connection.js';
export type { Transport, RequestOptions, FetchLike, HttpResponse, HttpRequestInit } from './http.js';
export * from './errors.js';
export type * from './types.js';
