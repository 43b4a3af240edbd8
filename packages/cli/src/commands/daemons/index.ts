/** The daemons of distributed mode, in the foreground: `tartarus server` and `tartarus agent`. */
import type { Command } from 'commander';
import { serverCommand } from './server.js';
import { agentCommand } from './agent.js';

/** Builds `tartarus server` and `tartarus agent`. */
export function daemonCommands(): Command[] {
  return [serverCommand(), agentCommand()];
}
