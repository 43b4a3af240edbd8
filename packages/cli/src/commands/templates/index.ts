/** `tartarus templates`: root filesystems sandboxes start from, built-in or the tenant's own. */
import { Command } from 'commander';
import { buildCommand } from './build.js';
import { createCommand } from './create.js';
import { getCommand } from './get.js';
import { lsCommand } from './ls.js';
import { rebuildCommand } from './rebuild.js';
import { rmCommand } from './rm.js';

/** Builds `tartarus templates`. */
export function templatesCommand(): Command {
  return new Command('templates')
    .alias('template')
    .description('list, create (from images and Dockerfiles), build and delete templates')
    .addCommand(lsCommand())
    .addCommand(getCommand())
    .addCommand(createCommand())
    .addCommand(buildCommand())
    .addCommand(rebuildCommand())
    .addCommand(rmCommand());
}
