/** `tartarus runs`: queued runs. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';
import { getCommand } from './get.js';
import { cancelCommand } from './cancel.js';
import { logsCommand } from './logs.js';

/** Builds `tartarus runs`. */
export function runsCommand(): Command {
  return new Command('runs')
    .description('list, inspect, cancel runs and read their logs (submit with `tartarus run`)')
    .addCommand(lsCommand())
    .addCommand(getCommand())
    .addCommand(cancelCommand())
    .addCommand(logsCommand());
}
