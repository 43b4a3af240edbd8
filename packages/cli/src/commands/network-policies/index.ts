/** `tartarus network-policies`: the tenant's named egress policies. */
import { Command } from 'commander';
import { createCommand } from './create.js';
import { lsCommand } from './ls.js';
import { rmCommand } from './rm.js';

/** Builds `tartarus network-policies`. */
export function networkPoliciesCommand(): Command {
  return new Command('network-policies')
    .alias('network-policy')
    .description('create, list and remove named egress policies (used with --network-policy NAME)')
    .addCommand(lsCommand())
    .addCommand(createCommand())
    .addCommand(rmCommand());
}
