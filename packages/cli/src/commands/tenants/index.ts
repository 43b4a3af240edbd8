/** `tartarus tenants`: tenants and their quotas (admins of the bootstrap tenant). */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { lsCommand } from './ls.js';
import { getCommand } from './get.js';
import { updateCommand } from './update.js';

/** Builds `tartarus tenants`. */
export function tenantsCommand(): Command {
  return new Command('tenants')
    .alias('tenant')
    .description('create, list, show and update tenants')
    .addCommand(createCommand())
    .addCommand(lsCommand())
    .addCommand(getCommand())
    .addCommand(updateCommand());
}
