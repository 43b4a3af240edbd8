/** `tartarus nodes`: the machines that run sandboxes. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';

/** Builds `tartarus nodes`. */
export function nodesCommand(): Command {
  return new Command('nodes').alias('node').description('list nodes').addCommand(lsCommand());
}
