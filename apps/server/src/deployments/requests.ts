/**
 * A service of a deployment as a run request: the image or built-in template, the command
 * (ZLayer's entrypoint and args, with Docker's override rules; wrapped to run the init steps
 * first when there are any), workdir, environment (tenant
 * secrets resolved now), limits and node selector. A service's replica runs until it is stopped
 * (its timeout is far beyond a run's); a job's and a cron's runs have a run's default timeout.
 */
import type { RunRequest, ServicePlan } from '@tartarus/core';
import type { SecretVault } from '../secrets/vault.js';
import { initWrapper } from './init.js';

/** How long a service replica may run before it is restarted anyway: 20 days (timers hold at most 24.8). */
export const REPLICA_TIMEOUT_MS = 20 * 86_400_000;
/** Infrastructure failures (a node lost) a replica's run survives. */
const REPLICA_ATTEMPTS = 3;

/** The run request of one replica (or one job or cron run) of `svc`. */
export async function runRequestOf(tenantId: string, svc: ServicePlan, secrets: SecretVault): Promise<RunRequest> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.env)) env[k] = 'value' in v ? v.value : await secrets.reveal(tenantId, v.secret);
  const template = svc.image.startsWith('template:') ? svc.image.slice('template:'.length) : undefined;
  // A built-in template has no ENTRYPOINT of its own: the entrypoint is the command's start.
  let command = template !== undefined ? [...(svc.entrypoint ?? []), ...(svc.args ?? [])] : (svc.args ?? []);
  let entrypoint = template === undefined ? svc.entrypoint : null;
  // Init steps: a shell runs them, then execs the main command (init.ts; loadPlan made sure it is written out).
  if (svc.init.length > 0 && template !== undefined) command = [...initWrapper(svc.init), ...command];
  else if (svc.init.length > 0) [entrypoint, command] = [initWrapper(svc.init), [...(svc.entrypoint ?? []), ...command]];
  return {
    ...(template !== undefined ? { template } : { image: svc.image }),
    ...(entrypoint !== null ? { entrypoint } : {}),
    ...(command.length > 0 ? { argv: command } : {}),
    ...(svc.workdir === null ? {} : { cwd: svc.workdir }),
    env,
    ...(svc.cpu === null && svc.memoryMiB === null ? {} : { limits: { ...(svc.cpu === null ? {} : { cpu: svc.cpu }), ...(svc.memoryMiB === null ? {} : { memoryMiB: svc.memoryMiB }) } }),
    ...(Object.keys(svc.nodeSelector).length === 0 ? {} : { nodeSelector: svc.nodeSelector }),
    // Services reach out (and are reached through the proxy); what a job may reach is the same.
    egress: 'all',
    ...(svc.kind === 'service' ? { timeoutMs: REPLICA_TIMEOUT_MS, maxAttempts: REPLICA_ATTEMPTS } : {}),
  };
}
