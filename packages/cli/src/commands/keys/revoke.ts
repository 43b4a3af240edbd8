/** `tartarus keys revoke ID`: revokes an API key. */
import { Command } from 'commander';
import { connect } from '../../connection.js';
import { allOptions } from '../../options.js';

/** Builds `tartarus keys revoke`. */
export function revokeCommand(): Command {
  return new Command('revoke')
    .description('revoke an API key; calls with it fail from now on')
    .argument('<id>', 'key id')
    .action(async (id: string, _o: unknown, self: Command) => {
      const o = allOptions<object>(self);
      await (await connect(o.dataDir)).apiKeys.revoke(id);
      process.stdout.write(`revoked ${id}\n`);
    });
}
