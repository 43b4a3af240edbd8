/** `tartarus nodes token`: agent tokens, each bound to one node. */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { lsCommand } from './ls.js';
import { revokeCommand } from './revoke.js';

/** Builds `tartarus nodes token`. */
export function tokenCommand(): Command {
  return new Command('token')
    .alias('tokens')
    .description('create, list and revoke agent tokens bound to one node')
    .addCommand(createCommand())
    .addCommand(lsCommand())
    .addCommand(revokeCommand());
}
