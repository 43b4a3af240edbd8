/**
 * `tartarus gc`: removes the sandboxes of this host that no data directory owns any more (their
 * processes, VMs and cgroups), e.g. after a data dir was deleted while its `up` was stopped.
 * Never touches a sandbox whose data dir exists (another `up`'s, running or stopped). Works on
 * the host directly (root), without a server; `tartarus up` does the same at every start.
 */
import { Command } from 'commander';
import { allOptions } from '../options.js';
import { printJson } from '../output.js';

interface GcOptions {
  json?: boolean;
}

/** Builds `tartarus gc`. */
export function gcCommand(): Command {
  return new Command('gc')
    .description('remove sandboxes on this host that no data directory owns any more, and the sandbox network once no live process uses it')
    .option('--json', 'print {sandboxes, processes, hostNetwork}')
    .action(async (_o: GcOptions, cmd: Command) => {
      const o = allOptions<GcOptions>(cmd);
      // Loaded only here: the runtime is not needed by the commands that talk to a server.
      const { collectOrphans } = await import('@tartarus/runtime');
      const collected = await collectOrphans();
      if (o.json) return printJson(collected);
      process.stdout.write(
        collected.sandboxes.length === 0
          ? 'nothing to remove: every sandbox on this host has an owner\n'
          : `removed ${collected.sandboxes.length} orphaned sandbox(es) (${collected.processes} processes): ${collected.sandboxes.join(', ')}\n`,
      );
      if (collected.hostNetwork) process.stdout.write('removed the sandbox bridge and nftables tables: no live process used them\n');
    });
}
