/** Builds the `startRun` message an agent receives for a lease. */
import type { ServerMessage } from '@tartarus/core';
import { resolveLimits } from '../http/convert.js';
import type { RunSpec } from '../store/index.js';

/** The agent's sandbox id for an attempt: derivable from run and epoch, valid as a runtime id. */
function attemptSandboxId(runId: string, epoch: number): string {
  return `r${runId.toLowerCase().replace(/[^a-z0-9]/g, '')}-${epoch}`.slice(0, 63);
}

/** The `startRun` message for a lease of `runId` at `epoch`. */
export function runStartMessage(runId: string, epoch: number, spec: RunSpec): ServerMessage {
  const stdin = typeof spec['stdin'] === 'string' ? spec['stdin'] : undefined;
  return {
    type: 'startRun',
    runId,
    epoch,
    spec: {
      sandboxId: attemptSandboxId(runId, epoch),
      argv: spec.command,
      env: spec.env ?? {},
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      ...(typeof spec['user'] === 'string' ? { user: spec['user'] } : {}),
      template: spec.template ?? 'busybox',
      runtime: spec.runtime ?? 'container',
      limits: resolveLimits(spec.limits),
      timeoutMs: spec.timeoutMs ?? 600_000,
      ...(stdin === undefined ? {} : { stdin: Buffer.from(stdin, 'utf8').toString('base64') }),
    },
  };
}
