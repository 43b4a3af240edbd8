/** `tartarus keys`: API keys. */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { lsCommand } from './ls.js';
import { revokeCommand } from './revoke.js';

/** Builds `tartarus keys`. */
export function keysCommand(): Command {
  return new Command('keys')
    .alias('api-keys')
    .description('create, list and revoke API keys')
    .addCommand(createCommand())
    .addCommand(lsCommand())
    .addCommand(revokeCommand());
}
