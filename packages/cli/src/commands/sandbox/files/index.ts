/** `tartarus sandbox files`: the file-system commands. */
import { Command } from 'commander';
import { readCommand } from './read.js';
import { writeCommand } from './write.js';
import { lsCommand } from './ls.js';
import { rmCommand } from './rm.js';

/** Builds `tartarus sandbox files`. */
export function filesCommand(): Command {
  return new Command('files')
    .description('read, write, list and remove files in a sandbox')
    .addCommand(readCommand())
    .addCommand(writeCommand())
    .addCommand(lsCommand())
    .addCommand(rmCommand());
}
