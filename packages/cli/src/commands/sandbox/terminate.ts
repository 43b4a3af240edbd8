/**
 * `tartarus sandbox terminate ID [--in D] [--grace D] [--reason R] | --cancel`: end a sandbox
 * gracefully, now or later; or call off a pending termination.
 */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { UsageError } from '../../errors.js';
import { allOptions, durationFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

/** Builds `tartarus sandbox terminate`. */
export function terminateCommand(): Command {
  const cmd = new Command('terminate')
    .description('end a sandbox gracefully: SIGTERM to its workload, SIGKILL after the grace; now, or later with --in (cancellable)')
    .argument('<id>', 'sandbox id')
    .option('--in <duration>', 'begin this long from now (e.g. 10m); pending until then', durationFlag)
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL (default 10s)', durationFlag)
    .option('--reason <text>', 'why: recorded in the sandbox’s exit')
    .option('--snapshot', "keep its files as a snapshot just before it ends (resume with sandbox create --snapshot)")
    .option('--cancel', 'call off its pending termination');
  return withJson(cmd).action(async (id: string, _o: unknown, self: Command) => {
    const o = allOptions<{ json?: boolean; in?: number; grace?: number; reason?: string; snapshot?: boolean; cancel?: boolean }>(self);
    if (o.cancel && (o.in !== undefined || o.grace !== undefined || o.reason !== undefined || o.snapshot)) {
      throw new UsageError('--cancel takes no --in, --grace or --reason (nor --snapshot): it only calls off the pending termination');
    }
    const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
    const info = o.cancel
      ? await sandbox.cancelTermination()
      : await sandbox.terminate({
          ...(o.in === undefined ? {} : { delayMs: o.in }),
          ...(o.grace === undefined ? {} : { graceMs: o.grace }),
          ...(o.reason === undefined ? {} : { reason: o.reason }),
          ...(o.snapshot ? { snapshot: true } : {}),
        });
    if (o.json) return printJson(info);
    const t = info.termination;
    const kept = info.finalSnapshotId ? `, files kept as snapshot ${info.finalSnapshotId}` : '';
    process.stdout.write(t ? `${info.id} ${info.state}, terminating at ${t.at}${t.snapshot ? ' (files kept first)' : ''}\n` : `${info.id} ${info.state}${kept}\n`);
  });
}
