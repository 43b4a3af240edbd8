/**
 * How the CLI reports failure: one line `error: <message>` on stderr and a non-zero exit status
 * (2 for a usage mistake, 1 for anything else). A stack trace only with `TARTARUS_DEBUG=1`.
 */
import { TartarusError } from '@tartarus/sdk';

/** Thrown by a command when the user's invocation is wrong (bad flag value, missing argument): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown to end the process with a given status after the command printed what it had to (e.g. a workload's exit code). */
export class ExitStatus extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
    this.name = 'ExitStatus';
  }
}

/** Hint appended when no server answers. */
export const START_HINT = 'start one with `npx tartarus up`';

/** The one line printed for an error (without the `error: ` prefix). */
export function describeError(e: unknown): string {
  if (e instanceof TartarusError) {
    if (e.code === 'unavailable' && typeof e.context.url === 'string') {
      return `no Tartarus server found at ${e.context.url}: ${START_HINT}`;
    }
    if (e.code === 'unauthenticated')
      return `${e.message} (set TARTARUS_API_KEY, or use the admin key of \`tartarus up\`)`;
    return oneLine(e.message);
  }
  if (e instanceof Error) return oneLine(e.message);
  return oneLine(String(e));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

/** Exit status for an error: 2 for usage, 1 otherwise. */
export function exitStatusFor(e: unknown): number {
  if (e instanceof ExitStatus) return e.status;
  if (e instanceof UsageError) return 2;
  return 1;
}
