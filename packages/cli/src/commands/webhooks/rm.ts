/** `tartarus webhooks rm ID`: deletes a webhook and its delivery log. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions } from '../../options.js';

/** Builds `tartarus webhooks rm`. */
export function rmCommand(): Command {
  return new Command('rm')
    .alias('delete')
    .description('delete a webhook and its delivery log; needs an admin key')
    .argument('<id>', 'webhook id (whk_…)')
    .action(async (id: string, _o: unknown, self: Command) => {
      const o = allOptions<object>(self);
      await (await connect(o.dataDir)).webhooks.delete(id);
      process.stdout.write(`removed webhook ${id}\n`);
    });
}
