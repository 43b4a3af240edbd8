/** The quota flags shared by `tenants create` and `tenants update`. */
import type { Command } from 'commander';
import { InvalidArgumentError as FlagError } from 'commander';

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || text.trim() === '')
    throw new FlagError(`"${text}" is not a whole number ≥ 0`);
  return n;
}

/** Adds `--max-queued-runs` and `--max-sandboxes`. */
export function withQuotaFlags(cmd: Command): Command {
  return cmd
    .option('--max-queued-runs <n>', 'most queued runs at once; more get HTTP 429', wholeNumber)
    .option('--max-sandboxes <n>', 'most live sandboxes at once', wholeNumber);
}

/** Values of the quota flags. */
export interface QuotaOptions {
  maxQueuedRuns?: number;
  maxSandboxes?: number;
}
