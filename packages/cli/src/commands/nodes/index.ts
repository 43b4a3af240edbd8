/** `tartarus nodes`: the machines that run sandboxes, and their agents' tokens. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';
import { tokenCommand } from './token/index.js';

/** Builds `tartarus nodes`. */
export function nodesCommand(): Command {
  return new Command('nodes')
    .alias('node')
    .description("list nodes and manage their agents' tokens")
    .addCommand(lsCommand())
    .addCommand(tokenCommand());
}
