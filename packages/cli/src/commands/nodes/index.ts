/** `tartarus nodes`: the machines that run sandboxes, and their agents' tokens. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';
import { poolsCommand } from './pools.js';
import { tokenCommand } from './token/index.js';
import { schedulingCommands } from './scheduling.js';

/** Builds `tartarus nodes`. */
export function nodesCommand(): Command {
  const cmd = new Command('nodes')
    .alias('node')
    .description("list nodes and their warm pools, cordon and drain them, and manage their agents' tokens")
    .addCommand(lsCommand())
    .addCommand(poolsCommand())
    .addCommand(tokenCommand());
  for (const c of schedulingCommands()) cmd.addCommand(c);
  return cmd;
}
