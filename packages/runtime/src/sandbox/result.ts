/** Results of a main process whose output was never captured (never started, or lost). */
import type { ExitReason, ProcessResult } from '../driver.js';

/**
 * A result with no exit code and no output: for a sandbox destroyed before it started, one whose
 * VM failed to boot, or one adopted after a restart. `startedAtMs` defaults to now (duration 0).
 */
export function emptyResult(reason: ExitReason, message?: string, startedAtMs?: number): ProcessResult {
  const now = Date.now();
  const started = startedAtMs ?? now;
  return {
    exitCode: null,
    reason,
    ...(message === undefined ? {} : { message }),
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutTruncated: false,
    stderrTruncated: false,
    startedAtMs: started,
    finishedAtMs: now,
    durationMs: now - started,
  };
}
