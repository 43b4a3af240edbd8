/** The quota flags shared by `tenants create` and `tenants update`. */
import type { Command } from 'commander';
import { InvalidArgumentError as FlagError } from 'commander';

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || text.trim() === '')
    throw new FlagError(`"${text}" is not a whole number ≥ 0`);
  return n;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size: a whole number of bytes, or one with a binary unit (`512MiB`, `1GiB`). */
export function byteSize(text: string): number {
  const m = /^(\d+)\s*(kib|mib|gib|tib)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (BYTE_UNITS[(m[2] ?? '').toLowerCase()] ?? NaN) : NaN;
  if (!Number.isSafeInteger(n))
    throw new FlagError(
      `"${text}" is not a size: give a whole number of bytes, or one with KiB, MiB, GiB or TiB (e.g. 512MiB)`,
    );
  return n;
}

/** Adds `--max-queued-runs`, `--max-sandboxes` and `--max-log-bytes`. */
export function withQuotaFlags(cmd: Command): Command {
  return cmd
    .option('--max-queued-runs <n>', 'most queued runs at once; more get HTTP 429', wholeNumber)
    .option('--max-sandboxes <n>', 'most live sandboxes at once', wholeNumber)
    .option(
      '--max-log-bytes <size>',
      'run output kept for the tenant (bytes, or e.g. 512MiB, 1GiB; default 1GiB); past it, output is dropped and flagged truncated',
      byteSize,
    );
}

/** Values of the quota flags. */
export interface QuotaOptions {
  maxQueuedRuns?: number;
  maxSandboxes?: number;
  maxLogBytes?: number;
}
