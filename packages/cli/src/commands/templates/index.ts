/** `tartarus templates`: root filesystems sandboxes start from. */
import { Command } from 'commander';
import { lsCommand } from './ls.js';
import { buildCommand } from './build.js';

/** Builds `tartarus templates`. */
export function templatesCommand(): Command {
  return new Command('templates')
    .alias('template')
    .description('list and build templates')
    .addCommand(lsCommand())
    .addCommand(buildCommand());
}
