/** The quota flags shared by `tenants create` and `tenants update`. */
import type { Command } from 'commander';
import { InvalidArgumentError as FlagError } from 'commander';
import type { Egress, PatchTenantRequest } from '@tartarus/sdk';
import { egressSettingFlag } from '../../options.js';

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

/** A size above 0 (see `byteSize`), or `unset`: back to the server's `maxSnapshotBytes`. */
function snapshotBytes(text: string): number | 'unset' {
  if (text.trim() === 'unset') return 'unset';
  if (byteSize(text) > 0) return byteSize(text);
  throw new FlagError(`"${text}" is no room for snapshots: give a size above 0 (e.g. 10GiB), or unset for the server's`);
}

/** Adds `--max-queued-runs`, `--max-sandboxes`, `--max-log-bytes`, `--max-snapshot-bytes` and the network settings. */
export function withQuotaFlags(cmd: Command): Command {
  return cmd
    .option('--max-queued-runs <n>', 'most queued runs at once; more get HTTP 429', wholeNumber)
    .option('--max-sandboxes <n>', 'most live sandboxes at once', wholeNumber)
    .option(
      '--max-log-bytes <size>',
      'run output kept for the tenant (bytes, or e.g. 512MiB, 1GiB; default 1GiB); past it, output is dropped and flagged truncated',
      byteSize,
    )
    .option(
      '--max-snapshot-bytes <size>',
      "snapshots kept for the tenant (bytes, or e.g. 10GiB); past it, a snapshot is refused; unset: the server's maxSnapshotBytes (default 50GiB)",
      snapshotBytes,
    )
    .option(
      '--max-egress <policy>',
      'the most any of its work may reach: none, all, or destinations separated by commas (CIDRs cover addresses inside them, names only themselves); unset: no maximum',
      egressSettingFlag,
    )
    .option(
      '--default-sandbox-egress <policy>',
      "egress of its sandboxes that ask for none (within --max-egress); unset: the platform's (all, within the maximum)",
      egressSettingFlag,
    )
    .option(
      '--default-run-egress <policy>',
      "egress of its runs that ask for none (within --max-egress); unset: the platform's (none)",
      egressSettingFlag,
    );
}

/** The network fields of the flags given. */
export function networkFields(o: QuotaOptions): Pick<PatchTenantRequest, 'maxEgress' | 'defaultSandboxEgress' | 'defaultRunEgress'> {
  const value = (v: Egress | 'unset') => (v === 'unset' ? null : v);
  return {
    ...(o.maxEgress === undefined ? {} : { maxEgress: value(o.maxEgress) }),
    ...(o.defaultSandboxEgress === undefined ? {} : { defaultSandboxEgress: value(o.defaultSandboxEgress) }),
    ...(o.defaultRunEgress === undefined ? {} : { defaultRunEgress: value(o.defaultRunEgress) }),
  };
}

/** The snapshot quota of the flags given (`unset`: null, the server's). */
export function snapshotFields(o: QuotaOptions): Pick<PatchTenantRequest, 'maxSnapshotBytes'> {
  if (o.maxSnapshotBytes === undefined) return {};
  return { maxSnapshotBytes: o.maxSnapshotBytes === 'unset' ? null : o.maxSnapshotBytes };
}

/** Values of the quota flags. */
export interface QuotaOptions {
  maxQueuedRuns?: number;
  maxSandboxes?: number;
  maxLogBytes?: number;
  maxSnapshotBytes?: number | 'unset';
  maxEgress?: Egress | 'unset';
  defaultSandboxEgress?: Egress | 'unset';
  defaultRunEgress?: Egress | 'unset';
}
