/** `tartarus logs`: the logs the server keeps (runs' output, sandboxes' lifecycle lines), searched. */
import { Command } from 'commander';
import { searchCommand } from './search.js';
import { deploymentLogsCommand } from '../deploy/logs.js';

/** Builds `tartarus logs`. */
export function logsCommand(): Command {
  return new Command('logs')
    .description("search the logs the server keeps: runs' output and sandboxes' lifecycle lines (one run's whole output: `tartarus runs logs ID`)")
    .addCommand(searchCommand())
    // `tartarus logs DEPLOYMENT SERVICE [-f]` (ZLayer's verb) when the first word is not `search`.
    .addCommand(deploymentLogsCommand(), { isDefault: true });
}
