/** `tartarus import`: other formats turned into a deployment spec. */
import { Command } from 'commander';
import { composeCommand } from './compose.js';

/** Builds `tartarus import`. */
export function importCommand(): Command {
  return new Command('import')
    .description('turn another format into a deployment spec (ZLayer V1)')
    .addCommand(composeCommand());
}
