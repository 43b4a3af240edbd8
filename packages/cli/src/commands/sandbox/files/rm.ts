/** `tartarus sandbox files rm ID PATH`: removes a file (or a directory with -r). */
import { Command } from 'commander';
import { connect } from '../../../connection.js';
import { allOptions } from '../../../options.js';

/** Builds `tartarus sandbox files rm`. */
export function rmCommand(): Command {
  return new Command('rm')
    .description('remove a file of the sandbox')
    .argument('<id>', 'sandbox id')
    .argument('<path>', 'absolute path inside the sandbox')
    .option('-r, --recursive', 'remove a directory and its contents')
    .action(async (id: string, path: string, _o: unknown, self: Command) => {
      const o = allOptions<{ recursive?: boolean }>(self);
      const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
      await sandbox.files.remove(path, { recursive: o.recursive });
    });
}
