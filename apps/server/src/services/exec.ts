/**
 * Exec in a running sandbox through its agent: the request becomes an `exec` operation; output
 * arrives as `event`s, the result as the reply.
 */
import type { AgentProcessResult, ExecRequestSchema, ExecResult } from '@tartarus/core';
import type { z } from 'zod';
import type { AgentHub } from '../agents/hub.js';
import type { Sandbox } from '../store/index.js';

/** A chunk of exec output. */
export interface ExecOutput {
  stream: 'stdout' | 'stderr';
  data: string;
  timeMs: number;
}

/** An agent's process result as the API's ExecResult. */
function execResultOf(r: AgentProcessResult): ExecResult {
  return {
    exitCode: r.exitCode,
    reason: r.reason,
    ...(r.message === undefined ? {} : { message: r.message }),
    stdout: r.stdout,
    stderr: r.stderr,
    stdoutTruncated: r.stdoutTruncated,
    stderrTruncated: r.stderrTruncated,
    durationMs: r.durationMs,
  };
}

/**
 * Starts an exec in `sandbox` (as `SandboxService.requireRunning` returned it) and resolves with
 * its result; `onOutput` sees every chunk as produced.
 */
export async function runExec(
  hub: AgentHub,
  sandbox: Pick<Sandbox, 'id' | 'nodeId'>,
  req: z.output<typeof ExecRequestSchema>,
  options: {
    interactive?: boolean;
    onOutput?: (o: ExecOutput) => void;
    onStarted?: (execId: string) => void;
  } = {},
): Promise<ExecResult> {
  const result = await hub.call(
    sandbox.nodeId,
    'exec',
    {
      sandboxId: sandbox.id,
      process: {
        ...(req.argv === undefined ? {} : { argv: req.argv }),
        ...(req.command === undefined ? {} : { command: req.command }),
        env: req.env ?? {},
        ...(req.cwd === undefined ? {} : { cwd: req.cwd }),
        ...(req.user === undefined ? {} : { user: req.user }),
      },
      timeoutMs: req.timeoutMs,
      ...(req.stdin === undefined
        ? {}
        : { stdin: Buffer.from(req.stdin, 'utf8').toString('base64') }),
      interactive: options.interactive ?? false,
    },
    {
      // The exec's own timeout bounds it; 0 (none) waits as long as it runs.
      timeoutMs: req.timeoutMs === 0 ? 0 : req.timeoutMs + 30_000,
      onEvent: (e) => {
        if (e.event === 'output') options.onOutput?.(e.data);
        else options.onStarted?.(e.data.execId);
      },
    },
  );
  return execResultOf(result);
}
